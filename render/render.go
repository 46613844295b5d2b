// Package render writes the configuration files that ipdesk puts into
// service: ISC dhcpd host declarations, Kea DHCPv4 and DHCPv6 reservation
// fragments, a dnsmasq dhcp-hostsfile, and squid ACL lists (per access
// level, and of blocked rooms).
//
// Every writer is a pure function: data in, bytes out. It does no I/O,
// reads no clock and sorts what it writes, so the same data always gives
// the same bytes and the apply package can skip writing and reloading when
// nothing changed.
//
// Text that users typed (owner, description, location names) only ever
// appears inside a comment or an escaped string, after control characters,
// line and paragraph separators and bidirectional-text controls have been
// replaced, so no input can break a line or the file's structure. Host
// names are sent to DHCP clients only when they are valid RFC 1123 names.
//
// A writer refuses, with an *ipdesk.Error, data that the daemon would
// reject or silently drop, such as one address reserved for two hosts, so
// that a broken file never reaches the daemon's check.
package render

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ipdesk"
)

// Input is the data a writer renders. The caller selects it for one target:
// the writers do not filter by space, subnet, status or DHCP flag of the
// subnet; they only pick the hosts each format is about (see each writer).
// Nil entries in the slices are ignored. The writers do not modify Input.
type Input struct {
	// Hosts are the addresses with their host fields.
	Hosts []*ipdesk.Address
	// Subnets are the subnets the hosts live in. Only the Kea subnet
	// writers use them, to write one subnet block each.
	Subnets []*ipdesk.Prefix
	// Locations by ID, for the room names in comments and for the room
	// blocking lists (a blocked building blocks the rooms inside it).
	Locations map[int64]*ipdesk.Location
	// Levels names the internet access levels for the squid lists.
	Levels []*ipdesk.AccessLevel
}

// host is one selected address with its normalised IP.
type host struct {
	a    *ipdesk.Address
	addr netip.Addr
}

// normAddr returns a without an IPv4-in-IPv6 mapping and without a zone,
// the form in which every writer prints addresses.
func normAddr(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// compareHosts orders hosts by address, then by record ID and MAC, so that
// the order is total even for repeated addresses.
func compareHosts(x, y host) int {
	if c := x.addr.Compare(y.addr); c != 0 {
		return c
	}
	if c := cmp.Compare(x.a.ID, y.a.ID); c != 0 {
		return c
	}
	return slices.Compare(x.a.MAC[:], y.a.MAC[:])
}

// selectHosts returns the hosts for which keep is true, with a valid
// address, sorted by address.
func selectHosts(in *Input, keep func(a *ipdesk.Address, addr netip.Addr) bool) []host {
	hs := make([]host, 0, len(in.Hosts))
	for _, a := range in.Hosts {
		if a == nil {
			continue
		}
		addr := normAddr(a.Addr)
		if !addr.IsValid() || !keep(a, addr) {
			continue
		}
		hs = append(hs, host{a: a, addr: addr})
	}
	slices.SortFunc(hs, compareHosts)
	return hs
}

// family is the IP version a DHCP writer is about.
type family int

const (
	v4 family = 4
	v6 family = 6
)

func (f family) has(addr netip.Addr) bool {
	if f == v4 {
		return addr.Is4()
	}
	return addr.Is6()
}

// digit returns "4" or "6".
func (f family) digit() string {
	if f == v4 {
		return "4"
	}
	return "6"
}

func (f family) String() string {
	if f == v4 {
		return "IPv4"
	}
	return "IPv6"
}

// reservations returns the hosts of family f that have a DHCP reservation
// and a MAC, sorted by address. An address that two hosts share is a
// conflict: a DHCP server can hand it to one of them only.
func reservations(in *Input, f family) ([]host, error) {
	hs := selectHosts(in, func(a *ipdesk.Address, addr netip.Addr) bool {
		return a.DHCPReservation && !a.MAC.IsZero() && f.has(addr)
	})
	for i := 1; i < len(hs); i++ {
		if hs[i].addr == hs[i-1].addr {
			return nil, ipdesk.Errorf(ipdesk.ECONFLICT,
				"address %s is reserved for two hosts (address records %d and %d, MACs %s and %s); a DHCP server can give it to one host only",
				hs[i].addr, hs[i-1].a.ID, hs[i].a.ID, hs[i-1].a.MAC, hs[i].a.MAC)
		}
	}
	return hs, nil
}

// validHostname reports whether s is a non-empty RFC 1123 host name, the
// only kind of name the DHCP writers send to clients. It applies the rules
// of ipdesk.ValidateHostname (a test keeps the two in step) without
// allocating, as it runs for every host.
func validHostname(s string) bool {
	if s == "" || len(s) > ipdesk.MaxHostnameLen {
		return false
	}
	label := 0 // length of the current label
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if label == 0 || s[i-1] == '-' {
				return false
			}
			label = 0
			continue
		case c == '-':
			if label == 0 {
				return false
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			return false
		}
		if label++; label > ipdesk.MaxLabelLen {
			return false
		}
	}
	return label > 0 && s[len(s)-1] != '-'
}

