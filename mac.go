package ipdesk

import (
	"encoding/hex"
	"strings"
)

// MAC is an Ethernet (EUI-48) hardware address. The zero value means "no
// MAC"; it is never a valid address of a host.
type MAC [6]byte

// ParseMAC parses s in any of the forms administrators paste:
// aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff and aabbccddeeff.
// Surrounding blanks are ignored. The all-zero and broadcast addresses are
// refused. The error names the field "mac" and quotes the input.
func ParseMAC(s string) (MAC, error) {
	var m MAC
	t := strings.TrimSpace(s)
	var digits string
	switch {
	case len(t) == 17 && (t[2] == ':' || t[2] == '-'):
		sep := t[2]
		for i := 2; i < 17; i += 3 {
			if t[i] != sep {
				return m, macError(s)
			}
		}
		digits = strings.ReplaceAll(t, string(sep), "")
	case len(t) == 14 && t[4] == '.' && t[9] == '.':
		digits = t[0:4] + t[5:9] + t[10:14]
	case len(t) == 12:
		digits = t
	default:
		return m, macError(s)
	}
	if len(digits) != 12 {
		return m, macError(s)
	}
	if _, err := hex.Decode(m[:], []byte(digits)); err != nil {
		return MAC{}, macError(s)
	}
	if m == (MAC{}) {
		return MAC{}, FieldErrorf(EINVALID, "mac", "mac %q is the all-zero address, which no host has", s)
	}
	if m == (MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
		return MAC{}, FieldErrorf(EINVALID, "mac", "mac %q is the broadcast address, which no host has", s)
	}
	return m, nil
}

func macError(s string) error {
	return FieldErrorf(EINVALID, "mac", "mac %q is not a MAC address (use aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff)", clip(s))
}

// IsMulticast reports whether m is a group address (multicast, or the
// broadcast address ff:ff:ff:ff:ff:ff): the lowest bit of its first octet
// is set. No network card sends one as its own, so no DHCP client has it.
func (m MAC) IsMulticast() bool { return m[0]&1 == 1 }

// IsZero reports whether m is unset.
func (m MAC) IsZero() bool { return m == MAC{} }

// String returns m in the canonical form aa:bb:cc:dd:ee:ff, or "" when unset.
func (m MAC) String() string {
	if m.IsZero() {
		return ""
	}
	const hexdigits = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexdigits[x>>4], hexdigits[x&0xf])
	}
	return string(b)
}

// MarshalText implements encoding.TextMarshaler.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" gives the zero MAC.
func (m *MAC) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = MAC{}
		return nil
	}
	v, err := ParseMAC(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// clip shortens s for quoting in a message, so that a megabyte of input
// does not become a megabyte of error.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) > max {
		r = r[:max]
	}
	return string(r) + "…"
}
