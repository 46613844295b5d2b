package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"ipdesk"
)

// Limits of the configuration readers (ReadDHCPD, ReadDnsmasq and the
// access level lists). They keep a file given by mistake (a device, a
// binary, an include loop) from exhausting memory or flooding the report.
const (
	// MaxConfigFileSize bounds each file read.
	MaxConfigFileSize = 64 << 20
	// MaxIncludeDepth bounds nested includes: dhcpd's include statement,
	// dnsmasq's conf-file and dhcp-hostsfile.
	MaxIncludeDepth = 8
	// MaxIncludes bounds the includes followed in one import, so that
	// files that include each other many times over cannot make it read
	// without end.
	MaxIncludes = 1000
	// MaxImportSize bounds the bytes of all files read in one import.
	MaxImportSize = 4 * MaxConfigFileSize
	// maxProblemsPerFile stops reading a file after so many problems.
	maxProblemsPerFile = 200
)

// ConfigOptions tell ReadDHCPD, ReadDnsmasq and ApplyLevels how to read.
type ConfigOptions struct {
	// Space is the name of the address space the hosts are imported into;
	// every host read gets it.
	Space string
	// ReadFile reads a file: the one given, the files it includes and
	// the level lists. Nil means ReadConfigFile.
	ReadFile func(name string) ([]byte, error)
}

func (o *ConfigOptions) readFile(name string) ([]byte, error) {
	if o.ReadFile != nil {
		return o.ReadFile(name)
	}
	return ReadConfigFile(name)
}

// ReadConfigFile reads a configuration file of at most MaxConfigFileSize
// bytes. A directory is an error; a pipe (such as the command line's
// <(ssh host cat /etc/dhcp/dhcpd.conf)) is read to its end, but includes
// must name regular files.
func ReadConfigFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if st.IsDir() {
		return nil, &os.PathError{Op: "read", Path: name, Err: errIsDir}
	}
	return ReadLimited(f, name)
}

// errIsDir is the error of ReadConfigFile for a directory.
var errIsDir = errors.New("is a directory, not a file")

// ReadLimited reads r to its end, refusing more than MaxConfigFileSize
// bytes; name is for the error message.
func ReadLimited(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxConfigFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxConfigFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB, which no configuration file is", name, MaxConfigFileSize>>20)
	}
	return b, nil
}

// Result is what a configuration reader found.
type Result struct {
	// Hosts are the hosts to import, each with its file and line.
	Hosts []Host
	// Problems stop the import: nothing may be written while there are any.
	Problems []LineError
	// Warnings tell what was read differently from the file or left out.
	Warnings []LineError
	// Skipped counts the declarations that carry nothing to import (no
	// address, or an entry that only tells the server to ignore a client).
	Skipped int
}

// fieldSet tells which text fields of a host its input gave.
type fieldSet uint8

const (
	givenOwner fieldSet = 1 << iota
	givenLocation
	givenDescription
	givenAll = givenOwner | givenLocation | givenDescription
)

// source is one file being read, with the problems and warnings found in
// it.
type source struct {
	name string
	res  *Result
	// nproblems counts this file's problems; past maxProblemsPerFile the
	// reader stops.
	nproblems int
}

func (s *source) problem(line int, field, format string, args ...any) {
	s.nproblems++
	if s.nproblems == maxProblemsPerFile+1 {
		s.res.Problems = append(s.res.Problems, LineError{File: s.name, Line: line, Err: fmt.Sprintf("more than %d problems; the rest of the file is not read", maxProblemsPerFile)})
	}
	if s.nproblems > maxProblemsPerFile {
		return
	}
	s.res.Problems = append(s.res.Problems, LineError{File: s.name, Line: line, Field: field, Err: fmt.Sprintf(format, args...)})
}

func (s *source) warn(line int, field, format string, args ...any) {
	s.res.Warnings = append(s.res.Warnings, LineError{File: s.name, Line: line, Field: field, Err: fmt.Sprintf(format, args...)})
}

// stopped reports whether the file had so many problems that reading it
// should stop.
func (s *source) stopped() bool { return s.nproblems > maxProblemsPerFile }

// includeGuard follows includes, refusing loops and deep nesting.
type includeGuard struct {
	opt   *ConfigOptions
	stack []string // cleaned absolute names of the files being read
	count int      // includes followed
	bytes int      // bytes read
}

// resolve returns the name of a file an include in from names: relative
// names are taken relative to the directory of the including file.
func resolveInclude(from, name string) string {
	if filepath.IsAbs(name) || from == "" {
		return name
	}
	return filepath.Join(filepath.Dir(from), name)
}