// cleanText makes user text safe for a one-line comment or a JSON string:
// invalid UTF-8 becomes U+FFFD; control characters (C0, DEL, C1), line and
// paragraph separators become blanks; bidirectional-text controls, which
// could make a comment read differently from what the parser sees, are
// dropped; blanks at either end are trimmed.
func cleanText(s string) string {
	if isPlain(s) {
		return s
	}
	return string(appendClean(nil, s))
}

// isPlain reports whether s is printable ASCII without blanks at either
// end, which cleanText returns as it is.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return s == "" || s[0] != ' ' && s[len(s)-1] != ' '
}

// appendClean appends cleanText(s) to b.
func appendClean(b []byte, s string) []byte {
	return appendCleanTrimmed(b, strings.TrimFunc(s, isBlankish))
}

// cleanLead marks the bytes at which appendCleanTrimmed must look closer:
// C0 controls, DEL, and the lead bytes of C1 controls, U+061C and the
// U+2000 block. In valid UTF-8 a lead byte never occurs inside another
// character, so all other bytes are copied as they are.
var cleanLead = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t[0x7f], t[0xc2], t[0xd8], t[0xe2] = true, true, true, true
	return t
}()

// appendCleanTrimmed appends the cleaned s, which has no blanks to trim.
func appendCleanTrimmed(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return appendCleanRunes(b, s)
	}
	run := 0 // start of the pending run of unchanged bytes
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !cleanLead[c] {
			continue
		}
		size, repl := 0, ""
		switch {
		case c < 0x20 || c == 0x7f: // C0 controls, DEL
			size, repl = 1, " "
		case c == 0xc2 && s[i+1] < 0xa0: // C1 controls U+0080..U+009F
			size, repl = 2, " "
		case c == 0xd8 && s[i+1] == 0x9c: // U+061C
			size = 2
		case c == 0xe2 && s[i+1] == 0x80:
			switch t := s[i+2]; {
			case t == 0xa8 || t == 0xa9: // U+2028, U+2029
				size, repl = 3, " "
			case t == 0x8e || t == 0x8f || t >= 0xaa && t <= 0xae: // U+200E, U+200F, U+202A..U+202E
				size = 3
			}
		case c == 0xe2 && s[i+1] == 0x81 && s[i+2] >= 0xa6 && s[i+2] <= 0xa9: // U+2066..U+2069
			size = 3
		}
		if size == 0 {
			continue
		}
		b = append(b, s[run:i]...)
		b = append(b, repl...)
		i += size - 1
		run = i + 1
	}
	return append(b, s[run:]...)
}

