package importer

import (
	"bytes"
	"testing"

	"ipdesk"
	"ipdesk/render"
)

// fuzzOptions let includes reach one file, "inc", whose content is the
// fuzzed input itself, so that include handling is fuzzed too.
func fuzzOptions(data []byte) ConfigOptions {
	return ConfigOptions{Space: "school", ReadFile: func(name string) ([]byte, error) {
		if name == "inc" {
			return data, nil
		}
		return noFiles(name)
	}}
}

// checkFuzzResult checks what every reader promises, whatever the input:
// each host has its space, a valid address and a position in a file that
// was read; each message has a position and a text; the report is bounded.
func checkFuzzResult(t *testing.T, res *Result, data []byte) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	files := map[string]bool{"f": true, "inc": true}
	for _, h := range res.Hosts {
		if h.Space != "school" || !h.Address.IsValid() || h.Address.Zone() != "" || h.Line < 1 || h.Line > lines || !files[h.File] {
			t.Fatalf("bad host %+v", h)
		}
		if h.DHCPReservation == h.MAC.IsZero() {
			t.Fatalf("reservation without a MAC, or a MAC without one: %+v", h)
		}
		if err := ipdesk.ValidateHostname(h.Hostname); err != nil {
			t.Fatalf("host with an invalid name: %+v", h)
		}
		for _, s := range []string{h.Owner, h.Description, h.Location} {
			if ipdesk.ValidateText("text", s, ipdesk.MaxDescriptionLen) != nil && len([]rune(s)) <= ipdesk.MaxDescriptionLen {
				t.Fatalf("host with text ipdesk cannot store: %+v", h)
			}
		}
	}
	for _, es := range [][]LineError{res.Problems, res.Warnings} {
		for _, e := range es {
			if e.Err == "" || e.Line < 1 || e.Line > lines || !files[e.File] {
				t.Fatalf("bad message %+v", e)
			}
		}
	}
	if len(res.Problems) > 2*(maxProblemsPerFile+1)*(MaxIncludeDepth+2) {
		t.Fatalf("%d problems", len(res.Problems))
	}
}

func FuzzParseDHCPD(f *testing.F) {
	for _, c := range dhcpdCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte("include \"inc\";\nhost a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }"))
	for _, r := range []func(*render.Input) ([]byte, error){render.ISCDHCP, render.ISCDHCP6} {
		b, _ := r(generated(5, 2))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := ParseDHCPD("f", data, fuzzOptions(data))
		checkFuzzResult(t, res, data)
	})
}

func FuzzParseDnsmasq(f *testing.F) {
	for _, c := range dnsmasqCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte("conf-file=inc\ndhcp-hostsfile=inc\ndhcp-host=00:11:22:33:44:01,10.0.0.5,pc1\n"))
	b, _ := render.Dnsmasq(generated(5, 3))
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		res := ParseDnsmasq("f", data, fuzzOptions(data))
		checkFuzzResult(t, res, data)
	})
}

func FuzzParseLevelList(f *testing.F) {
	f.Add([]byte("# proxy1\r\n10.0.0.5\n\n2001:db8::5 # x\n10.0.0.0/24\n10.0.0.5\n"))
	f.Add(render.SquidLevel(generated(20, 4), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, problems, warnings := ParseLevelList("f", data)
		res := &Result{Problems: problems, Warnings: warnings}
		checkFuzzResult(t, res, data)
		seen := map[any]bool{}
		for _, e := range entries {
			if !e.Addr.IsValid() || e.Addr.Is4In6() || seen[e.Addr] {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.Addr] = true
		}
	})
}
