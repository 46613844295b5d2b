package importer

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ipdesk"
)

// dnsmasqMaxLine is the longest line dnsmasq reads as one: it reads its
// files in pieces of 1024 bytes, so the rest of a longer line becomes a
// line of its own.
const dnsmasqMaxLine = 1024

// ReadDnsmasq reads the dhcp-host entries of a dnsmasq configuration from
// the file path: a dnsmasq.conf (dhcp-host=… lines) or a dhcp-hostsfile
// such as ipdesk writes (the same entries without "dhcp-host="). A file
// with any line of the form option=value is read as a dnsmasq.conf;
// otherwise every line is an entry. In a dnsmasq.conf, conf-file= and
// dhcp-hostsfile= are followed (a relative name relative to the directory
// of the file that names it), with the limits of includes in ReadDHCPD;
// conf-dir=, dhcp-hostsdir= and read-ethers, which name more hosts, are
// reported in a warning.
//
// Lines are read as dnsmasq reads them: '#' at the start of a line or
// after a blank starts a comment, double quotes hide commas and '#', and
// a line longer than 1024 bytes is a problem (dnsmasq would read its end
// as a line of its own). An entry is split at commas; each field is
//
//   - a MAC (aa:bb:cc:dd:ee:ff, optionally with the hardware type 01-):
//     the host's MAC. More than one MAC is allowed by dnsmasq; ipdesk keeps
//     the first (warning). A wildcard MAC or one of another hardware
//     type is a problem.
//   - an IPv4 address, or IPv6 addresses in brackets ([2001:db8::5]); each
//     address is one Host. An IPv6 address given by its interface part
//     only ([::5]) or a range ([2001:db8::/126]) is a problem.
//   - a host name, checked as ipdesk checks host names.
//   - a lease time (45m, 12h, infinite), set:tag, tag:tag and id:client —
//     not kept by ipdesk, so they are named in one warning per file (id:*
//     only tells dnsmasq to ignore client IDs, and needs no warning).
//   - ignore: dnsmasq never answers that client; the entry is skipped.
//
// An entry without an address has nothing to import and is skipped with a
// warning; one without a MAC (matched by name or client ID) is imported
// without a DHCP reservation, with a warning. Comments above an entry and
// at the end of its line give the description, as in ReadDHCPD, and the
// notes of ipdesk's writer give back host names it did not write.
func ReadDnsmasq(path string, opt ConfigOptions) (*Result, error) {
	data, err := opt.readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseDnsmasq(path, data, opt), nil
}

// ParseDnsmasq is ReadDnsmasq for src, the content of the file name; the
// files it names are read with opt.ReadFile.
func ParseDnsmasq(name string, src []byte, opt ConfigOptions) *Result {
	r := &dnsmasqReader{opt: &opt, res: &Result{}, seen: map[netip.Addr]int{}}
	r.guard = includeGuard{opt: r.opt}
	r.guard.push(name, len(src))
	r.readFile(name, src, isDnsmasqConf(src))
	return r.res
}

type dnsmasqReader struct {
	opt   *ConfigOptions
	res   *Result
	guard includeGuard
	seen  map[netip.Addr]int
}

// dnsmasqLine is one line after quote and comment processing: its fields
// split at the commas outside quotes.
type dnsmasqLine struct {
	text       []byte // the line without its comment, quotes removed
	hidden     []bool // hidden[i]: text[i] was inside quotes
	comment    string // the comment at its end, without the '#'
	hasComment bool
}

// dnsmasqEscapes maps the character after a backslash inside quotes to the
// character the pair stands for.
var dnsmasqEscapes = map[byte]byte{'"': '"', 't': '\t', 'n': '\n', 'e': 0x1b, 'b': '\b', 'r': '\r', '\\': '\\'}

// splitDnsmasqLine applies dnsmasq's rules to one line: inside double
// quotes \\ \" \t \n \e \b \r are escapes and every character is hidden
// from the splitting; white space becomes a blank; '#' at the start or
// after a blank starts a comment. It returns a message for an unclosed
// quote.
func splitDnsmasqLine(line []byte) (dnsmasqLine, string) {
	var l dnsmasqLine
	white := true
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '"' {
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				c := line[i]
				if c == '\\' && i+1 < len(line) {
					if e, ok := dnsmasqEscapes[line[i+1]]; ok {
						i++
						c = e
					}
				}
				l.text = append(l.text, c)
				l.hidden = append(l.hidden, true)
			}
			if i >= len(line) {
				return l, `a double quote is not closed on this line`
			}
			white = false
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' {
			c = ' '
			white = true
		} else {
			if white && c == '#' {
				l.comment, l.hasComment = string(line[i+1:]), true
				break
			}
			white = false
		}
		l.text = append(l.text, c)
		l.hidden = append(l.hidden, false)
	}
	return l, ""
}