// appendCleanRunes is appendClean for text that is not valid UTF-8.
func appendCleanRunes(b []byte, s string) []byte {
	for _, r := range s { // invalid bytes come as utf8.RuneError
		switch {
		case isBreaking(r):
			b = append(b, ' ')
		case isBidiControl(r):
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// isBreaking reports whether r is a control character or a line or
// paragraph separator, which cleaned text shows as a blank.
func isBreaking(r rune) bool {
	return r < 0x20 || r >= 0x7f && r < 0xa0 || r == '\u2028' || r == '\u2029'
}

// isBlankish reports whether r is trimmed from the ends of cleaned text:
// white space, and what cleaning turns into a blank or drops.
func isBlankish(r rune) bool {
	return unicode.IsSpace(r) || isBreaking(r) || isBidiControl(r)
}

// clipBytes shortens s to at most max bytes without splitting a character,
// marking the cut with "…".
func clipBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return string(clipLine([]byte(s), 0, max))
}

// clipLine shortens the line that starts at b[start:] to at most max bytes
// without splitting a character, marking the cut with "…".
func clipLine(b []byte, start, max int) []byte {
	if len(b)-start <= max {
		return b
	}
	const ellipsis = "…"
	cut := start + max - len(ellipsis)
	for cut > start && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return append(b[:cut], ellipsis...)
}

// describer writes the comment about a host, caching location paths.
type describer struct {
	in    *Input
	paths map[int64]string
}

func newDescriber(in *Input) *describer {
	return &describer{in: in, paths: make(map[int64]string)}
}

// locationPath returns the names of a location and its parents from the
// outside in, "Main site / House B / Room 303", cleaned for a comment.
func (c *describer) locationPath(id int64) string {
	if id == 0 {
		return ""
	}
	if p, ok := c.paths[id]; ok {
		return p
	}
	var names []string
	seen := map[int64]bool{}
	for cur := id; cur != 0 && !seen[cur] && len(names) < 16; {
		seen[cur] = true
		l := c.in.Locations[cur]
		if l == nil {
			break
		}
		if n := cleanText(l.Name); n != "" {
			names = append(names, n)
		}
		cur = l.ParentID
	}
	slices.Reverse(names)
	p := strings.Join(names, " / ")
	c.paths[id] = p
	return p
}

// appendDescription appends one line about a: its owner, room and
// description, cleaned for a comment, and note (such as why its name is
// not sent) when not empty. It appends nothing when there is nothing to
// say.
func (c *describer) appendDescription(b []byte, a *ipdesk.Address, note string) []byte {
	start := len(b)
	field := func(label string) {
		if len(b) > start {
			b = append(b, "; "...)
		}
		b = append(b, label...)
		b = append(b, ": "...)
	}
	if o := strings.TrimFunc(a.Owner, isBlankish); o != "" {
		field("owner")
		b = appendCleanTrimmed(b, o)
	}
	if p := c.locationPath(a.LocationID); p != "" {
		field("room")
		b = append(b, p...)
	}
	if d := strings.TrimFunc(a.Description, isBlankish); d != "" {
		field("description")
		b = appendCleanTrimmed(b, d)
	}
	if note != "" {
		field("note")
		b = append(b, note...)
	}
	return b
}

// describeLen estimates the bytes appendDescription appends for a.
func (c *describer) describeLen(a *ipdesk.Address) int {
	return 40 + len(a.Owner) + len(a.Description) + len(c.locationPath(a.LocationID))
}

// hostnameNote returns the comment note for a host name that is not sent,
// or "" when the name is empty or valid.
func hostnameNote(name string) string {
	if name == "" || validHostname(name) {
		return ""
	}
	return "host name " + quoteComment(name) + " is not a valid host name and is not sent"
}

// quoteComment returns user text in double quotes for a comment, cleaned.
// Inside a comment the quotes need no escaping; they only show where the
// text begins and ends.
func quoteComment(s string) string {
	return "\"" + cleanText(s) + "\""
}

// count returns n with the singular one or the plural many: "1 host",
// "2 hosts".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// appendMAC appends m as aa:bb:cc:dd:ee:ff.
func appendMAC(b []byte, m ipdesk.MAC) []byte {
	const hexdigits = "0123456789abcdef"
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexdigits[x>>4], hexdigits[x&0xf])
	}
	return b
}

// isBidiControl reports whether r is an invisible character that changes
// the display order of text (the "Trojan Source" characters).
func isBidiControl(r rune) bool {
	switch {
	case r == '\u061c', r == '\u200e', r == '\u200f':
		return true
	case r >= '\u202a' && r <= '\u202e':
		return true
	case r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}
