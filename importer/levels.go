package importer

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ipdesk"
)

// LevelList names the file that lists the addresses at one internet
// access level: for_dhcp's result/proxy1 … proxy3, or the squid lists
// ipdesk writes.
type LevelList struct {
	Level int
	File  string
}

// ParseLevelLists reads the value of the --levels flag:
// "proxy1=FILE,proxy2=FILE,proxy3=FILE". A level is written as proxyN (for_dhcp's
// file names), levelN or N, with N from 0 to ipdesk.MaxAccessLevel; each
// level may be named once.
func ParseLevelLists(s string) ([]LevelList, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []LevelList
	seen := map[int]bool{}
	for _, item := range strings.Split(s, ",") {
		key, file, ok := strings.Cut(item, "=")
		key, file = strings.TrimSpace(key), strings.TrimSpace(file)
		if !ok || key == "" || file == "" {
			return nil, fmt.Errorf("levels: %q is not LEVEL=FILE (such as proxy1=/srv/for_dhcp/result/proxy1)", clipString(item))
		}
		num := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(key), "proxy"), "level")
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n > ipdesk.MaxAccessLevel || num != strconv.Itoa(n) {
			return nil, fmt.Errorf("levels: %q is not an access level (write proxy1, level1 or 1; levels go from 0 to %d)", clipString(key), ipdesk.MaxAccessLevel)
		}
		if seen[n] {
			return nil, fmt.Errorf("levels: level %d is given twice", n)
		}
		seen[n] = true
		out = append(out, LevelList{Level: n, File: file})
	}
	return out, nil
}

// LevelEntry is one address of a level list.
type LevelEntry struct {
	Addr netip.Addr
	Line int
}

// ParseLevelList reads a level list: one address per line; '#' starts a
// comment; blank lines and blanks around an address are ignored (so are
// CRs of a CRLF file). An address may be written as a one-address prefix
// (10.0.0.5/32), as squid reads it. Anything else is a problem, reported
// with the file name and line; an address listed twice is a warning.
func ParseLevelList(name string, data []byte) (entries []LevelEntry, problems, warnings []LineError) {
	src := &source{name: name, res: &Result{}}
	seen := map[netip.Addr]int{}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		if src.stopped() {
			break
		}
		n := i + 1
		if j := bytes.IndexByte(raw, '#'); j >= 0 {
			raw = raw[:j]
		}
		s := strings.TrimSpace(string(raw))
		if s == "" {
			continue
		}
		a, msg := parseLevelAddr(s)
		if msg != "" {
			src.problem(n, "address", "%s", msg)
			continue
		}
		if first, ok := seen[a]; ok {
			src.warn(n, "address", "%s is listed again (first at line %d)", a, first)
			continue
		}
		seen[a] = n
		entries = append(entries, LevelEntry{Addr: a, Line: n})
	}
	return entries, src.res.Problems, src.res.Warnings
}

// parseLevelAddr parses one address of a level list.
func parseLevelAddr(s string) (netip.Addr, string) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Addr{}, fmt.Sprintf("%q is not an IP address", clipString(s))
		}
		if !p.IsSingleIP() {
			return netip.Addr{}, fmt.Sprintf("%s is a network of several addresses; a level list names single hosts", p)
		}
		return p.Addr().Unmap(), ""
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Sprintf("%q is not an IP address", clipString(s))
	}
	return a.Unmap(), ""
}

// ApplyLevels reads the level lists and sets the access level of the
// hosts they name. With lists given, they are the whole truth about the
// imported hosts, as they were for for_dhcp: an imported host in no list
// gets level 0 (no internet access). A listed address that is not among
// the imported hosts but stored in the space (existing, as ExportHosts
// returns it) is added to r with its stored data and the new level. An
// address in two lists, or in none of the hosts, is a problem; so is a
// list that cannot be read. Call it after MergeExisting.
func ApplyLevels(r *Result, lists []LevelList, existing []Host, opt ConfigOptions) {
	if len(lists) == 0 {
		return
	}
	imported := make(map[netip.Addr]int, len(r.Hosts))
	for i := range r.Hosts {
		r.Hosts[i].AccessLevel = 0
		imported[r.Hosts[i].Address] = i
	}
	stored := make(map[netip.Addr]*Host, len(existing))
	for i := range existing {
		stored[existing[i].Address] = &existing[i]
	}
	type listed struct {
		level int
		pos   string
	}
	seen := map[netip.Addr]listed{}
	for _, l := range lists {
		data, err := opt.readFile(l.File)
		if err != nil {
			r.Problems = append(r.Problems, LineError{File: l.File, Field: "levels", Err: fmt.Sprintf("the list of level %d cannot be read: %v", l.Level, err)})
			continue
		}
		entries, problems, warnings := ParseLevelList(l.File, data)
		r.Problems = append(r.Problems, problems...)
		r.Warnings = append(r.Warnings, warnings...)
		for _, e := range entries {
			pos := LineError{File: l.File, Line: e.Line}
			if prev, ok := seen[e.Addr]; ok {
				pos.Field, pos.Err = "levels", fmt.Sprintf("%s is also in the list of level %d (%s); a host has one access level", e.Addr, prev.level, prev.pos)
				r.Problems = append(r.Problems, pos)
				continue
			}
			seen[e.Addr] = listed{l.Level, pos.Pos()}
			if i, ok := imported[e.Addr]; ok {
				r.Hosts[i].AccessLevel = l.Level
				continue
			}
			if h := stored[e.Addr]; h != nil {
				c := *h
				c.AccessLevel, c.File, c.Line, c.given = l.Level, l.File, e.Line, givenAll
				imported[e.Addr] = len(r.Hosts)
				r.Hosts = append(r.Hosts, c)
				continue
			}
			pos.Field, pos.Err = "levels", fmt.Sprintf("%s is neither among the imported hosts nor stored in space %q; a level needs a host", e.Addr, opt.Space)
			r.Problems = append(r.Problems, pos)
		}
	}
}
