package render

// Parsers that read the writers' output back the way the daemons do, for
// the fuzz tests and the structural checks. They are stricter than the
// daemons: anything the writers should never produce is an error.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"ipdesk"
)

// decodeISCString reads a dhcpd quoted string at the start of b the way
// dhcpd's lexer does (backslash escapes \t \r \n \b, three-digit octal
// \ooo with a first digit 0-3, \xHH, and \c for any other c) and returns
// its value and the rest of b.
func decodeISCString(b []byte) (string, []byte, error) {
	if len(b) == 0 || b[0] != '"' {
		return "", b, errors.New("string does not start with a quote")
	}
	var out []byte
	i := 1
	for i < len(b) {
		c := b[i]
		i++
		switch c {
		case '"':
			return string(out), b[i:], nil
		case '\\':
			if i >= len(b) {
				return "", nil, errors.New("backslash at the end")
			}
			c = b[i]
			i++
			switch {
			case c == 't':
				out = append(out, '\t')
			case c == 'r':
				out = append(out, '\r')
			case c == 'n':
				out = append(out, '\n')
			case c == 'b':
				out = append(out, '\b')
			case c >= '0' && c <= '3':
				v := int(c - '0')
				for k := 0; k < 2; k++ {
					if i >= len(b) || b[i] < '0' || b[i] > '7' {
						return "", nil, fmt.Errorf("short octal escape at %d", i)
					}
					v = v*8 + int(b[i]-'0')
					i++
				}
				out = append(out, byte(v))
			case c == 'x':
				return "", nil, errors.New("hex escapes are not produced")
			default:
				out = append(out, c)
			}
		default:
			out = append(out, c)
		}
	}
	return "", nil, errors.New("no closing quote")
}

// iscToken is a token of a dhcpd configuration.
type iscToken struct {
	kind byte // 'w' word, 's' string, or the punctuation itself
	text string
}

// isISCWordByte reports whether c belongs to a bare word: names, numbers,
// MACs and addresses (dhcpd splits these further at ':' and '.').
func isISCWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
}

// tokenizeISC splits b into tokens, dropping comments. A comment runs from
// '#' to the end of the line. Any byte outside comments and strings that is
// not part of a word, blank space or one of { } ; is an error: user text
// must be in comments or strings.
func tokenizeISC(b []byte) ([]iscToken, error) {
	var toks []iscToken
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			b = b[1:]
		case c == '#':
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[i+1:]
			} else {
				b = nil
			}
		case c == '"':
			s, rest, err := decodeISCString(b)
			if err != nil {
				return nil, err
			}
			toks = append(toks, iscToken{'s', s})
			b = rest
		case c == '{' || c == '}' || c == ';':
			toks = append(toks, iscToken{c, string(c)})
			b = b[1:]
		case isISCWordByte(c):
			i := 0
			for i < len(b) && isISCWordByte(b[i]) {
				i++
			}
			toks = append(toks, iscToken{'w', string(b[:i])})
			b = b[i:]
		default:
			return nil, fmt.Errorf("byte %q outside comments and strings", c)
		}
	}
	return toks, nil
}

// iscHost is a parsed host declaration.
type iscHost struct {
	name, mac, addr string
	hostname        *string
	v6              bool
}

var iscNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// parseISC reads the host declarations of a file written by ISCDHCP or
// ISCDHCP6, accepting only the statements the writers produce.
func parseISC(b []byte) ([]iscHost, error) {
	toks, err := tokenizeISC(b)
	if err != nil {
		return nil, err
	}
	var hosts []iscHost
	next := func() (iscToken, error) {
		if len(toks) == 0 {
			return iscToken{}, errors.New("unexpected end")
		}
		t := toks[0]
		toks = toks[1:]
		return t, nil
	}
	expect := func(kind byte, text string) error {
		t, err := next()
		if err != nil {
			return err
		}
		if t.kind != kind || (text != "" && t.text != text) {
			return fmt.Errorf("got %q, want %q", t.text, text)
		}
		return nil
	}
	word := func() (string, error) {
		t, err := next()
		if err != nil {
			return "", err
		}
		if t.kind != 'w' {
			return "", fmt.Errorf("got %q, want a word", t.text)
		}
		return t.text, nil
	}
	for len(toks) > 0 {
		if err := expect('w', "host"); err != nil {
			return nil, err
		}
		var h iscHost
		if h.name, err = word(); err != nil {
			return nil, err
		}
		if !iscNameRE.MatchString(h.name) {
			return nil, fmt.Errorf("host name %q", h.name)
		}
		if err := expect('{', ""); err != nil {
			return nil, err
		}
		for {
			t, err := next()
			if err != nil {
				return nil, err
			}
			if t.kind == '}' {
				break
			}
			switch t.text {
			case "hardware":
				if err := expect('w', "ethernet"); err != nil {
					return nil, err
				}
				if h.mac, err = word(); err != nil {
					return nil, err
				}
			case "fixed-address", "fixed-address6":
				h.v6 = t.text == "fixed-address6"
				if h.addr, err = word(); err != nil {
					return nil, err
				}
			case "option":
				if err := expect('w', "host-name"); err != nil {
					return nil, err
				}
				s, err := next()
				if err != nil || s.kind != 's' {
					return nil, fmt.Errorf("host-name is not a string: %v", err)
				}
				h.hostname = &s.text
			default:
				return nil, fmt.Errorf("unexpected statement %q", t.text)
			}
			if err := expect(';', ""); err != nil {
				return nil, err
			}
		}
		if h.mac == "" || h.addr == "" {
			return nil, fmt.Errorf("host %s lacks its MAC or address", h.name)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// keaContextDoc is a decoded "user-context".
type keaContextDoc struct {
	Comment         string `json:"comment"`
	IPDeskAddressID int64  `json:"ipdesk-address-id"`
}

// keaReservationDoc is a decoded reservation of either family.
type keaReservationDoc struct {
	HWAddress   string        `json:"hw-address"`
	IPAddress   string        `json:"ip-address"`
	IPAddresses []string      `json:"ip-addresses"`
	Hostname    string        `json:"hostname"`
	UserContext keaContextDoc `json:"user-context"`
}

// keaSubnetDoc is a decoded element of "subnet4" or "subnet6".
type keaSubnetDoc struct {
	ID           int64               `json:"id"`
	Subnet       string              `json:"subnet"`
	OptionData   []keaOption         `json:"option-data"`
	UserContext  keaContextDoc       `json:"user-context"`
	Reservations []keaReservationDoc `json:"reservations"`
}

// keaDoc is a Kea fragment wrapped in braces.
type keaDoc struct {
	Subnet4      []keaSubnetDoc      `json:"subnet4"`
	Subnet6      []keaSubnetDoc      `json:"subnet6"`
	Reservations []keaReservationDoc `json:"reservations"`
}

// parseKea reads a Kea fragment: comment lines at the top, then a JSON
// member. It checks that the text is JSON once wrapped in braces, that
// every escape is one Kea's lexer understands (\u only as \u00XX), and
// decodes it, refusing unknown keys.
func parseKea(b []byte) (*keaDoc, error) {
	for bytes.HasPrefix(b, []byte("//")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil, errors.New("comment without end")
		}
		if bytes.ContainsAny(b[:i], "\r") {
			return nil, errors.New("CR in a comment")
		}
		b = b[i+1:]
	}
	doc := append(append([]byte("{"), b...), '}')
	if !json.Valid(doc) {
		return nil, fmt.Errorf("not JSON: %s", doc)
	}
	if err := checkKeaEscapes(b); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	var d keaDoc
	if err := dec.Decode(&d); err != nil {
		return nil, err
	}
	return &d, nil
}

// checkKeaEscapes checks the escapes inside the JSON strings of b.
func checkKeaEscapes(b []byte) error {
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case !in && c == '"':
			in = true
		case in && c == '"':
			in = false
		case in && c < 0x20:
			return fmt.Errorf("raw control byte %#x in a string", c)
		case in && c == '\\':
			i++
			switch b[i] {
			case '"', '\\':
			case 'u':
				if !bytes.HasPrefix(b[i+1:], []byte("00")) {
					return fmt.Errorf("escape \\u%s, which Kea does not read", b[i+1:i+5])
				}
				i += 4
			default:
				return fmt.Errorf("escape \\%c, which cleaned text never needs", b[i])
			}
		}
	}
	return nil
}

