package ipdesk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits of free-text fields, in characters.
const (
	MaxNameLen        = 100
	MaxDescriptionLen = 1000
	MaxOwnerLen       = 200
	MaxPhoneLen       = 64
	MaxHostnameLen    = 253
	MaxLabelLen       = 63
)

// ValidateText checks a free-text field: valid UTF-8, no control characters
// (CR, LF, NUL, TAB …), at most max characters. The error names the field and
// quotes the value.
func ValidateText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		return FieldErrorf(EINVALID, field, "%s %q is not valid UTF-8", field, clip(s))
	}
	if n := utf8.RuneCountInString(s); n > max {
		return FieldErrorf(EINVALID, field, "%s is %d characters long; at most %d are allowed", field, n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return FieldErrorf(EINVALID, field, "%s %q contains the control character %U; line breaks, tabs and other control characters are not allowed", field, clip(s), r)
		}
	}
	return nil
}

// ValidateName checks a required name field: like ValidateText, and not
// blank.
func ValidateName(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return FieldErrorf(EINVALID, field, "%s is required", field)
	}
	if s != strings.TrimSpace(s) {
		return FieldErrorf(EINVALID, field, "%s %q has leading or trailing blanks", field, clip(s))
	}
	return ValidateText(field, s, MaxNameLen)
}

// ValidateHostname checks a host name against RFC 1123: labels of letters,
// digits and hyphens, not starting or ending with a hyphen, separated by
// single dots, each at most 63 characters, the whole at most 253. The empty
// name is allowed (no host name).
func ValidateHostname(s string) error {
	const field = "hostname"
	if s == "" {
		return nil
	}
	if len(s) > MaxHostnameLen {
		return FieldErrorf(EINVALID, field, "hostname is %d characters long; at most %d are allowed", len(s), MaxHostnameLen)
	}
	for i, label := range strings.Split(s, ".") {
		if label == "" {
			if i == 0 {
				return FieldErrorf(EINVALID, field, "hostname %q starts with a dot or has an empty label", clip(s))
			}
			return FieldErrorf(EINVALID, field, "hostname %q has an empty label (two dots in a row, or a dot at the end)", clip(s))
		}
		if len(label) > MaxLabelLen {
			return FieldErrorf(EINVALID, field, "hostname %q has a label of %d characters; at most %d are allowed", clip(s), len(label), MaxLabelLen)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return FieldErrorf(EINVALID, field, "hostname %q has a label %q that starts or ends with a hyphen", clip(s), label)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return FieldErrorf(EINVALID, field, "hostname %q contains %q; only letters a-z, digits, hyphens and dots between labels are allowed", clip(s), string(r))
			}
		}
	}
	return nil
}

// ValidatePhone checks a phone number field: free text of at most
// MaxPhoneLen characters made of digits, blanks and + - ( ) / . characters.
func ValidatePhone(field, s string) error {
	if err := ValidateText(field, s, MaxPhoneLen); err != nil {
		return err
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || strings.ContainsRune(" +-()/.", r)) {
			return FieldErrorf(EINVALID, field, "%s %q contains %q; use digits, blanks and + - ( ) / .", field, clip(s), string(r))
		}
	}
	return nil
}