// enter reads the included file name (already resolved). It returns a
// message for a loop, too deep a nesting or a file that cannot be read
// (with the error of reading it); leave must be called after a successful
// enter.
func (g *includeGuard) enter(name string) ([]byte, string, error) {
	key := name
	if abs, err := filepath.Abs(name); err == nil {
		key = abs
	}
	for _, f := range g.stack {
		if f == key {
			return nil, fmt.Sprintf("%s includes itself (through %s); the include is not followed", name, strings.Join(g.stack, " → ")), nil
		}
	}
	if len(g.stack) > MaxIncludeDepth {
		return nil, fmt.Sprintf("includes are nested more than %d deep; %s is not read", MaxIncludeDepth, name), nil
	}
	if g.count >= MaxIncludes {
		return nil, fmt.Sprintf("more than %d includes in one import; %s is not read", MaxIncludes, name), nil
	}
	g.count++
	if g.opt.ReadFile == nil {
		// A device or a pipe could block the import or never end.
		if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
			return nil, fmt.Sprintf("%s is not a regular file; it is not read", name), nil
		}
	}
	data, err := g.opt.readFile(name)
	if err != nil {
		shown := err
		var pe *os.PathError
		if errors.As(err, &pe) {
			shown = pe.Err
		}
		return nil, fmt.Sprintf("cannot read %s: %v", name, shown), err
	}
	if g.bytes += len(data); g.bytes > MaxImportSize {
		return nil, fmt.Sprintf("the files of this import are larger than %d MiB together; %s is not read", MaxImportSize>>20, name), nil
	}
	g.stack = append(g.stack, key)
	return data, "", nil
}

func (g *includeGuard) leave() { g.stack = g.stack[:len(g.stack)-1] }

// push records the top-level file, of size bytes, as being read.
func (g *includeGuard) push(name string, size int) {
	g.bytes = size
	key := name
	if abs, err := filepath.Abs(name); err == nil {
		key = abs
	}
	g.stack = append(g.stack, key)
}

// hostComment holds what the comment lines about a host say.
type hostComment struct {
	owner, location, description string
	// hostname is a valid host name that the writer did not send (dnsmasq
	// would have misread it) and named in the comment instead.
	hostname string
	given    fieldSet
}

// commentLabels are the fields of the comment ipdesk's writers (package
// render) put above each host, in the order they are written:
//
//	# owner: …; room: Site / Building / Room; description: …; note: …
var commentLabels = []string{"owner: ", "room: ", "description: ", "note: "}

// renderPathSeparator joins location names in the writers' comments.
const renderPathSeparator = " / "

// parseComment reads the comment lines about a host (without their '#').
// The comment ipdesk writes gives the owner, the room (as a location path)
// and the description; any other comment becomes the description. The
// header lines of a file ipdesk wrote are left out. What had to be changed
// to make the text importable is reported to src as a warning at line.
func parseComment(src *source, line int, lines []string) hostComment {
	var c hostComment
	var text []string
	for _, l := range lines {
		l = cleanComment(src, line, l)
		if l != "" && !isIpdeskHeader(l) {
			text = append(text, l)
		}
	}
	if len(text) == 0 {
		return c
	}
	if last := text[len(text)-1]; isIpdeskComment(last) {
		// ipdesk writes one line per host; lines above it are not about
		// the host.
		f := splitIpdeskComment(last)
		c.owner = f["owner: "]
		c.location = strings.ReplaceAll(f["room: "], renderPathSeparator, PathSeparator)
		c.description = f["description: "]
		c.given = givenAll
		if note := f["note: "]; note != "" {
			c.hostname = noteHostname(src, line, note)
		}
	} else {
		c.description = strings.Join(text, " ")
		c.given = givenDescription
	}
	c.owner = clipField(src, line, "owner", c.owner, ipdesk.MaxOwnerLen)
	c.description = clipField(src, line, "description", c.description, ipdesk.MaxDescriptionLen)
	if ipdesk.ValidateText("location", c.location, 10*ipdesk.MaxNameLen) != nil {
		src.warn(line, "location", "the room in the comment is not a location path ipdesk can hold; it is not imported")
		c.location = ""
	}
	return c
}