// index returns the position of the first c outside quotes, or -1.
func (l *dnsmasqLine) index(c byte, from int) int {
	for i := from; i < len(l.text); i++ {
		if l.text[i] == c && !l.hidden[i] {
			return i
		}
	}
	return -1
}

// dnsmasqField is one comma-separated field of an entry.
type dnsmasqField struct {
	text string
	// quotedMeta tells that a ':' or '.' of the field was inside quotes.
	// dnsmasq hides such characters from its checks for a MAC or an
	// address, so the field can only be a name.
	quotedMeta bool
}

// fields splits l.text[from:] at the commas outside quotes and trims the
// blanks around each field.
func (l *dnsmasqLine) fields(from int) []dnsmasqField {
	var out []dnsmasqField
	for {
		j := l.index(',', from)
		end := j
		if j < 0 {
			end = len(l.text)
		}
		f := dnsmasqField{text: strings.Trim(string(l.text[from:end]), " ")}
		for i := from; i < end; i++ {
			if l.hidden[i] && (l.text[i] == ':' || l.text[i] == '.') {
				f.quotedMeta = true
			}
		}
		out = append(out, f)
		if j < 0 {
			return out
		}
		from = j + 1
	}
}

// isDnsmasqConf reports whether src reads as a dnsmasq.conf: some line is
// option=value with an option name of lower-case letters, digits and
// hyphens. Entries of a dhcp-hostsfile never look like that (their fields
// before any '=' hold ':', ',' or '.').
func isDnsmasqConf(src []byte) bool {
	for _, line := range bytes.Split(src, []byte("\n")) {
		l, msg := splitDnsmasqLine(line)
		if msg != "" {
			continue
		}
		if i := l.index('=', 0); i > 0 && isOptionName(strings.Trim(string(l.text[:i]), " ")) {
			return true
		}
	}
	return false
}

func isOptionName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// dnsmasqFile is one file being read.
type dnsmasqFile struct {
	src  *source
	conf bool // a dnsmasq.conf, not a dhcp-hostsfile
	// comments are the comment-only lines just above the current line.
	comments []string
	// lease, tag and id count the entries with fields ipdesk does not
	// keep, with the line and text of the first, for one warning per file.
	lease, tag, id       int
	leaseAt, tagAt, idAt int
	leaseEx, tagEx, idEx string
}

func (r *dnsmasqReader) readFile(name string, data []byte, conf bool) {
	f := &dnsmasqFile{src: &source{name: name, res: r.res}, conf: conf}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, raw := range lines {
		if f.src.stopped() {
			break
		}
		r.line(f, i+1, raw)
	}
	r.summarise(f)
}

func (r *dnsmasqReader) line(f *dnsmasqFile, n int, raw []byte) {
	src := f.src
	if len(raw) > dnsmasqMaxLine {
		src.problem(n, "", "the line is %d bytes long; dnsmasq reads lines of at most %d bytes and would take the rest for a line of its own", len(raw), dnsmasqMaxLine)
		f.comments = nil
		return
	}
	l, msg := splitDnsmasqLine(raw)
	if msg != "" {
		src.problem(n, "", "%s", msg)
		f.comments = nil
		return
	}
	content := strings.Trim(string(l.text), " ")
	if content == "" {
		if l.hasComment {
			f.comments = append(f.comments, l.comment)
		} else {
			f.comments = nil // a blank line ends a comment block
		}
		return
	}
	comments := f.comments
	f.comments = nil
	if l.hasComment {
		comments = append(comments, l.comment)
	}
	if !f.conf {
		r.entry(f, n, l.fields(0), comments)
		return
	}
	opt, value, start := content, "", len(l.text)
	if eq := l.index('=', 0); eq >= 0 {
		opt = strings.Trim(string(l.text[:eq]), " ")
		start = eq + 1
		value = strings.Trim(string(l.text[start:]), " ")
	}
	switch opt {
	case "dhcp-host":
		r.entry(f, n, l.fields(start), comments)
	case "conf-file", "dhcp-hostsfile":
		if value == "" {
			return // conf-file without a name reads the default file
		}
		name := resolveInclude(src.name, value)
		data, msg, err := r.guard.enter(name)
		switch {
		case errors.Is(err, errIsDir):
			src.warn(n, opt, "%s is a directory, which is not followed; import the files in it one by one", name)
		case msg != "":
			src.problem(n, opt, "%s", msg)
		default:
			r.readFile(name, data, opt == "conf-file")
			r.guard.leave()
		}
	case "conf-dir", "dhcp-hostsdir":
		src.warn(n, opt, "%s=%s is not followed; import the files in it one by one", opt, clipString(value))
	case "read-ethers":
		src.warn(n, opt, "the hosts in /etc/ethers are not imported; import them from a file of dhcp-host lines")
	}
}

