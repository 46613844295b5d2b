package leases

import (
	"strconv"
	"strings"
	"time"
)

// ParseISC reads ISC dhcpd's lease file (dhcpd.leases(5)). The file is a
// journal: a lease block for an address replaces any earlier one, so the
// last block wins. Blocks other than "lease" (the server DUID, failover
// state, dynamic hosts, DHCPv6 "ia-na") are passed over; a lease block
// that cannot be read, a statement inside one that cannot be read and a
// stray "}" are skipped and counted. A block cut off at the end of the
// file (dhcpd is still writing it) is skipped too.
func ParseISC(data []byte) File {
	p := iscParser{lx: iscLexer{src: data}}
	var c collector
	for {
		stmt, open, ok := p.statement()
		if !ok {
			break
		}
		if len(stmt) == 0 && !open {
			continue // an empty statement or a stray "}"
		}
		if !open {
			if !iscTopLevel[stmt[0].word] {
				p.skipped++
			}
			continue
		}
		if len(stmt) == 2 && stmt[0].word == "lease" {
			if l, ok := p.lease(stmt[1]); ok {
				c.add(l)
				continue
			}
			p.skipped++
			continue
		}
		p.skipBlock()
	}
	c.out.Skipped = p.skipped
	return c.out
}

// iscTopLevel are the statements outside blocks that dhcpd writes.
var iscTopLevel = map[string]bool{"authoring-byte-order": true, "server-duid": true, "lease-id-format": true}

// iscToken is a word, a quoted string or one of "{", "}", ";".
type iscToken struct {
	word   string
	quoted bool
	punct  byte // '{', '}', ';' or 0
}

// iscDelim marks the bytes that end a word.
var iscDelim = func() (d [256]bool) {
	for _, c := range []byte(" \t\n\r\f\v{};\"#") {
		d[c] = true
	}
	return d
}()

// iscLexer splits a dhcpd.leases file into tokens.
type iscLexer struct {
	src []byte
	pos int
}

// next returns the next token; ok is false at the end of the input. An
// unterminated string ends the input.
func (lx *iscLexer) next() (iscToken, bool) {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			lx.pos++
		case c == '#':
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '{' || c == '}' || c == ';':
			lx.pos++
			return iscToken{punct: c}, true
		case c == '"':
			return lx.str()
		default:
			start := lx.pos
			for lx.pos < len(lx.src) && !iscDelim[lx.src[lx.pos]] {
				lx.pos++
			}
			return iscToken{word: string(lx.src[start:lx.pos])}, true
		}
	}
	return iscToken{}, false
}

