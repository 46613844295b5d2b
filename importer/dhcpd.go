package importer

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"ipdesk"
)

// dhcpd's lexer keeps a token in a buffer of 1500 bytes and refuses longer
// ones (conflex.c).
const dhcpdMaxToken = 1500

// dhcpdMaxNesting bounds nested { } blocks; real configurations use a few.
const dhcpdMaxNesting = 64

// dhcpdMaxComment bounds the comment text kept per line: enough for any
// field it can give, little enough that a megabyte of comment costs
// nothing.
const dhcpdMaxComment = 8 << 10

// ReadDHCPD reads the host declarations of an ISC dhcpd configuration (a
// dhcpd.conf, or an include file such as for_dhcp's or ipdesk's
// dhcpd.hosts) from the file path, and the files it includes.
//
// The file is read with dhcpd's own lexical rules ('#' comments to the end
// of the line, quoted strings with backslash escapes, { } blocks, ';'
// after each statement). Host declarations count wherever they are:
// at the top, or inside group, subnet, shared-network or other blocks.
// Each host gives one Host:
//
//	# owner: …; room: Main / Room 303; description: …
//	host pc1 {
//	  hardware ethernet aa:bb:cc:dd:ee:ff;
//	  fixed-address 10.0.0.5;           # or fixed-address6 2001:db8::5
//	  option host-name "pc1";
//	}
//
// Its fields come from these statements:
//
//   - The address is the first of fixed-address (IPv4) or fixed-address6
//     (IPv6); further addresses in the list are left out with a warning. A
//     DNS name instead of an address is a problem, as ipdesk stores
//     addresses, not names to resolve. A host without a fixed address has
//     nothing to import: it is skipped with a warning.
//   - hardware ethernet gives the MAC and makes the host a DHCP
//     reservation; without it the host is imported without one (warning).
//   - The host name is option host-name, else ddns-hostname, else the
//     declaration name when it is a valid host name. The names ipdesk's
//     writer makes ("pc1-10-0-0-5", "host-10-0-0-5") give back "pc1" and
//     no name.
//   - The comment lines directly above a host (and a comment on the line
//     of the host keyword) give its description; the comment ipdesk
//     writes ("owner: …; room: …; description: …") gives the owner, the
//     location path and the description.
//   - include "file"; is followed, a relative name relative to the
//     directory of the including file (dhcpd itself takes it relative to
//     its working directory). An include of a file already being read (a
//     loop), more than MaxIncludeDepth levels deep, or of a file that
//     cannot be read is a problem at the include's line.
//
// Everything dhcpd would refuse (an unclosed string or block, a missing
// ';', a repeated host name, two fixed-address statements in a host) is a
// problem, reported with the file and line, as is a repeated address.
// Statements in a host that ipdesk does not keep (filename, options other
// than host-name) are named in a warning, as are the settings of a group
// with hosts (filename, next-server, option routers, …), at their line. ReadDHCPD returns an error only
// when path itself cannot be read.
func ReadDHCPD(path string, opt ConfigOptions) (*Result, error) {
	data, err := opt.readFile(path)
	if err != nil {
		return nil, err
	}
	return ParseDHCPD(path, data, opt), nil
}

// ParseDHCPD is ReadDHCPD for src, the content of the file name; includes
// are read with opt.ReadFile.
func ParseDHCPD(name string, src []byte, opt ConfigOptions) *Result {
	r := &dhcpdReader{opt: &opt, res: &Result{}, seen: map[netip.Addr]int{}, names: map[string]string{}}
	r.guard = includeGuard{opt: r.opt}
	r.guard.push(name, len(src))
	r.readFile(name, src)
	return r.res
}

type dhcpdReader struct {
	opt   *ConfigOptions
	res   *Result
	guard includeGuard
	seen  map[netip.Addr]int // address → index in res.Hosts
	names map[string]string  // host declaration name → its position
}

// dhcpdFile is one file being read.
type dhcpdFile struct {
	src      *source
	comments map[int]dhcpdComment
}