// entry reads the fields of one dhcp-host entry.
func (r *dnsmasqReader) entry(f *dnsmasqFile, n int, fields []dnsmasqField, comments []string) {
	src := f.src
	var (
		macs     []ipdesk.MAC
		v4       netip.Addr
		v6       []netip.Addr
		hostname string
		ignore   bool
		bad      bool
	)
	fail := func(field, format string, args ...any) {
		src.problem(n, field, format, args...)
		bad = true
	}
	for _, field := range fields {
		fl := field.text
		lower := strings.ToLower(fl)
		switch {
		case fl == "":
		case field.quotedMeta:
			// dnsmasq takes it for a name; ipdesk's check refuses the ':'
			// of a MAC and lets an address pass as the name dnsmasq sees.
			if hostname != "" {
				fail("hostname", "the entry has two host names, %q and %q", clipString(hostname), clipString(fl))
				continue
			}
			if err := ipdesk.ValidateHostname(fl); err != nil {
				fail("hostname", "%s (in quotes, dnsmasq reads it as a host name)", ipdesk.ErrorMessage(err))
				continue
			}
			hostname = fl
		case !f.conf && strings.HasPrefix(lower, "dhcp-host="):
			fail("", "a dhcp-hostsfile holds entries without \"dhcp-host=\"; dnsmasq does not read this line as an entry")
		case strings.HasPrefix(lower, "set:") || strings.HasPrefix(lower, "net:") || strings.HasPrefix(lower, "tag:"):
			f.note(&f.tag, &f.tagAt, &f.tagEx, n, fl)
		case strings.HasPrefix(lower, "id:"):
			if fl != "id:*" {
				f.note(&f.id, &f.idAt, &f.idEx, n, fl)
			}
		case fl[0] == '[':
			a, msg := parseBracketIPv6(fl)
			if msg != "" {
				fail("address", "%s", msg)
				continue
			}
			v6 = append(v6, a)
		case strings.Contains(fl, ":"):
			m, msg := parseDnsmasqMAC(fl)
			if msg != "" {
				fail("mac", "%s", msg)
				continue
			}
			macs = append(macs, m)
		case strings.Contains(fl, ".") && strings.Trim(fl, "0123456789.") == "":
			a, err := netip.ParseAddr(fl)
			if err != nil || !a.Is4() {
				fail("address", "%q is not a valid IPv4 address", clipString(fl))
				continue
			}
			if v4.IsValid() {
				fail("address", "the entry has two IPv4 addresses, %s and %s; ipdesk keeps one per host", v4, a)
				continue
			}
			v4 = a
		case lower == "ignore":
			ignore = true
		case isLeaseTime(lower):
			f.note(&f.lease, &f.leaseAt, &f.leaseEx, n, fl)
		default:
			if hostname != "" {
				fail("hostname", "the entry has two host names, %q and %q", clipString(hostname), clipString(fl))
				continue
			}
			if err := ipdesk.ValidateHostname(fl); err != nil {
				fail("hostname", "%s", ipdesk.ErrorMessage(err))
				continue
			}
			hostname = fl
		}
	}
	if bad {
		return
	}
	if ignore {
		src.warn(n, "", "the entry says ignore (dnsmasq never answers this client): nothing to import; it is skipped")
		r.res.Skipped++
		return
	}
	if !v4.IsValid() && len(v6) == 0 {
		src.warn(n, "address", "the entry has no address: nothing to import; it is skipped")
		r.res.Skipped++
		return
	}
	var mac ipdesk.MAC
	switch {
	case len(macs) == 0:
		src.warn(n, "mac", "the entry has no MAC (dnsmasq matches it by host name or client ID); it is imported without a DHCP reservation")
	case len(macs) > 1:
		src.warn(n, "mac", "the entry lists %d MACs; ipdesk keeps one per address, so only the first, %s, is imported", len(macs), macs[0])
		fallthrough
	default:
		mac = macs[0]
	}
	c := parseComment(src, n, comments)
	if hostname == "" {
		hostname = c.hostname
	}
	addrs := v6
	if v4.IsValid() {
		addrs = append([]netip.Addr{v4}, v6...)
	}
	for _, a := range addrs {
		r.res.addHost(src, r.seen, Host{
			Space: r.opt.Space, Address: a, MAC: mac, Hostname: hostname,
			Owner: c.owner, Location: c.location, Description: c.description,
			DHCPReservation: !mac.IsZero(), Line: n, File: src.name, given: c.given,
		})
	}
}