// str reads a quoted string with dhcpd's escapes: \" \\ \t \n \r and
// three octal digits.
func (lx *iscLexer) str() (iscToken, bool) {
	lx.pos++ // the opening quote
	var b strings.Builder
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		lx.pos++
		switch c {
		case '"':
			return iscToken{word: b.String(), quoted: true}, true
		case '\\':
			if lx.pos >= len(lx.src) {
				return iscToken{}, false
			}
			e := lx.src[lx.pos]
			lx.pos++
			switch {
			case e == 't':
				b.WriteByte('\t')
			case e == 'n':
				b.WriteByte('\n')
			case e == 'r':
				b.WriteByte('\r')
			case '0' <= e && e <= '7':
				v := int(e - '0')
				for k := 0; k < 2 && lx.pos < len(lx.src) && '0' <= lx.src[lx.pos] && lx.src[lx.pos] <= '7'; k++ {
					v = v*8 + int(lx.src[lx.pos]-'0')
					lx.pos++
				}
				b.WriteByte(byte(v))
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return iscToken{}, false
}

// iscParser reads statements from the lexer and counts what it skips.
type iscParser struct {
	lx      iscLexer
	skipped int
}

// statement reads the words of one statement up to ";" (open false) or
// "{" (open true). ok is false at the end of the input; a statement cut
// off there is counted as skipped. A stray "}" gives an empty statement
// and is counted.
func (p *iscParser) statement() (words []iscToken, open bool, ok bool) {
	for {
		tok, more := p.lx.next()
		if !more {
			if len(words) > 0 {
				p.skipped++
			}
			return nil, false, false
		}
		switch tok.punct {
		case ';':
			return words, false, true
		case '{':
			return words, true, true
		case '}':
			p.skipped++
			if len(words) > 0 {
				p.skipped++
			}
			return nil, false, true
		}
		words = append(words, tok)
	}
}

// skipBlock passes over the rest of a block whose "{" was read, nested
// blocks included.
func (p *iscParser) skipBlock() {
	depth := 1
	for depth > 0 {
		tok, more := p.lx.next()
		if !more {
			p.skipped++ // cut off
			return
		}
		switch tok.punct {
		case '{':
			depth++
		case '}':
			depth--
		}
	}
}

// lease reads the body of "lease ADDRESS {". ok is false when the
// address is not an IPv4 address or the block is cut off; the block is
// consumed either way.
func (p *iscParser) lease(addrTok iscToken) (Lease, bool) {
	addr, okAddr := parseAddr(addrTok.word)
	l := Lease{Addr: addr, State: StateActive}
	var cltt time.Time
	for {
		tok, more := p.lx.next()
		if !more {
			return Lease{}, false // cut off: dhcpd is still writing
		}
		var words []string
		for tok.punct == 0 {
			words = append(words, tok.word)
			if tok, more = p.lx.next(); !more {
				return Lease{}, false
			}
		}
		switch tok.punct {
		case '}':
			if len(words) > 0 {
				p.skipped++ // a statement without its ";"
			}
			if !okAddr || !addr.Is4() {
				return Lease{}, false
			}
			if !cltt.IsZero() {
				l.Seen = cltt
			} else {
				l.Seen = l.Starts
			}
			return l, true
		case '{':
			// "on expiry { … }" and the like.
			p.skipBlock()
			continue
		}
		if len(words) == 0 {
			continue
		}
		if !p.leaseStatement(&l, &cltt, words) {
			p.skipped++
		}
	}
}

// leaseStatement applies one statement of a lease block to l; false when
// a statement ipdesk reads cannot be read.
func (p *iscParser) leaseStatement(l *Lease, cltt *time.Time, w []string) bool {
	switch w[0] {
	case "starts", "ends", "cltt":
		if len(w) == 2 && w[0] == "ends" && w[1] == "never" {
			l.Never, l.Ends = true, time.Time{}
			return true
		}
		t, ok := iscTime(w[1:])
		if !ok {
			return false
		}
		switch w[0] {
		case "starts":
			l.Starts = t
		case "ends":
			l.Ends, l.Never = t, false
		default:
			*cltt = t
		}
	case "binding":
		if len(w) != 3 || w[1] != "state" {
			return false
		}
		l.State = iscState(w[2])
	case "abandoned":
		l.State = StateAbandoned
	case "hardware":
		if len(w) != 3 {
			return false
		}
		if w[1] != "ethernet" {
			return true // token-ring and the like: no Ethernet MAC
		}
		m, ok := parseHWAddr(w[2])
		if !ok {
			return false
		}
		l.MAC = m
	case "client-hostname":
		if len(w) != 2 {
			return false
		}
		l.Hostname = w[1]
	}
	return true
}

// iscState maps a binding state.
func iscState(s string) State {
	switch s {
	case "active":
		return StateActive
	case "free":
		return StateFree
	case "backup":
		return StateBackup
	case "expired":
		return StateExpired
	case "released":
		return StateReleased
	case "abandoned":
		return StateAbandoned
	}
	return StateOther
}

// iscTime reads "W YYYY/MM/DD HH:MM:SS" (UTC, W the weekday) or
// "epoch SECONDS", the two forms of db-time-format.
func iscTime(w []string) (time.Time, bool) {
	switch {
	case len(w) == 2 && w[0] == "epoch":
		n, err := strconv.ParseInt(w[1], 10, 64)
		if err != nil || n < 0 || n > 1<<40 {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	case len(w) == 3:
		t, err := time.Parse("2006/01/02 15:04:05", w[1]+" "+w[2])
		if err != nil {
			return time.Time{}, false
		}
		return t, true
	}
	return time.Time{}, false
}
