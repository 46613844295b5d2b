package outputs

import (
	"slices"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/apply"
)

func TestSpecs(t *testing.T) {
	good := func(mod func(*Spec)) []Spec {
		sp := Spec{Name: "dhcpd", Kind: apply.KindISCDHCP, Path: "/etc/dhcp/ipdesk.hosts",
			Validate: []string{"/usr/sbin/dhcpd", "-t", "-cf", "{main}"}, Reload: []string{"systemctl", "restart", "isc-dhcp-server"},
			MainConfig: "/etc/dhcp/dhcpd.conf", Timeout: "45s", Spaces: []string{"school"}, Prefixes: []string{"10.0.0.0/16", "2001:db8::/48"}}
		if mod != nil {
			mod(&sp)
		}
		return []Spec{sp}
	}
	squid := Spec{Name: "proxy", Kind: apply.KindSquidLevels, LevelFiles: map[string]string{"1": "/etc/squid/proxy1", "3": "/etc/squid/proxy3", "2": "/etc/squid/proxy2"},
		Validate: []string{"/usr/sbin/squid", "-k", "parse", "-f", "{main}"}, MainConfig: "/etc/squid/squid.conf", Reload: []string{"/usr/sbin/squid", "-k", "reconfigure"}}

	tests := []struct {
		name  string
		specs []Spec
		field string
		msg   string // part of the message
	}{
		{"no name", good(func(s *Spec) { s.Name = "" }), "name", "target name is required"},
		{"bad name", good(func(s *Spec) { s.Name = "dhcp/d" }), "name", `target name "dhcp/d"`},
		{"bad kind", good(func(s *Spec) { s.Kind = "bind" }), "kind", `target "dhcpd": kind "bind" is not one of isc-dhcp, isc-dhcp6, kea, dnsmasq, squid-levels`},
		{"rooms without lists", good(func(s *Spec) { s.Kind = apply.KindSquidRooms }), "path", `target "dhcpd": kind squid-rooms writes two lists: give them in hosts_file and names_file, not in path`},
		{"rooms lists elsewhere", good(func(s *Spec) { s.HostsFile = "/var/lib/ipdesk/blocked.txt" }), "hosts_file", "hosts_file and names_file are only for kind squid-rooms"},
		{"relative path", good(func(s *Spec) { s.Path = "dhcpd.hosts" }), "path", `target "dhcpd": path "dhcpd.hosts" is not an absolute path`},
		{"no path", good(func(s *Spec) { s.Path = "" }), "path", `target "dhcpd": path is required`},
		{"main without main_config", good(func(s *Spec) { s.MainConfig = "" }), "validate", "main_config is empty"},
		{"validate checks the live file", good(func(s *Spec) { s.Validate = []string{"dhcpd", "-t"} }), "validate", "mentions neither"},
		{"relative program", good(func(s *Spec) { s.Reload = []string{"bin/reload"} }), "reload", "relative path"},
		{"bad timeout", good(func(s *Spec) { s.Timeout = "soon" }), "timeout", `target "dhcpd": timeout "soon" is not a positive duration`},
		{"negative timeout", good(func(s *Spec) { s.Timeout = "-5s" }), "timeout", "not a positive duration"},
		{"bad prefix", good(func(s *Spec) { s.Prefixes = []string{"10.0.0.0/33"} }), "prefixes", `target "dhcpd": prefix "10.0.0.0/33" is not a CIDR prefix`},
		{"host bits", good(func(s *Spec) { s.Prefixes = []string{"10.0.0.1/24"} }), "prefixes", "did you mean 10.0.0.0/24?"},
		{"overlapping prefixes", good(func(s *Spec) { s.Prefixes = []string{"10.0.0.0/16", "10.0.5.0/24"} }), "prefixes", "10.0.0.0/16 and 10.0.5.0/24 overlap"},
		{"empty space", good(func(s *Spec) { s.Spaces = []string{""} }), "spaces", "empty"},
		{"space twice", good(func(s *Spec) { s.Spaces = []string{"a", "a"} }), "spaces", `space "a" is named twice`},
		{"level files elsewhere", good(func(s *Spec) { s.LevelFiles = map[string]string{"1": "/x"} }), "level_files", "only for kind squid-levels"},
		{"squid with path", []Spec{func() Spec { s := squid; s.Path = "/etc/squid/levels"; return s }()}, "path", "give them in level_files"},
		{"squid without files", []Spec{func() Spec { s := squid; s.LevelFiles = nil; return s }()}, "level_files", "needs level_files"},
		{"squid bad level", []Spec{func() Spec { s := squid; s.LevelFiles = map[string]string{"one": "/x"}; return s }()}, "level_files", `key "one" is not an access level`},
		{"squid level too high", []Spec{func() Spec { s := squid; s.LevelFiles = map[string]string{"100": "/x"}; return s }()}, "level_files", `key "100"`},
		{"squid level padded", []Spec{func() Spec { s := squid; s.LevelFiles = map[string]string{"01": "/x"}; return s }()}, "level_files", `key "01"`},
		{"squid relative file", []Spec{func() Spec { s := squid; s.LevelFiles = map[string]string{"1": "proxy1"}; return s }()}, "level_files", `target "proxy": level_files "1": path "proxy1" is not an absolute path`},
		{"squid bad reload", []Spec{func() Spec { s := squid; s.Reload = []string{""}; return s }()}, "reload", `target "proxy": reload has an empty program name`},
		{"same name", append(good(nil), good(func(s *Spec) { s.Path = "/x" })...), "name", `target "dhcpd": the name is also used by target "dhcpd"`},
		{"same path", append(good(nil), good(func(s *Spec) { s.Name = "other" })...), "path", `path "/etc/dhcp/ipdesk.hosts" is also written by target "dhcpd"`},
		{"level name taken", []Spec{squid, {Name: "proxy.level1", Kind: apply.KindDnsmasq, Path: "/x"}}, "name", `target "proxy.level1": the name is also used by target "proxy"`},
		{"level path taken", []Spec{{Name: "lists", Kind: apply.KindDnsmasq, Path: "/etc/squid/proxy2"}, squid}, "path", `target "proxy.level2": path "/etc/squid/proxy2" is also written by target "lists"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.specs)
			if err == nil {
				t.Fatal("accepted")
			}
			if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != tc.field || !strings.Contains(ipdesk.ErrorMessage(err), tc.msg) {
				t.Errorf("got %s field %q: %s\nwant field %q with %q", ipdesk.ErrorCode(err), ipdesk.ErrorField(err), ipdesk.ErrorMessage(err), tc.field, tc.msg)
			}
		})
	}

	ts, err := expand(append(good(nil), squid))
	if err != nil {
		t.Fatal(err)
	}
	var names, paths []string
	for _, x := range ts {
		names = append(names, x.Name+"("+x.group+")")
		paths = append(paths, x.Path)
	}
	if want := []string{"dhcpd(dhcpd)", "proxy.level1(proxy)", "proxy.level2(proxy)", "proxy.level3(proxy)"}; !slices.Equal(names, want) {
		t.Errorf("outputs %v, want %v", names, want)
	}
	if want := []string{"/etc/dhcp/ipdesk.hosts", "/etc/squid/proxy1", "/etc/squid/proxy2", "/etc/squid/proxy3"}; !slices.Equal(paths, want) {
		t.Errorf("paths %v, want %v", paths, want)
	}
	d := ts[0]
	if d.Timeout != 45*time.Second || d.MainConfig != "/etc/dhcp/dhcpd.conf" || len(d.scope.prefixes) != 2 || d.scope.spaces[0] != "school" {
		t.Errorf("dhcpd target %+v", d.Target)
	}
	if ts[2].level != 2 || !slices.Equal(ts[2].Reload, squid.Reload) || ts[2].MainConfig != squid.MainConfig {
		t.Errorf("level 2 target %+v", ts[2].Target)
	}
	// The specs are not shared with the targets.
	specs := good(nil)
	ts, _ = expand(specs)
	specs[0].Validate[0] = "/bin/false"
	if ts[0].Validate[0] != "/usr/sbin/dhcpd" {
		t.Error("the target shares the spec's argv")
	}
}

// TestKindsAffectedBy: which audited changes mark which outputs dirty.
func TestKindsAffectedBy(t *testing.T) {
	for _, tc := range []struct {
		types []string
		want  []string
	}{
		{[]string{ipdesk.ObjectAddress}, Kinds},
		{[]string{ipdesk.ObjectUser, ipdesk.ObjectToken}, nil},
		{[]string{ipdesk.ObjectAccessLevel}, []string{apply.KindSquidLevels}},
		{[]string{ipdesk.ObjectLocation}, []string{apply.KindISCDHCP, apply.KindISCDHCP6, apply.KindKea, apply.KindDnsmasq, apply.KindSquidRooms}},
		{[]string{ipdesk.ObjectAccessLevel, ipdesk.ObjectLocation}, []string{apply.KindSquidLevels, apply.KindISCDHCP, apply.KindISCDHCP6, apply.KindKea, apply.KindDnsmasq, apply.KindSquidRooms}},
		{[]string{ipdesk.ObjectLesson, ipdesk.ObjectOverride}, nil}, // the timetable's switcher applies those
	} {
		if got := KindsAffectedBy(tc.types); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.types, got, tc.want)
		}
	}
}

// TestStatuses: every status of package apply is an ipdesk.ApplyStatus,
// so runs convert one to one.
func TestStatuses(t *testing.T) {
	for _, s := range []apply.Status{apply.StatusUnchanged, apply.StatusApplied, apply.StatusInvalid, apply.StatusReloadFailed, apply.StatusRenderFailed, apply.StatusError} {
		if !slices.Contains(ipdesk.ApplyStatuses, ipdesk.ApplyStatus(s)) {
			t.Errorf("apply status %q is not an ipdesk.ApplyStatus", s)
		}
		if (apply.Run{Status: s}).OK() != ipdesk.ApplyStatus(s).OK() {
			t.Errorf("status %q: OK differs", s)
		}
	}
	if len(ipdesk.ApplyStatuses) != 6 {
		t.Errorf("%d ipdesk apply statuses, apply has 6", len(ipdesk.ApplyStatuses))
	}
}