// note counts an entry with a field ipdesk does not keep.
func (f *dnsmasqFile) note(count, at *int, example *string, line int, field string) {
	if *count == 0 {
		*at, *example = line, field
	}
	*count++
}

// summarise writes one warning per kind of field that was left out.
func (r *dnsmasqReader) summarise(f *dnsmasqFile) {
	for _, k := range []struct {
		n, at int
		ex    string
		what  string
	}{
		{f.lease, f.leaseAt, f.leaseEx, "lease times are not imported; ipdesk's reservations get the lease time of the server's configuration"},
		{f.tag, f.tagAt, f.tagEx, "tags (set:, tag:) are not imported; options sent by tag must be set in the server's own configuration"},
		{f.id, f.idAt, f.idEx, "client IDs (id:) are not imported; ipdesk reserves by MAC"},
	} {
		if k.n == 0 {
			continue
		}
		entries := "1 entry"
		if k.n > 1 {
			entries = strconv.Itoa(k.n) + " entries, the first here"
		}
		f.src.warn(k.at, "", "%s (%s: %q)", k.what, entries, clipString(k.ex))
	}
}

// isLeaseTime reports whether s (in lower case) is a dnsmasq lease time:
// "infinite", or a number with an optional unit s, m, h, d or w.
func isLeaseTime(s string) bool {
	if s == "infinite" {
		return true
	}
	if len(s) > 1 && strings.IndexByte("smhdw", s[len(s)-1]) >= 0 {
		s = s[:len(s)-1]
	}
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// parseBracketIPv6 parses "[2001:db8::5]".
func parseBracketIPv6(s string) (netip.Addr, string) {
	if len(s) < 2 || s[len(s)-1] != ']' {
		return netip.Addr{}, fmt.Sprintf("%q: an IPv6 address in brackets lacks its ']'", clipString(s))
	}
	in := s[1 : len(s)-1]
	if strings.Contains(in, "/") {
		return netip.Addr{}, fmt.Sprintf("%s is a range of IPv6 addresses; ipdesk reserves one address per host", clipString(s))
	}
	a, err := netip.ParseAddr(in)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Sprintf("%q is not a valid IPv6 address", clipString(s))
	}
	if a.Is4In6() {
		return netip.Addr{}, fmt.Sprintf("%s is an IPv4 address in IPv6 form; write it without brackets", s)
	}
	if b := a.As16(); [8]byte(b[:8]) == [8]byte{} {
		return netip.Addr{}, fmt.Sprintf("%s gives only the interface part of an address (dnsmasq adds the prefix of its DHCP range); write the whole address to import it", s)
	}
	return a, ""
}

// parseDnsmasqMAC parses a dnsmasq hardware address: colon-separated
// bytes, optionally preceded by the hardware type in hex and '-'.
func parseDnsmasqMAC(s string) (ipdesk.MAC, string) {
	if i := strings.IndexByte(s, '-'); i > 0 && i <= 2 && i < strings.IndexByte(s, ':') && isHex(s[:i]) {
		typ := s[:i]
		if t, _ := strconv.ParseUint(typ, 16, 8); t != 1 {
			return ipdesk.MAC{}, fmt.Sprintf("%q has the hardware type %s; ipdesk reserves addresses for Ethernet MACs (type 1) only", clipString(s), clipString(typ))
		}
		s = s[i+1:]
	}
	if strings.Contains(s, "*") {
		return ipdesk.MAC{}, fmt.Sprintf("%q is a wildcard that matches many MACs; ipdesk reserves an address for one MAC", clipString(s))
	}
	m, msg := parseColonMAC(s)
	if msg != "" {
		return ipdesk.MAC{}, msg
	}
	return m, ""
}
