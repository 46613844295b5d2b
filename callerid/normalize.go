// Package callerid turns what a PBX reports about a call to the support
// line into an entry of the call log and a live event for the helpdesk:
// it normalises the caller's number by the dialling rules of the site
// (Config), matches it against the phone numbers of rooms and hosts, has
// the store record it, and publishes the recorded events, in the order of
// their ids, to a live.Broker. With PostgreSQL the events recorded by other
// instances arrive through LISTEN/NOTIFY and are published the same way.
package callerid

import (
	"fmt"
	"strings"

	"ipdesk"
)

// Config holds the dialling rules of the site. Nothing about them is built
// in: a German site sets CountryCode "49", InternationalPrefix "00",
// TrunkPrefix "0"; a Russian one "7", "810", "8".
type Config struct {
	// CountryCode is the site's country calling code, digits without
	// "+" ("49"). Without it national numbers cannot be written in
	// international form and are kept as dialled.
	CountryCode string
	// InternationalPrefix is dialled before a country code ("00", "810").
	InternationalPrefix string
	// TrunkPrefix is dialled before a national number ("0", "8").
	TrunkPrefix string
	// ExtensionDigits is the length of the internal extensions; numbers
	// of at most this many digits are extensions, and the extension match
	// compares the last this many digits. 0: no extensions.
	ExtensionDigits int
}

// Limits of the rules and of the numbers.
const (
	// MaxNumberText is the longest text read as a phone number; a longer
	// one is unknown without being looked at further.
	MaxNumberText = ipdesk.MaxPhoneLen
	// maxDigits is the most digits a number may have, prefixes included.
	maxDigits = 20
	// E.164 numbers have at most 15 digits; fewer than 7 is no
	// international number either.
	minE164, maxE164 = 7, 15
	// MaxExtensionDigits bounds Config.ExtensionDigits.
	MaxExtensionDigits = 8
)

// Check checks the rules; errors name the config key and quote the value.
func (c Config) Check() error {
	for _, f := range []struct {
		key, value string
		max        int
	}{
		{"country_code", c.CountryCode, 3},
		{"international_prefix", c.InternationalPrefix, 4},
		{"trunk_prefix", c.TrunkPrefix, 2},
	} {
		if len(f.value) > f.max || strings.Trim(f.value, "0123456789") != "" {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, f.key, "%s %q is not 1 to %d digits", f.key, f.value, f.max)
		}
	}
	if strings.HasPrefix(c.CountryCode, "0") {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "country_code", "country_code %q starts with 0; no country code does", c.CountryCode)
	}
	if c.TrunkPrefix != "" && c.TrunkPrefix == c.InternationalPrefix {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "trunk_prefix", "trunk_prefix %q is the international prefix too", c.TrunkPrefix)
	}
	if c.ExtensionDigits < 0 || c.ExtensionDigits > MaxExtensionDigits {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "extension_digits", "extension_digits %d is outside 0..%d", c.ExtensionDigits, MaxExtensionDigits)
	}
	return nil
}

// String describes the rules for the log.
func (c Config) String() string {
	return fmt.Sprintf("country code %q, international prefix %q, trunk prefix %q, %d-digit extensions",
		c.CountryCode, c.InternationalPrefix, c.TrunkPrefix, c.ExtensionDigits)
}