// cleanComment makes one comment line importable text: invalid UTF-8
// becomes U+FFFD and control characters (tabs, a CR of a CRLF file)
// become blanks, as ipdesk's text fields hold neither; blanks at the ends
// are trimmed.
func cleanComment(src *source, line int, s string) string {
	if !utf8.ValidString(s) {
		src.warn(line, "description", "the comment is not valid UTF-8; the bad bytes are replaced by U+FFFD")
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// clipField shortens s to max characters, with a warning.
func clipField(src *source, line int, field, s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	src.warn(line, field, "the %s from the comment is longer than %d characters and is cut there", field, max)
	r := []rune(s)
	return strings.TrimSpace(string(r[:max-1])) + "…"
}

// isIpdeskHeader reports whether s is a line of the header of a file that
// ipdesk wrote, which is not about the host below it.
func isIpdeskHeader(s string) bool {
	return strings.Contains(s, ", written by ipdesk: ") || s == "Do not edit: ipdesk replaces this file."
}

// isIpdeskComment reports whether s starts like the comment ipdesk writes.
func isIpdeskComment(s string) bool {
	for _, l := range commentLabels {
		if strings.HasPrefix(s, l) {
			return true
		}
	}
	return false
}

// splitIpdeskComment splits "owner: a; room: b; description: c" into its
// fields. A field ends where a later label follows "; "; text that itself
// contains "; description: " therefore cannot be told apart and is split
// there. A note is recognised only in the form the writers use ("; note:
// host name "…), so descriptions may contain "; note: " freely.
func splitIpdeskComment(s string) map[string]string {
	f := map[string]string{}
	for i := 0; i < len(commentLabels) && s != ""; i++ {
		label := commentLabels[i]
		if !strings.HasPrefix(s, label) {
			continue
		}
		s = s[len(label):]
		end := len(s)
		for _, later := range commentLabels[i+1:] {
			sep := "; " + later
			if later == "note: " {
				sep += `host name "`
			}
			if j := strings.Index(s, sep); j >= 0 && j < end {
				end = j
			}
		}
		f[label] = strings.TrimSpace(s[:end])
		s = strings.TrimPrefix(s[end:], "; ")
	}
	return f
}

// noteHostname reads the host name out of a writer's note. The dnsmasq
// writer leaves out valid names that dnsmasq would misread ("45m",
// "infinite") and names them in the note; they are taken back. Invalid
// names, which the writers never send, cannot be imported.
func noteHostname(src *source, line int, note string) string {
	const pre = `host name "`
	rest, ok := strings.CutPrefix(note, pre)
	if !ok {
		return ""
	}
	i := strings.LastIndex(rest, `" is not `)
	if i < 0 {
		return ""
	}
	name := rest[:i]
	if ipdesk.ValidateHostname(name) != nil {
		src.warn(line, "hostname", "the comment names the host name %q, which is not a valid host name; the host is imported without one", clipString(name))
		return ""
	}
	return name
}

// clipString shortens s for a message.
func clipString(s string) string {
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

// position of a host for messages about it.
func (h *Host) pos() string {
	return LineError{File: h.File, Line: h.Line}.Pos()
}

// addHost appends h to the result unless its address is there already.
// The same address with the same MAC and host name (a host declared twice,
// or a file included twice) is a warning; anything else is a problem, as
// ipdesk keeps one host per address.
func (r *Result) addHost(src *source, seen map[netip.Addr]int, h Host) {
	if i, ok := seen[h.Address]; ok {
		old := &r.Hosts[i]
		if old.MAC == h.MAC && old.Hostname == h.Hostname {
			src.warn(h.Line, "address", "address %s is given again, as at %s; it is imported once", h.Address, old.pos())
			return
		}
		src.problem(h.Line, "address", "address %s is already reserved at %s (MAC %s); ipdesk keeps one host per address", h.Address, old.pos(), macOrNone(old.MAC))
		return
	}
	seen[h.Address] = len(r.Hosts)
	r.Hosts = append(r.Hosts, h)
}

func macOrNone(m ipdesk.MAC) string {
	if m.IsZero() {
		return "none"
	}
	return m.String()
}

// MergeExisting completes the hosts of r whose address is already stored
// (existing: the hosts of the space, as ExportHosts returns them) with the
// stored fields that a DHCP configuration does not carry: status, phone
// and access level always, and owner, location and description unless a
// comment above the host gave them. The MAC, host name and reservation
// come from the file. So importing a configuration again does not erase
// what was entered in ipdesk since.
func MergeExisting(r *Result, existing []Host) {
	byAddr := make(map[netip.Addr]*Host, len(existing))
	for i := range existing {
		byAddr[existing[i].Address] = &existing[i]
	}
	for i := range r.Hosts {
		h := &r.Hosts[i]
		e := byAddr[h.Address]
		if e == nil {
			continue
		}
		h.Status, h.Phone, h.AccessLevel = e.Status, e.Phone, e.AccessLevel
		if h.given&givenOwner == 0 {
			h.Owner = e.Owner
		}
		if h.given&givenLocation == 0 {
			h.Location = e.Location
		}
		if h.given&givenDescription == 0 {
			h.Description = e.Description
		}
	}
}

// CheckLocations clears the location of every host whose location path
// does not exist in store and returns a warning for each: a room named in
// a comment is a hint, not a reason to refuse the import.
func CheckLocations(ctx context.Context, store ipdesk.Store, hosts []Host) ([]LineError, error) {
	n, err := loadNames(ctx, store)
	if err != nil {
		return nil, err
	}
	var warnings []LineError
	for i := range hosts {
		h := &hosts[i]
		if h.Location == "" {
			continue
		}
		if _, ok := n.locID[h.Location]; !ok {
			warnings = append(warnings, LineError{File: h.File, Line: h.Line, Field: "location",
				Err: fmt.Sprintf("location %q does not exist in ipdesk; the host is imported without a location", clipString(h.Location))})
			h.Location = ""
		}
	}
	return warnings, nil
}

// SameData reports whether two hosts carry the same data, whatever their
// positions in the input.
func SameData(a, b Host) bool {
	a.Line, a.File, a.given = 0, "", 0
	b.Line, b.File, b.given = 0, "", 0
	if a.Status == "" {
		a.Status = ipdesk.StatusActive
	}
	if b.Status == "" {
		b.Status = ipdesk.StatusActive
	}
	return a == b
}
