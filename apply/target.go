package apply

import (
	"bytes"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"ipdesk"
)

// Target kinds. The kind is informational for this package; the caller
// chooses the renderer by it.
const (
	KindISCDHCP     = "isc-dhcp"
	KindISCDHCP6    = "isc-dhcp6"
	KindKea         = "kea"
	KindDnsmasq     = "dnsmasq"
	KindSquidLevels = "squid-levels"
	KindSquidRooms  = "squid-rooms"
)

// Kinds lists the known target kinds.
var Kinds = []string{KindISCDHCP, KindISCDHCP6, KindKea, KindDnsmasq, KindSquidLevels, KindSquidRooms}

// Placeholders in a Validate argument.
const (
	// PlaceholderCandidate is replaced by the path of the candidate file.
	PlaceholderCandidate = "{candidate}"
	// PlaceholderMain is replaced by the path of a temporary copy of
	// MainConfig in which the live Path is replaced by the candidate's.
	PlaceholderMain = "{main}"
)

// DefaultTimeout is the time limit of one command when Target.Timeout is
// 0. It covers the slowest check ipdesk runs at the largest plan it is
// built for with a wide margin: "kea-dhcp4 -t" of a config with 100,000
// reservations took 4.7 s on a 2-core test machine under load (go test
// ./render/ -bench KeaCheck100k), and 2 minutes is 25 times that.
const DefaultTimeout = 2 * time.Minute

// maxNameLen bounds a target name; names appear in file names.
const maxNameLen = 64

// Target is one configuration file that ipdesk writes, with the commands
// that check and load it. Targets come only from the server owner's config
// file, never from the web UI or the API.
type Target struct {
	// Name identifies the target, e.g. "dhcpd": letters, digits, '.', '_'
	// and '-', at most 64 characters.
	Name string `json:"name"`
	// Kind is one of Kinds, e.g. "isc-dhcp".
	Kind string `json:"kind"`
	// Path is the live file, an absolute clean path. If it is a symbolic
	// link, the file it points to is replaced and the link stays.
	Path string `json:"path"`
	// Validate is the argv of the daemon's check, run without a shell;
	// empty means no check. It must mention {candidate} or {main}, or it
	// would check the live file instead of the new one.
	Validate []string `json:"validate,omitempty"`
	// Reload is the argv that makes the daemon load the live file, run
	// without a shell; empty means no reload. Placeholders are not allowed.
	Reload []string `json:"reload,omitempty"`
	// MainConfig is the daemon's main config that includes Path; it is
	// needed when Validate uses {main}.
	MainConfig string `json:"main_config,omitempty"`
	// Timeout limits each command; 0 means DefaultTimeout. When it runs
	// out, the command's whole process group is killed.
	Timeout time.Duration `json:"timeout,omitempty"`
	// FileMode, if not 0, is the permission bits the live file gets (e.g.
	// 0640); 0 keeps those of the live file, or 0644 for a new one.
	FileMode fs.FileMode `json:"file_mode,omitempty"`
	// FileGroup, if set, is the group (name or number) the live file gets,
	// e.g. the daemon's, so that a file of mode 0640 written by a non-root
	// ipdesk is readable by the daemon; ipdesk's user must be a member of
	// it. "" keeps the live file's group.
	FileGroup string `json:"file_group,omitempty"`
}

