package outputs

import (
	"fmt"
	"io/fs"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ipdesk"
	"ipdesk/apply"
)

// Kinds are the target kinds a config file may name.
var Kinds = []string{apply.KindISCDHCP, apply.KindISCDHCP6, apply.KindKea, apply.KindDnsmasq, apply.KindSquidLevels, apply.KindSquidRooms}

// levelSuffix joins a squid-levels target's name and a level number into
// the name of the output of that level: "proxy" and 1 give "proxy.level1".
const levelSuffix = ".level"

// Spec is one target as the server's config file describes it:
//
//	{"name": "dhcpd", "kind": "isc-dhcp", "path": "/etc/dhcp/ipdesk.hosts",
//	 "validate": ["/usr/sbin/dhcpd", "-t", "-cf", "{main}"],
//	 "reload": ["systemctl", "restart", "isc-dhcp-server"],
//	 "main_config": "/etc/dhcp/dhcpd.conf", "timeout": "30s",
//	 "spaces": ["school"], "prefixes": ["10.20.0.0/16"]}
//
// A squid-levels target has no path but one file per access level,
// "level_files": {"1": "/etc/squid/proxy1", "2": "/etc/squid/proxy2"}.
// It becomes one output per level, named NAME.levelN (proxy.level1), each
// rendered, checked, swapped and reloaded on its own: apply writes one file
// per target, and a list that did not change is neither written nor
// reloaded. All of them share the target's validate, reload, main_config,
// timeout and scope, and "ipdesk apply NAME" applies them all. Hosts at a
// level without a file are in no list.
//
// A squid-rooms target (the timetable's blocked rooms) has no path either
// but "hosts_file" (the addresses of the hosts in blocked rooms) and
// "names_file" (the host name patterns of blocked rooms), one or both; see
// rooms.go.
type Spec struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Path       string   `json:"path"`
	Validate   []string `json:"validate"`
	Reload     []string `json:"reload"`
	MainConfig string   `json:"main_config"`
	// Timeout limits each command, as a Go duration ("30s", "2m"); ""
	// means apply.DefaultTimeout.
	Timeout string `json:"timeout"`
	// Spaces and Prefixes are the scope: the addresses of the named spaces
	// and inside the given prefixes feed the target. Empty Spaces means
	// every space, empty Prefixes every address of those spaces. Spaces
	// are looked up by name at each render, so a space that does not
	// exist makes the render fail (and nothing is written).
	Spaces   []string `json:"spaces"`
	Prefixes []string `json:"prefixes"`
	// LevelFiles maps access level numbers to list files (squid-levels
	// only).
	LevelFiles map[string]string `json:"level_files"`
	// HostsFile and NamesFile are the lists of a squid-rooms target.
	HostsFile string `json:"hosts_file"`
	NamesFile string `json:"names_file"`
	// FileMode is the octal permission bits of the written files ("0640");
	// "" keeps those of the live file (0644 for a new one).
	FileMode string `json:"file_mode"`
	// FileGroup is the group the written files get (the daemon's, so that
	// it can read a 0640 file when ipdesk does not run as root); "" keeps
	// the live file's.
	FileGroup string `json:"file_group"`
}

// scope selects the addresses that feed a target.
type scope struct {
	spaces   []string       // names; nil for every space
	prefixes []netip.Prefix // nil for every address
}

// target is one output: an apply target with what it is rendered from.
type target struct {
	apply.Target
	group string // the Spec's name
	level int    // the access level of a squid-levels output
	list  string // the list of a squid-rooms output: roomsHosts or roomsNames
	scope scope
	// covered is the newest audit entry before the latest render of an
	// apply began: the changes up to it are in that render.
	covered atomic.Int64
	// watched is the newest audit entry the watcher read that affects the
	// output; only the watcher uses it.
	watched int64

	mu        sync.Mutex
	leftOut   []ipdesk.LeftOut // what the latest render left out
	leftKnown bool             // a render has set leftOut
}

// leftOutKnown tells whether t has been rendered, so that leftOutList
// tells what it leaves out.
func (t *target) leftOutKnown() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leftKnown
}

// leftOutList returns a copy of the records the latest render of t left
// out (none before its first render).
func (t *target) leftOutList() []ipdesk.LeftOut {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.leftOut)
}

// specError returns an EINVALID error about a field of the target named
// name.
func specError(name, field, format string, args ...any) error {
	return ipdesk.FieldErrorf(ipdesk.EINVALID, field, "target %q: %s", name, fmt.Sprintf(format, args...))
}