type dhcpdComment struct {
	text  string
	alone bool // nothing but blanks before it on its line
}

func (r *dhcpdReader) readFile(name string, data []byte) {
	f := &dhcpdFile{src: &source{name: name, res: r.res}, comments: map[int]dhcpdComment{}}
	lx := &dhcpdLexer{src: data, line: 1, f: f}
	stmts := parseDHCPD(lx, f.src)
	r.walk(f, stmts)
}

// Token kinds.
const (
	tokEOF    = iota
	tokWord   // a name, number, address or MAC
	tokString // a quoted string, its escapes decoded
	tokPunct  // one character: { } ; , = and the like
)

type dhcpdToken struct {
	kind int
	text string
	line int
}

func (t dhcpdToken) is(p byte) bool { return t.kind == tokPunct && t.text[0] == p }

// quoted returns the token as it appears in a message.
func (t dhcpdToken) quoted() string {
	switch t.kind {
	case tokEOF:
		return "the end of the file"
	case tokString:
		return strconv.Quote(clipString(t.text))
	}
	return "'" + clipString(t.text) + "'"
}

// dhcpdLexer splits a dhcpd configuration into tokens the way dhcpd's
// conflex.c does, with one difference that does not change the meaning:
// a name, number, address or MAC ("10.0.0.5", "aa:bb:cc:dd:ee:ff",
// "2001:db8::/64") is one word here, where dhcpd returns its parts
// separated by '.', ':' and '/' tokens and its parser joins them.
type dhcpdLexer struct {
	src     []byte
	i       int
	line    int
	tokLine int // line of the last token returned
	badLine int // line of the last unexpected character reported
	f       *dhcpdFile
}

func isDHCPDWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == ':' || c == '/'
}

func (lx *dhcpdLexer) next() dhcpdToken {
	for lx.i < len(lx.src) && !lx.f.src.stopped() {
		c := lx.src[lx.i]
		switch {
		case c == '\n':
			lx.line++
			lx.i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			lx.i++
		case c == '#':
			end := lx.i + 1
			for end < len(lx.src) && lx.src[end] != '\n' {
				end++
			}
			text := lx.src[lx.i+1 : end]
			if len(text) > dhcpdMaxComment {
				cut := dhcpdMaxComment
				for cut > 0 && !utf8.RuneStart(text[cut]) {
					cut--
				}
				text = text[:cut]
			}
			lx.f.comments[lx.line] = dhcpdComment{text: string(text), alone: lx.tokLine != lx.line}
			lx.i = end
		case c == '"':
			return lx.str()
		case isDHCPDWordByte(c):
			start := lx.i
			for lx.i < len(lx.src) && isDHCPDWordByte(lx.src[lx.i]) {
				lx.i++
			}
			t := dhcpdToken{kind: tokWord, text: string(lx.src[start:lx.i]), line: lx.line}
			if len(t.text) > dhcpdMaxToken {
				lx.f.src.problem(lx.line, "", "a word of %d characters (%s); dhcpd refuses tokens longer than %d bytes", len(t.text), t.quoted(), dhcpdMaxToken)
			}
			lx.tokLine = lx.line
			return t
		case c > ' ' && c < 0x7f:
			lx.i++
			lx.tokLine = lx.line
			return dhcpdToken{kind: tokPunct, text: string(c), line: lx.line}
		default:
			r, size := utf8.DecodeRune(lx.src[lx.i:])
			if lx.badLine != lx.line {
				lx.badLine = lx.line
				if r < utf8.RuneSelf || r == utf8.RuneError && size <= 1 {
					lx.f.src.problem(lx.line, "", "byte 0x%02x outside a quoted string or comment; dhcpd refuses it", c)
				} else {
					lx.f.src.problem(lx.line, "", "character %q (%U) outside a quoted string or comment; dhcpd refuses it", r, r)
				}
			}
			lx.i += size
		}
	}
	return dhcpdToken{kind: tokEOF, line: lx.line}
}