// dnsmasqLine is a parsed host line of a dhcp-hostsfile.
type dnsmasqLine struct {
	mac      string
	addr     netip.Addr
	hostname string
}

// parseDnsmasq reads a dhcp-hostsfile as dnsmasq does: lines of at most
// 1023 bytes, '#' comments, comma-separated fields. Host lines must have
// exactly a MAC, an address and an optional name that dnsmasq reads as a
// name.
func parseDnsmasq(b []byte) ([]dnsmasqLine, error) {
	if len(b) > 0 && b[len(b)-1] != '\n' {
		return nil, errors.New("no newline at the end")
	}
	var out []dnsmasqLine
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if len(line) > 1024 {
			return nil, fmt.Errorf("line of %d bytes, which dnsmasq splits", len(line))
		}
		line = strings.TrimSuffix(line, "\n")
		if strings.ContainsAny(line, "\r\x00") {
			return nil, fmt.Errorf("control byte in %q", line)
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t\"#\\") {
			return nil, fmt.Errorf("host line %q has a blank, quote, '#' or backslash", line)
		}
		f := strings.Split(line, ",")
		if len(f) != 2 && len(f) != 3 {
			return nil, fmt.Errorf("host line %q has %d fields", line, len(f))
		}
		var l dnsmasqLine
		m, err := ipdesk.ParseMAC(f[0])
		if err != nil || m.String() != f[0] {
			return nil, fmt.Errorf("host line %q: MAC %q", line, f[0])
		}
		l.mac = f[0]
		a := f[1]
		if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
			l.addr, err = netip.ParseAddr(a[1 : len(a)-1])
			if err != nil || !l.addr.Is6() || l.addr.Is4In6() {
				return nil, fmt.Errorf("host line %q: IPv6 address %q", line, a)
			}
		} else if l.addr, err = netip.ParseAddr(a); err != nil || !l.addr.Is4() {
			return nil, fmt.Errorf("host line %q: IPv4 address %q", line, a)
		}
		if len(f) == 3 {
			l.hostname = f[2]
			if !validHostname(l.hostname) || dnsmasqMisreads(l.hostname) {
				return nil, fmt.Errorf("host line %q: name %q", line, l.hostname)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// parseSquidAddrs reads a squid address list: comment lines and one
// canonical address per line, sorted and distinct.
func parseSquidAddrs(b []byte) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, line := range squidLines(b) {
		if len(line) >= 2048 {
			return nil, fmt.Errorf("line of %d bytes", len(line))
		}
		if strings.HasPrefix(line, "#") {
			if strings.ContainsAny(line, "\r\x00") {
				return nil, fmt.Errorf("control byte in %q", line)
			}
			continue
		}
		a, err := netip.ParseAddr(line)
		if err != nil || a.String() != line {
			return nil, fmt.Errorf("line %q is not an address", line)
		}
		if n := len(out); n > 0 && out[n-1].Compare(a) >= 0 {
			return nil, fmt.Errorf("%s after %s", a, out[n-1])
		}
		out = append(out, a)
	}
	return out, nil
}

var squidRegexLineRE = regexp.MustCompile(`^\^([a-z0-9-]|\\\.)+\[0-9\]\+\(\\\.\|\$\)$`)

// parseSquidRegexes reads a srcdom_regex list: comment lines and anchored
// expressions of the one shape the writer produces, which compile.
func parseSquidRegexes(b []byte) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, line := range squidLines(b) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if !squidRegexLineRE.MatchString(line) {
			return nil, fmt.Errorf("line %q is not an anchored host name pattern", line)
		}
		re, err := regexp.CompilePOSIX(line)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

func squidLines(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