// targets checks sp and returns its outputs.
func (sp *Spec) targets() ([]*target, error) {
	name := sp.Name
	if !slices.Contains(Kinds, sp.Kind) {
		if name == "" {
			name = "(no name)"
		}
		return nil, specError(name, "kind", "kind %q is not one of %s", sp.Kind, strings.Join(Kinds, ", "))
	}
	var timeout time.Duration
	if sp.Timeout != "" {
		d, err := time.ParseDuration(sp.Timeout)
		if err != nil || d <= 0 {
			return nil, specError(name, "timeout", "timeout %q is not a positive duration such as \"30s\" or \"2m\"", sp.Timeout)
		}
		timeout = d
	}
	sc, err := sp.scope()
	if err != nil {
		return nil, err
	}
	var mode uint64
	if sp.FileMode != "" {
		mode, err = strconv.ParseUint(sp.FileMode, 8, 32)
		if err != nil || mode == 0 || mode > 0o777 {
			return nil, specError(name, "file_mode", "file_mode %q is not octal permission bits such as \"0640\"", sp.FileMode)
		}
	}
	base := apply.Target{
		FileMode:   fs.FileMode(mode),
		FileGroup:  sp.FileGroup,
		Name:       name,
		Kind:       sp.Kind,
		Path:       sp.Path,
		Validate:   slices.Clone(sp.Validate),
		Reload:     slices.Clone(sp.Reload),
		MainConfig: sp.MainConfig,
		Timeout:    timeout,
	}
	if sp.Kind == apply.KindSquidRooms {
		return sp.roomTargets(base, sc)
	}
	if sp.HostsFile != "" || sp.NamesFile != "" {
		return nil, specError(name, "hosts_file", "hosts_file and names_file are only for kind %s", apply.KindSquidRooms)
	}
	if sp.Kind != apply.KindSquidLevels {
		if len(sp.LevelFiles) > 0 {
			return nil, specError(name, "level_files", "level_files is only for kind %s; kind %s writes one file, given by path", apply.KindSquidLevels, sp.Kind)
		}
		if err := base.Check(); err != nil {
			return nil, err
		}
		return []*target{{Target: base, group: name, scope: sc}}, nil
	}

	if sp.Path != "" {
		return nil, specError(name, "path", "kind %s writes one file per access level: give them in level_files, not in path", sp.Kind)
	}
	if len(sp.LevelFiles) == 0 {
		return nil, specError(name, "level_files", "kind %s needs level_files, e.g. {\"1\": \"/etc/squid/proxy1\", \"2\": \"/etc/squid/proxy2\"}", sp.Kind)
	}
	// Check the target as a whole once (name, commands), with the first
	// file as its path, before each level's own.
	keys := make([]string, 0, len(sp.LevelFiles))
	for k := range sp.LevelFiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	whole := base
	whole.Path = sp.LevelFiles[keys[0]]
	if err := whole.Check(); err != nil && ipdesk.ErrorField(err) != "path" {
		return nil, err
	}
	levels := make([]int, 0, len(keys))
	files := make(map[int]string, len(keys))
	for _, k := range keys {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || n > ipdesk.MaxAccessLevel || strconv.Itoa(n) != k {
			return nil, specError(name, "level_files", "level_files key %q is not an access level number 0..%d", k, ipdesk.MaxAccessLevel)
		}
		levels = append(levels, n)
		files[n] = sp.LevelFiles[k]
	}
	slices.Sort(levels)
	out := make([]*target, 0, len(levels))
	for _, n := range levels {
		t := base
		t.Name = name + levelSuffix + strconv.Itoa(n)
		t.Path = files[n]
		if err := t.Check(); err != nil {
			if ipdesk.ErrorField(err) == "path" {
				msg := strings.TrimPrefix(ipdesk.ErrorMessage(err), fmt.Sprintf("target %q: ", t.Name))
				return nil, specError(name, "level_files", "level_files %q: %s", strconv.Itoa(n), msg)
			}
			return nil, err
		}
		out = append(out, &target{Target: t, group: name, level: n, scope: sc})
	}
	return out, nil
}

// scope checks and returns the scope of sp.
func (sp *Spec) scope() (scope, error) {
	var sc scope
	for _, s := range sp.Spaces {
		if strings.TrimSpace(s) == "" {
			return sc, specError(sp.Name, "spaces", "a space name in spaces is empty")
		}
		if slices.Contains(sc.spaces, s) {
			return sc, specError(sp.Name, "spaces", "space %q is named twice in spaces", s)
		}
		sc.spaces = append(sc.spaces, s)
	}
	for _, s := range sp.Prefixes {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return sc, specError(sp.Name, "prefixes", "prefix %q is not a CIDR prefix such as 10.20.0.0/16", s)
		}
		if p.Addr().Zone() != "" || p.Addr().Is4In6() {
			return sc, specError(sp.Name, "prefixes", "prefix %q is not a plain IPv4 or IPv6 prefix", s)
		}
		if p.Masked() != p {
			return sc, specError(sp.Name, "prefixes", "prefix %q has host bits set; did you mean %s?", s, p.Masked())
		}
		for _, q := range sc.prefixes {
			if q.Overlaps(p) {
				return sc, specError(sp.Name, "prefixes", "prefixes %s and %s overlap; name the larger one only", q, p)
			}
		}
		sc.prefixes = append(sc.prefixes, p)
	}
	return sc, nil
}

// expand checks specs and returns their outputs in order. Names of
// targets and outputs and the files they write must be unique.
func expand(specs []Spec) ([]*target, error) {
	var out []*target
	names := map[string]string{} // output or group name → group name
	paths := map[string]string{} // path → output name
	for i := range specs {
		sp := &specs[i]
		ts, err := sp.targets()
		if err != nil {
			return nil, err
		}
		if g, dup := names[sp.Name]; dup {
			return nil, specError(sp.Name, "name", "the name is also used by target %q", g)
		}
		names[sp.Name] = sp.Name
		for _, t := range ts {
			if g, dup := names[t.Name]; dup && t.Name != sp.Name {
				return nil, specError(sp.Name, "name", "its output %q has the name of target %q", t.Name, g)
			}
			names[t.Name] = sp.Name
			if other, dup := paths[t.Path]; dup {
				return nil, specError(t.Name, "path", "path %q is also written by target %q", t.Path, other)
			}
			paths[t.Path] = t.Name
			out = append(out, t)
		}
	}
	return out, nil
}

// Check checks the target specs of a config file and returns the first
// problem as an *ipdesk.Error that names the target and the field.
func Check(specs []Spec) error {
	_, err := expand(specs)
	return err
}