// Check reports the first problem of the target definition as an
// *ipdesk.Error with code EINVALID that names the field and the value.
func (t *Target) Check() error {
	if err := checkName(t.Name); err != nil {
		return err
	}
	if !knownKind(t.Kind) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "kind", "target %q: kind %q is not one of %s", t.Name, t.Kind, strings.Join(Kinds, ", "))
	}
	if err := checkPath(t.Name, "path", t.Path); err != nil {
		return err
	}
	if t.MainConfig != "" {
		if err := checkPath(t.Name, "main_config", t.MainConfig); err != nil {
			return err
		}
		if t.MainConfig == t.Path {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "main_config", "target %q: main_config %q is the same file as path", t.Name, t.MainConfig)
		}
	}
	if err := checkArgv(t.Name, "validate", t.Validate); err != nil {
		return err
	}
	if err := checkArgv(t.Name, "reload", t.Reload); err != nil {
		return err
	}
	if len(t.Validate) > 0 {
		usesMain, usesCandidate := false, false
		for _, a := range t.Validate {
			usesMain = usesMain || strings.Contains(a, PlaceholderMain)
			usesCandidate = usesCandidate || strings.Contains(a, PlaceholderCandidate)
		}
		if usesMain && t.MainConfig == "" {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "validate", "target %q: validate %q uses %s but main_config is empty", t.Name, strings.Join(t.Validate, " "), PlaceholderMain)
		}
		if !usesMain && !usesCandidate {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "validate", "target %q: validate %q mentions neither %s nor %s, so it would check the live file instead of the new one", t.Name, strings.Join(t.Validate, " "), PlaceholderCandidate, PlaceholderMain)
		}
	}
	for _, a := range t.Reload {
		if strings.Contains(a, PlaceholderCandidate) || strings.Contains(a, PlaceholderMain) {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "reload", "target %q: reload argument %q has a placeholder; placeholders exist only for validate", t.Name, a)
		}
	}
	if t.FileMode&^fs.ModePerm != 0 {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "file_mode", "target %q: file_mode %#o has bits beyond the permission bits 0777", t.Name, uint32(t.FileMode))
	}
	if t.FileGroup != "" {
		if _, err := lookupGroup(t.FileGroup); err != nil {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "file_group", "target %q: %v", t.Name, err)
		}
	}
	if t.Timeout < 0 {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "timeout", "target %q: timeout %s is negative", t.Name, t.Timeout)
	}
	return nil
}

// timeout returns the per-command time limit.
func (t *Target) timeout() time.Duration {
	if t.Timeout == 0 {
		return DefaultTimeout
	}
	return t.Timeout
}

func checkName(name string) error {
	if name == "" {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "name", "target name is required")
	}
	if len(name) > maxNameLen {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "name", "target name %q is longer than %d characters", name, maxNameLen)
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !ok {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "name", "target name %q has %q; use letters, digits, '.', '_' and '-'", name, c)
		}
	}
	if name[0] == '.' || name[0] == '-' {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "name", "target name %q must start with a letter or digit", name)
	}
	return nil
}

func knownKind(kind string) bool {
	for _, k := range Kinds {
		if k == kind {
			return true
		}
	}
	return false
}

func checkPath(name, field, p string) error {
	switch {
	case p == "":
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s is required", name, field)
	case strings.ContainsRune(p, 0):
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s %q contains a NUL byte", name, field, p)
	case !filepath.IsAbs(p):
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s %q is not an absolute path", name, field, p)
	case filepath.Clean(p) != p:
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s %q is not clean; write %q", name, field, p, filepath.Clean(p))
	case p == "/":
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s %q is a directory", name, field, p)
	}
	return nil
}

func checkArgv(name, field string, argv []string) error {
	if len(argv) == 0 {
		return nil
	}
	prog := argv[0]
	if prog == "" {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s has an empty program name", name, field)
	}
	// A relative name with a slash would depend on ipdesk's working
	// directory; a bare name is looked up in PATH.
	if strings.ContainsRune(prog, '/') && !filepath.IsAbs(prog) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s program %q is a relative path; give an absolute path or a bare name", name, field, prog)
	}
	for _, a := range argv {
		if strings.ContainsRune(a, 0) {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s argument %q contains a NUL byte", name, field, a)
		}
	}
	return nil
}

// expandArgs returns argv with the placeholders replaced.
func expandArgs(argv []string, candidate, main string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		a = strings.ReplaceAll(a, PlaceholderCandidate, candidate)
		if main != "" {
			a = strings.ReplaceAll(a, PlaceholderMain, main)
		}
		out[i] = a
	}
	return out
}

// replacePath replaces each occurrence of the path old in data by repl and
// returns the result and the number of replacements. An occurrence counts
// only as a whole path: the bytes around it must not be path characters,
// so "/etc/squid/rooms" does not match inside "/etc/squid/rooms.txt".
func replacePath(data []byte, old, repl string) ([]byte, int) {
	var out bytes.Buffer
	n := 0
	rest := data
	for {
		i := bytes.Index(rest, []byte(old))
		if i < 0 {
			break
		}
		end := i + len(old)
		consumed := len(data) - len(rest)
		before := consumed + i - 1
		whole := (before < 0 || !pathByte(data[before])) && (end >= len(rest) || !pathByte(rest[end]))
		if whole {
			out.Write(rest[:i])
			out.WriteString(repl)
			n++
		} else {
			out.Write(rest[:end])
		}
		rest = rest[end:]
	}
	if n == 0 {
		return data, 0
	}
	out.Write(rest)
	return out.Bytes(), n
}

// pathByte tells whether c can continue a file path.
func pathByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '/' || c == '+' || c == '~' || c == '@' || c == '%' || c >= 0x80
}