// str reads a quoted string; lx.i is at the opening quote. Escapes are
// dhcpd's: \t \r \n \b, \x and one or two hex digits, \ and one to three
// octal digits, and \c for any other c.
func (lx *dhcpdLexer) str() dhcpdToken {
	start := lx.line
	lx.i++
	var b []byte
	for lx.i < len(lx.src) {
		c := lx.src[lx.i]
		lx.i++
		switch c {
		case '"':
			if len(b) > dhcpdMaxToken {
				lx.f.src.problem(start, "", "a quoted string of %d bytes; dhcpd refuses strings longer than %d bytes", len(b), dhcpdMaxToken)
			}
			lx.tokLine = lx.line
			return dhcpdToken{kind: tokString, text: string(b), line: start}
		case '\n':
			lx.line++
			b = append(b, c)
		case '\\':
			if lx.i >= len(lx.src) {
				continue
			}
			e := lx.src[lx.i]
			lx.i++
			switch {
			case e == 't':
				b = append(b, '\t')
			case e == 'r':
				b = append(b, '\r')
			case e == 'n':
				b = append(b, '\n')
			case e == 'b':
				b = append(b, '\b')
			case e == 'x':
				v, n := 0, 0
				for ; n < 2 && lx.i < len(lx.src) && isHexDigit(lx.src[lx.i]); n++ {
					v = v*16 + hexValue(lx.src[lx.i])
					lx.i++
				}
				if n == 0 {
					lx.f.src.problem(lx.line, "", `"\x" in a quoted string without hex digits after it; dhcpd refuses it`)
				}
				b = append(b, byte(v))
			case e >= '0' && e <= '7':
				v := int(e - '0')
				for n := 1; n < 3 && lx.i < len(lx.src) && lx.src[lx.i] >= '0' && lx.src[lx.i] <= '7'; n++ {
					v = v*8 + int(lx.src[lx.i]-'0')
					lx.i++
				}
				b = append(b, byte(v))
			default:
				if e == '\n' {
					lx.line++
				}
				b = append(b, e)
			}
		default:
			b = append(b, c)
		}
	}
	lx.f.src.problem(start, "", `the quoted string that starts here is not closed with '"'; dhcpd would read the rest of the file into it`)
	return dhcpdToken{kind: tokEOF, line: lx.line}
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// dhcpdStmt is one statement: its tokens up to ';' or '{', and the
// statements of its block when it has one.
type dhcpdStmt struct {
	words    []dhcpdToken
	block    []*dhcpdStmt
	hasBlock bool
	line     int
	// broken marks a statement without its ';' (reported already), whose
	// words cannot be trusted.
	broken bool
}

// keyword returns the statement's first word in lower case (dhcpd's
// keywords are case-insensitive), or "".
func (s *dhcpdStmt) keyword() string {
	if len(s.words) == 0 || s.words[0].kind != tokWord {
		return ""
	}
	return strings.ToLower(s.words[0].text)
}

// parseDHCPD reads the statements of one file. It uses an explicit stack,
// so that hostile nesting cannot exhaust the goroutine's stack.
func parseDHCPD(lx *dhcpdLexer, src *source) []*dhcpdStmt {
	type frame struct {
		st   *dhcpdStmt
		list []*dhcpdStmt
	}
	stack := []*frame{{}}
	var cur *dhcpdStmt
	closeFrame := func() {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		f.st.block = f.list
		top := stack[len(stack)-1]
		top.list = append(top.list, f.st)
	}
	for {
		t := lx.next()
		top := stack[len(stack)-1]
		switch {
		case t.kind == tokEOF:
			if cur != nil {
				src.problem(cur.line, "", "the statement that starts here does not end with ';'")
				cur.broken = true
				top.list = append(top.list, cur)
			}
			for len(stack) > 1 {
				if !src.stopped() {
					src.problem(stack[len(stack)-1].st.line, "", "the '{' of this statement is not closed with '}'")
				}
				closeFrame()
			}
			return stack[0].list
		case t.is(';'):
			if cur != nil {
				top.list = append(top.list, cur)
				cur = nil
			}
		case t.is('{'):
			if cur == nil {
				cur = &dhcpdStmt{line: t.line}
			}
			cur.hasBlock = true
			if len(stack) > dhcpdMaxNesting {
				src.problem(t.line, "", "blocks are nested more than %d deep; the rest of the file is not read", dhcpdMaxNesting)
				for len(stack) > 1 {
					closeFrame()
				}
				return stack[0].list
			}
			stack = append(stack, &frame{st: cur})
			cur = nil
		case t.is('}'):
			if cur != nil {
				src.problem(cur.line, "", "the statement that starts here does not end with ';' before '}'")
				cur.broken = true
				top.list = append(top.list, cur)
				cur = nil
			}
			if len(stack) == 1 {
				src.problem(t.line, "", "'}' without a '{' before it")
				continue
			}
			closeFrame()
		default:
			if cur == nil {
				cur = &dhcpdStmt{line: t.line}
			}
			cur.words = append(cur.words, t)
		}
	}
}

// walk looks for host declarations and includes in a list of statements
// and in the blocks inside it.
func (r *dhcpdReader) walk(f *dhcpdFile, list []*dhcpdStmt) {
	for _, s := range list {
		if f.src.stopped() {
			return
		}
		switch s.keyword() {
		case "include":
			r.include(f, s)
		case "host":
			r.host(f, s)
		case "group":
			r.groupSettings(f, s)
			r.walk(f, s.block)
		default:
			if s.hasBlock {
				r.walk(f, s.block)
			}
		}
	}
}

// groupSettings warns about each setting of a group (filename,
// next-server, option routers, …) that applies to hosts: ipdesk keeps a
// host's address, MAC and name, so the hosts are imported without them.
func (r *dhcpdReader) groupSettings(f *dhcpdFile, g *dhcpdStmt) {
	if !hasHosts(g.block) {
		return
	}
	for _, st := range g.block {
		if st.broken {
			continue
		}
		kw := st.keyword()
		switch kw {
		case "host", "group", "include", "subnet", "subnet6", "shared-network":
			continue
		case "option":
			if len(st.words) >= 2 {
				kw += " " + clipString(st.words[1].text)
			}
		case "":
			kw = "a block"
		}
		if st.hasBlock {
			kw += " { }"
		}
		f.src.warn(st.line, "", "%s is a setting of the group at line %d for its hosts; ipdesk keeps a host's address, MAC and name, so the hosts are imported without it", kw, g.line)
	}
}

// hasHosts reports whether a block declares or includes hosts, directly
// or in blocks inside it.
func hasHosts(list []*dhcpdStmt) bool {
	for _, st := range list {
		switch st.keyword() {
		case "host", "include":
			return true
		}
		if st.hasBlock && hasHosts(st.block) {
			return true
		}
	}
	return false
}

func (r *dhcpdReader) include(f *dhcpdFile, s *dhcpdStmt) {
	if len(s.words) != 2 || s.words[1].kind != tokString || s.hasBlock {
		f.src.problem(s.line, "include", `include takes one file name in double quotes: include "/etc/dhcp/dhcpd.hosts";`)
		return
	}
	name := resolveInclude(f.src.name, s.words[1].text)
	data, msg, _ := r.guard.enter(name)
	if msg != "" {
		f.src.problem(s.line, "include", "%s", msg)
		return
	}
	defer r.guard.leave()
	r.readFile(name, data)
}

// commentAbove returns the comment lines directly above line (without
// blank lines between) and a comment on line itself.
func (f *dhcpdFile) commentAbove(line int) []string {
	var lines []string
	for l := line - 1; l > 0; l-- {
		c, ok := f.comments[l]
		if !ok || !c.alone {
			break
		}
		lines = append(lines, c.text)
	}
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	if c, ok := f.comments[line]; ok {
		lines = append(lines, c.text)
	}
	return lines
}

// dhcpdHost collects the statements of one host declaration.
type dhcpdHost struct {
	name       string
	mac        ipdesk.MAC
	hasHW      bool
	fixed      []dhcpdToken // the values of fixed-address or fixed-address6
	fixedKW    string
	fixedLine  int
	hostname   string
	hostLine   int
	ddns       string
	ddnsLine   int
	deleted    bool
	identified string   // how the host is matched when not by MAC
	ignored    []string // statements not imported
}

func (r *dhcpdReader) host(f *dhcpdFile, s *dhcpdStmt) {
	src := f.src
	if len(s.words) < 2 {
		src.problem(s.line, "", "host declaration without a name")
		return
	}
	nameTok := s.words[1]
	if nameTok.kind != tokWord {
		src.problem(s.line, "", "the name of a host declaration must be a bare name, not %s; dhcpd refuses it", nameTok.quoted())
		return
	}
	if len(s.words) > 2 {
		src.problem(s.line, "", "unexpected %s after the host name %q", s.words[2].quoted(), clipString(nameTok.text))
		return
	}
	if !s.hasBlock {
		src.problem(s.line, "", "host %s has no { } block", clipString(nameTok.text))
		return
	}
	pos := LineError{File: src.name, Line: s.line}.Pos()
	if first, ok := r.names[nameTok.text]; ok {
		src.problem(s.line, "", "host %s is declared twice (first at %s); dhcpd refuses that", clipString(nameTok.text), first)
		return
	}
	r.names[nameTok.text] = pos

	h := dhcpdHost{name: nameTok.text}
	before, broken := src.nproblems, false
	for _, st := range s.block {
		if st.broken {
			broken = true
			continue
		}
		r.hostStatement(src, &h, st)
	}
	if broken || src.nproblems > before {
		return // a host with a problem is not imported; the problem says why
	}
	if h.deleted {
		src.warn(s.line, "", "host %s is marked deleted; it is not imported", clipString(h.name))
		r.res.Skipped++
		return
	}
	if h.fixedKW != "" && len(h.fixed) == 0 {
		return // the statement's problem is reported
	}
	if len(h.fixed) == 0 {
		src.warn(s.line, "", "host %s has no fixed-address: no address to import; it is skipped", clipString(h.name))
		r.res.Skipped++
		return
	}
	addr, ok := r.fixedAddress(src, &h)
	if !ok {
		return
	}
	c := parseComment(src, s.line, f.commentAbove(s.line))
	hostname := ""
	switch {
	case h.hostname != "":
		hostname = h.hostname
		if err := ipdesk.ValidateHostname(hostname); err != nil {
			src.problem(h.hostLine, "hostname", "option host-name: %s", ipdesk.ErrorMessage(err))
			return
		}
	case h.ddns != "":
		hostname = h.ddns
		if err := ipdesk.ValidateHostname(hostname); err != nil {
			src.problem(h.ddnsLine, "hostname", "ddns-hostname: %s", ipdesk.ErrorMessage(err))
			return
		}
	case c.hostname != "":
		hostname = c.hostname
	default:
		hostname = nameHostname(h.name, addr)
		if hostname != "" && ipdesk.ValidateHostname(hostname) != nil {
			src.warn(s.line, "hostname", "the declaration name %q is not a valid host name; the host is imported without one", clipString(h.name))
			hostname = ""
		}
	}
	if !h.hasHW {
		how := "it has no hardware ethernet statement"
		if h.identified != "" {
			how = "it is matched by " + h.identified + ", not by a MAC"
		}
		src.warn(s.line, "mac", "host %s is imported without a DHCP reservation: %s", clipString(h.name), how)
	}
	if len(h.ignored) > 0 {
		src.warn(s.line, "", "host %s: not imported: %s (ipdesk keeps a host's address, MAC and name)", clipString(h.name), strings.Join(h.ignored, ", "))
	}
	r.res.addHost(src, r.seen, Host{
		Space: r.opt.Space, Address: addr, MAC: h.mac, Hostname: hostname,
		Owner: c.owner, Location: c.location, Description: c.description,
		DHCPReservation: !h.mac.IsZero(), Line: s.line, File: src.name, given: c.given,
	})
}

// hostStatement reads one statement inside a host declaration.
func (r *dhcpdReader) hostStatement(src *source, h *dhcpdHost, st *dhcpdStmt) {
	kw := st.keyword()
	w := st.words
	if st.hasBlock {
		if kw == "host" {
			src.problem(st.line, "", "a host declaration inside host %s; dhcpd refuses that", clipString(h.name))
			return
		}
		if kw == "" {
			kw = "a block"
		}
		h.ignore(kw + " { }")
		return
	}
	// extra reports words after the n expected ones.
	extra := func(n int, after string) bool {
		if len(w) > n {
			src.problem(w[n].line, "", "unexpected %s after %s (is a ';' missing?)", w[n].quoted(), after)
			return true
		}
		return false
	}
	switch kw {
	case "hardware":
		if h.hasHW {
			src.problem(st.line, "mac", "host %s has a second hardware statement; dhcpd refuses that", clipString(h.name))
			return
		}
		h.hasHW = true
		if len(w) < 3 {
			src.problem(st.line, "mac", "hardware needs a type and an address: hardware ethernet aa:bb:cc:dd:ee:ff;")
			return
		}
		if typ := strings.ToLower(w[1].text); typ != "ethernet" {
			src.problem(st.line, "mac", "hardware %s: ipdesk reserves addresses for Ethernet MACs only", clipString(w[1].text))
			return
		}
		if extra(3, "the MAC address") {
			return
		}
		m, err := parseColonMAC(w[2].text)
		if err != "" {
			src.problem(st.line, "mac", "hardware ethernet %s", err)
			return
		}
		h.mac = m
	case "fixed-address", "fixed-address6":
		if h.fixedKW != "" {
			src.problem(st.line, "address", "host %s has a second fixed address statement (the first is at line %d); dhcpd allows one per host", clipString(h.name), h.fixedLine)
			return
		}
		h.fixedKW, h.fixedLine = kw, st.line
		// A list of values separated by commas.
		for i := 1; i < len(w); i++ {
			if w[i].kind != tokWord {
				src.problem(w[i].line, "address", "%s: expected an address, found %s", kw, w[i].quoted())
				h.fixed = nil
				return
			}
			h.fixed = append(h.fixed, w[i])
			if i+1 < len(w) {
				if !w[i+1].is(',') {
					src.problem(w[i+1].line, "address", "unexpected %s after %s in %s (is a ';' missing?)", w[i+1].quoted(), w[i].quoted(), kw)
					h.fixed = nil
					return
				}
				i++
				if i+1 == len(w) {
					src.problem(w[i].line, "address", "%s ends with a comma", kw)
					h.fixed = nil
					return
				}
			}
		}
		if len(h.fixed) == 0 {
			src.problem(st.line, "address", "%s without an address", kw)
		}
	case "option":
		if len(w) >= 2 && strings.EqualFold(w[1].text, "host-name") {
			if len(w) < 3 || w[2].kind == tokPunct {
				src.problem(st.line, "hostname", `option host-name needs a name: option host-name "pc1";`)
				return
			}
			if extra(3, "the host name") {
				return
			}
			h.hostname, h.hostLine = w[2].text, st.line
			return
		}
		if len(w) >= 2 && strings.EqualFold(w[1].text, "dhcp-client-identifier") {
			h.identified = "option dhcp-client-identifier"
			return
		}
		name := "option"
		if len(w) >= 2 {
			name += " " + clipString(w[1].text)
		}
		h.ignore(name)
	case "ddns-hostname":
		if len(w) < 2 || w[1].kind == tokPunct {
			src.problem(st.line, "hostname", `ddns-hostname needs a name: ddns-hostname "pc1";`)
			return
		}
		if extra(2, "the host name") {
			return
		}
		h.ddns, h.ddnsLine = w[1].text, st.line
	case "deleted":
		h.deleted = true
	case "host-identifier", "uid":
		h.identified = kw
	case "":
		src.problem(st.line, "", "unexpected %s in host %s", w[0].quoted(), clipString(h.name))
	default:
		h.ignore(clipString(w[0].text))
	}
}

func (h *dhcpdHost) ignore(name string) {
	for _, n := range h.ignored {
		if n == name {
			return
		}
	}
	h.ignored = append(h.ignored, name)
}

// fixedAddress returns the host's address: the first value of its
// fixed-address (IPv4) or fixed-address6 (IPv6) statement.
func (r *dhcpdReader) fixedAddress(src *source, h *dhcpdHost) (netip.Addr, bool) {
	v := h.fixed[0].text
	line := h.fixedLine
	want6 := h.fixedKW == "fixed-address6"
	a, err := netip.ParseAddr(v)
	switch {
	case err == nil && a.Zone() != "":
		src.problem(line, "address", "%s %s has a zone; a reserved address cannot", h.fixedKW, clipString(v))
		return netip.Addr{}, false
	case err == nil && want6 && a.Is4():
		src.problem(line, "address", "fixed-address6 %s is an IPv4 address; use fixed-address", v)
		return netip.Addr{}, false
	case err == nil && !want6 && a.Is6():
		src.problem(line, "address", "fixed-address %s is an IPv6 address; use fixed-address6", clipString(v))
		return netip.Addr{}, false
	case err != nil && (want6 || strings.Trim(v, "0123456789.") == ""):
		src.problem(line, "address", "%s %q is not a valid IP address", h.fixedKW, clipString(v))
		return netip.Addr{}, false
	case err != nil:
		src.problem(line, "address", "fixed-address %s is a DNS name; ipdesk stores addresses, so write the host's IP address into the file to import it", clipString(v))
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if len(h.fixed) > 1 {
		src.warn(line, "address", "%s lists %d addresses; only the first, %s, is imported (ipdesk keeps one address per host declaration)", h.fixedKW, len(h.fixed), a)
	}
	return a, true
}

// nameHostname returns the host name that a declaration name stands for.
// ipdesk's writer names hosts "<name>-<address fields>" or
// "host-<address fields>" (see render.ISCDHCP); such a name gives back
// <name> (in lower case, with hyphens for dots, as written) or no name.
// Other declaration names are taken as they are.
func nameHostname(decl string, addr netip.Addr) string {
	suffix := addrSuffix(addr)
	if len(decl) > len(suffix) && strings.EqualFold(decl[len(decl)-len(suffix):], suffix) {
		base := decl[:len(decl)-len(suffix)]
		if base == "host" {
			return ""
		}
		return base
	}
	return decl
}

// addrSuffix returns the address part of the declaration names ipdesk
// writes: "-10-0-0-5", or the eight groups of an IPv6 address in
// hexadecimal without leading zeros.
func addrSuffix(addr netip.Addr) string {
	var b strings.Builder
	if addr.Is4() {
		for _, x := range addr.As4() {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(int(x)))
		}
		return b.String()
	}
	a := addr.As16()
	for i := 0; i < 16; i += 2 {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(a[i])<<8|uint64(a[i+1]), 16))
	}
	return b.String()
}

// parseColonMAC parses a MAC written with colons, whose bytes dhcpd and
// dnsmasq also accept with one hex digit ("0:1a:2b:3c:4d:5e"). It returns
// a message on failure.
func parseColonMAC(s string) (ipdesk.MAC, string) {
	parts := strings.Split(s, ":")
	for _, p := range parts {
		if len(p) == 0 || len(p) > 2 || !isHex(p) {
			return ipdesk.MAC{}, fmt.Sprintf("%q is not a MAC address (write it as aa:bb:cc:dd:ee:ff)", clipString(s))
		}
	}
	if len(parts) != 6 {
		return ipdesk.MAC{}, fmt.Sprintf("%q has %d bytes; an Ethernet MAC has 6", clipString(s), len(parts))
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(':')
		}
		if len(p) == 1 {
			b.WriteByte('0')
		}
		b.WriteString(p)
	}
	m, err := ipdesk.ParseMAC(b.String())
	if err != nil {
		return ipdesk.MAC{}, ipdesk.ErrorMessage(err)
	}
	return m, ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}