// Normalize reads a caller-ID number. It never fails: whatever is not a
// phone number is NumberUnknown, with Raw kept (bounded) for the record.
//
// A number is ASCII digits with the separators blank, "-", ".", "/" and
// brackets, and an optional leading "+". "(0)" (or the trunk prefix in
// brackets) after the country code is dropped, as in "+49 (0)3591 12345".
// Then, in this order: "+" or the international prefix makes an
// international number; at most ExtensionDigits digits are an extension;
// the trunk prefix makes a national number, written in international form
// with the country code; other digits are a national number where there is
// no trunk prefix, and a local number otherwise.
//
// Unknown are: the empty text, words ("anonymous", "unknown",
// "restricted"), any other character (letters, "<", "*", "#", control
// characters such as CR and LF), more than MaxNumberText bytes or 20
// digits, and digits outside ASCII. Arabic-Indic (٠١٢) or fullwidth (０１２)
// digits are not converted: no PBX sends them, and reading them as digits
// would let a look-alike text match a stored number.
func (c Config) Normalize(raw string) ipdesk.PhoneNumber {
	n := ipdesk.PhoneNumber{Raw: ipdesk.BoundRaw(raw), Kind: ipdesk.NumberUnknown}
	if len(raw) > MaxNumberText {
		return n
	}
	s := strings.Trim(raw, " ")
	var d []byte
	plus := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '9':
			d = append(d, ch)
		case ch == '+' && i == 0:
			plus = true
		case ch == '(' && len(d) > 0 && c.droppedTrunk(s[i:]) > 0:
			i += c.droppedTrunk(s[i:]) - 1
		case ch == ' ' || ch == '-' || ch == '.' || ch == '/' || ch == '(' || ch == ')':
		default:
			return n
		}
	}
	if len(d) == 0 || len(d) > maxDigits {
		return n
	}
	digits := string(d)
	ext := c.ExtensionDigits
	var e164 string
	switch {
	case plus:
		e164 = digits
	case ext > 0 && len(digits) <= ext:
		n.Number, n.Kind = digits, ipdesk.NumberExtension
		return n
	case c.InternationalPrefix != "" && strings.HasPrefix(digits, c.InternationalPrefix):
		e164 = digits[len(c.InternationalPrefix):]
	case c.TrunkPrefix != "" && strings.HasPrefix(digits, c.TrunkPrefix):
		if c.CountryCode == "" {
			n.Number, n.Kind = digits, ipdesk.NumberLocal
			return n
		}
		e164 = c.CountryCode + digits[len(c.TrunkPrefix):]
	case c.TrunkPrefix == "" && c.CountryCode != "":
		e164 = c.CountryCode + digits
	default:
		n.Number, n.Kind = digits, ipdesk.NumberLocal
		return n
	}
	if len(e164) < minE164 || len(e164) > maxE164 || e164[0] == '0' {
		return n
	}
	n.Number, n.Kind = "+"+e164, ipdesk.NumberInternational
	return n
}

// droppedTrunk returns the length of the "(0)" (or bracketed trunk
// prefix) that s starts with, 0 if none.
func (c Config) droppedTrunk(s string) int {
	for _, t := range []string{"0", c.TrunkPrefix} {
		if t != "" && strings.HasPrefix(s, "("+t+")") {
			return len(t) + 2
		}
	}
	return 0
}

// domestic returns the national significant number of an international
// number of the site's own country, and whether it is one.
func (c Config) domestic(n ipdesk.PhoneNumber) (string, bool) {
	if n.Kind != ipdesk.NumberInternational || c.CountryCode == "" {
		return "", false
	}
	return strings.CutPrefix(n.Number[1:], c.CountryCode)
}

// fullQuery returns the digit strings under which a stored phone number
// would be the same number as n: the stored numbers are free text, written
// as "+49 3591 12345", "0049 3591 12345", "03591 12345" or
// "+49 (0)3591 12345", and are compared by their digits.
func (c Config) fullQuery(n ipdesk.PhoneNumber) ipdesk.PhoneQuery {
	switch n.Kind {
	case ipdesk.NumberExtension, ipdesk.NumberLocal:
		return ipdesk.PhoneQuery{Digits: []string{n.Number}}
	case ipdesk.NumberInternational:
	default:
		return ipdesk.PhoneQuery{}
	}
	e164 := n.Number[1:]
	forms := []string{e164}
	if c.InternationalPrefix != "" {
		forms = append(forms, c.InternationalPrefix+e164)
	}
	if nsn, ok := c.domestic(n); ok {
		if t := c.TrunkPrefix; t != "" {
			forms = append(forms, t+nsn, c.CountryCode+t+nsn)
			if c.InternationalPrefix != "" {
				forms = append(forms, c.InternationalPrefix+c.CountryCode+t+nsn)
			}
		} else {
			forms = append(forms, nsn)
		}
	}
	return ipdesk.PhoneQuery{Digits: forms}
}

// extensionQuery returns the query of the extension match, tried when the
// full match found nothing: a caller's extension matches the stored
// numbers that end with it, and a number of the site's own country or a
// local one matches the stored extensions equal to its last
// ExtensionDigits digits. ok is false when there is no extension match to
// try (no extensions configured, a foreign or unknown number, an extension
// shorter than ExtensionDigits).
func (c Config) extensionQuery(n ipdesk.PhoneNumber) (q ipdesk.PhoneQuery, ok bool) {
	ext := c.ExtensionDigits
	if ext == 0 {
		return q, false
	}
	var digits string
	switch n.Kind {
	case ipdesk.NumberExtension:
		if len(n.Number) != ext {
			return q, false
		}
		return ipdesk.PhoneQuery{Suffix: n.Number}, true
	case ipdesk.NumberLocal:
		digits = n.Number
	case ipdesk.NumberInternational:
		nsn, domestic := c.domestic(n)
		if !domestic {
			return q, false
		}
		digits = nsn
	default:
		return q, false
	}
	if len(digits) <= ext {
		return q, false
	}
	return ipdesk.PhoneQuery{Digits: []string{digits[len(digits)-ext:]}}, true
}
