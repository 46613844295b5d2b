package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportDHCPConfigs imports a dhcpd.conf and a dnsmasq.conf through the
// CLI: a file with bad lines imports nothing and names every problem with
// its file and line; --dry-run shows the plan and writes nothing; --levels
// sets access levels from for_dhcp's lists; a second import keeps what
// the files do not carry.
func TestImportDHCPConfigs(t *testing.T) {
	for name, dsn := range dbs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			vars := map[string]string{"IPDESK_DB": dsn}
			seed(t, vars)
			file := func(name, content string) string {
				t.Helper()
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}
			export := func() string {
				t.Helper()
				out, _, err := run(t, vars, "", "export", "hosts")
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			const header = "space,address,status,mac,hostname,description,owner,phone,location,access_level,dhcp_reservation\n"

			// Bad lines: nothing is written, every problem is named.
			bad := file("bad.conf", "# Иванов\n"+
				"host pc1 { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }\n"+
				"host pc2 { hardware ethernet zz:11:22:33:44:02; fixed-address 10.0.0.6; }\n"+
				"host pc3 { hardware ethernet 00:11:22:33:44:03; fixed-address 10.9.9.9; }\n"+
				"host pc4 { hardware ethernet 00:11:22:33:44:04; fixed-address pc4.example.org; }\n"+
				"include \"more.inc\";\n"+
				"host pc6 { hardware ethernet 00:11:22:33:44:06; fixed-address 10.0.0.8; option host-name \"pc 6\"; }\n")
			inc := file("more.inc", "\nhost pc5 { hardware ethernet 00:11:22:33:44:05; fixed-address 10.0.0.5; }\n")
			_, errOut, err := run(t, vars, "", "import", "dhcpd", bad, "--space", "school")
			if err == nil || !strings.Contains(err.Error(), "5 problems; nothing was imported") {
				t.Fatalf("bad import: %v\n%s", err, errOut)
			}
			for _, want := range []string{bad + ":3: mac: hardware ethernet \"zz:11:22:33:44:02\"", bad + ":4: address: address 10.9.9.9 is not inside any subnet",
				bad + ":5: address: fixed-address pc4.example.org is a DNS name", bad + ":7: hostname: option host-name: hostname \"pc 6\"",
				inc + ":2: address: address 10.0.0.5 is already reserved at " + bad + ":2"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("the report lacks %q:\n%s", want, errOut)
				}
			}
			if got := export(); got != header {
				t.Fatalf("a failed import wrote hosts:\n%s", got)
			}

			// A good file with levels: the dry run shows the plan and
			// writes nothing; the import writes it.
			good := file("dhcpd.conf", "ddns-update-style none;\n"+
				"# owner: Анна; description: printer \"HP\"; {2} # code\n"+
				"host pc1 { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; option host-name \"pc1\"; }\n"+
				"host pc2 {\r\n  hardware ethernet 00:11:22:33:44:02;\r\n  fixed-address 10.0.0.6, 10.0.0.60;\r\n}\r\n"+
				"host dyn { hardware ethernet 00:11:22:33:44:09; }\n"+
				"subnet 10.0.0.0 netmask 255.255.255.0 { group { host pc3 { fixed-address 10.0.0.7; } } }\n")
			proxy1 := file("proxy1", "# for_dhcp proxy1\n10.0.0.5\n")
			proxy3 := file("proxy3", "10.0.0.7\n")
			levels := "proxy1=" + proxy1 + ",proxy3=" + proxy3
			out, errOut, err := run(t, vars, "", "import", "dhcpd", good, "--space", "school", "--levels", levels, "--dry-run")
			if err != nil {
				t.Fatalf("dry run: %v\n%s", err, errOut)
			}
			for _, want := range []string{"create 10.0.0.5 00:11:22:33:44:01 pc1 level 1 " + good + ":3\n",
				"create 10.0.0.6 00:11:22:33:44:02 pc2 level 0 " + good + ":4\n",
				"create 10.0.0.7 no MAC pc3 level 3 " + good + ":9\n",
				"would import 3 hosts: 3 created, 0 updated, 0 unchanged; 1 declaration with nothing to import skipped"} {
				if !strings.Contains(squash(out), want) {
					t.Errorf("dry run output lacks %q:\n%s", want, out)
				}
			}
			for _, want := range []string{good + ":6: warning: address: fixed-address lists 2 addresses", good + ":8: warning: host dyn has no fixed-address",
				good + ":9: warning: mac: host pc3 is imported without a DHCP reservation"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("dry run warnings lack %q:\n%s", want, errOut)
				}
			}
			if got := export(); got != header {
				t.Fatalf("the dry run wrote hosts:\n%s", got)
			}
			if out, errOut, err = run(t, vars, "", "import", "dhcpd", good, "--space", "school", "--levels", levels); err != nil || !strings.Contains(out, "imported 3 hosts: 3 created") {
				t.Fatalf("import: %q %v\n%s", out, err, errOut)
			}
			want := header +
				"school,10.0.0.5,active,00:11:22:33:44:01,pc1,\"printer \"\"HP\"\"; {2} # code\",Анна,,,1,true\n" +
				"school,10.0.0.6,active,00:11:22:33:44:02,pc2,,,,,0,true\n" +
				"school,10.0.0.7,active,,pc3,,,,,3,false\n"
			if got := export(); got != want {
				t.Fatalf("export after the import:\n%s\nwant\n%s", got, want)
			}
			if out, _, err = run(t, vars, "", "import", "dhcpd", good, "--space", "school", "--levels", levels); err != nil || !strings.Contains(out, "0 created, 0 updated, 3 unchanged") {
				t.Fatalf("second import: %q %v", out, err)
			}

			// A level list naming an address no host has: nothing written.
			stray := file("proxy2", "10.0.0.99\n")
			_, errOut, err = run(t, vars, "", "import", "dhcpd", good, "--space", "school", "--levels", levels+",proxy2="+stray)
			if err == nil || !strings.Contains(errOut, stray+":1: levels: 10.0.0.99 is neither among the imported hosts nor stored in space \"school\"") {
				t.Fatalf("stray level: %v\n%s", err, errOut)
			}

			// dnsmasq: the phone entered since is kept, the new host name
			// and the level of a stored host not in the file are taken.
			csv := file("phone.csv", "space,address,mac,hostname,owner,phone,access_level,dhcp_reservation\nschool,10.0.0.6,00:11:22:33:44:02,pc2,Пётр,+49 1,0,yes\n")
			if _, errOut, err := run(t, vars, "", "import", "hosts", csv); err != nil {
				t.Fatalf("hosts import: %v\n%s", err, errOut)
			}
			conf := file("dnsmasq.conf", "domain-needed\ndhcp-range=10.0.0.100,10.0.0.200,12h\ndhcp-host=00:11:22:33:44:02,10.0.0.6,pc2-new,infinite\n")
			proxy2 := file("proxy2b", "10.0.0.7\n")
			out, errOut, err = run(t, vars, "", "import", "dnsmasq", conf, "--space", "school", "--levels", "proxy2="+proxy2, "--dry-run")
			if err != nil || !strings.Contains(squash(out), "update 10.0.0.6 00:11:22:33:44:02 pc2-new level 0 "+conf+":3 changes hostname\n") ||
				!strings.Contains(squash(out), "update 10.0.0.7 no MAC pc3 level 2 "+proxy2+":1 changes access_level\n") ||
				!strings.Contains(errOut, conf+":3: warning: lease times are not imported") {
				t.Fatalf("dnsmasq dry run: %v\n%s\n%s", err, out, errOut)
			}
			if out, errOut, err = run(t, vars, "", "import", "dnsmasq", conf, "--space", "school", "--levels", "proxy2="+proxy2); err != nil || !strings.Contains(out, "imported 2 hosts: 0 created, 2 updated") {
				t.Fatalf("dnsmasq import: %q %v\n%s", out, err, errOut)
			}
			want = header +
				"school,10.0.0.5,active,00:11:22:33:44:01,pc1,\"printer \"\"HP\"\"; {2} # code\",Анна,,,1,true\n" +
				"school,10.0.0.6,active,00:11:22:33:44:02,pc2-new,,Пётр,'+49 1,,0,true\n" +
				"school,10.0.0.7,active,,pc3,,,,,2,false\n"
			if got := export(); got != want {
				t.Fatalf("export after the dnsmasq import:\n%s\nwant\n%s", got, want)
			}

			// A hostsfile on standard input.
			if out, errOut, err = run(t, vars, "00:11:22:33:44:0a,10.0.0.10,pc10\n", "import", "dnsmasq", "-", "--space", "school"); err != nil || !strings.Contains(out, "imported 1 hosts: 1 created") {
				t.Fatalf("stdin: %q %v\n%s", out, err, errOut)
			}
		})
	}
}

// squash shows output without the alignment of its columns: one blank
// between words, none at the end of a line.
func squash(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestImportConfigUsage(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"IPDESK_DB": filepath.Join(dir, "u.db")}
	conf := filepath.Join(dir, "dhcpd.conf")
	os.WriteFile(conf, []byte("host a { fixed-address 10.0.0.5; }\n"), 0o644)
	for _, tt := range []struct {
		args []string
		says string
	}{
		{[]string{"import", "dhcpd", conf}, "import dhcpd needs --space NAME"},
		{[]string{"import", "dnsmasq", "--space", "school"}, "import dnsmasq takes one file"},
		{[]string{"import", "dhcpd", conf, conf, "--space", "school"}, "import dhcpd takes one file"},
		{[]string{"import", "dhcpd", conf, "--space", "nowhere"}, `space "nowhere" does not exist`},
		{[]string{"import", "dhcpd", conf, "--space", "school", "--levels", "proxyX=a"}, `"proxyX" is not an access level`},
		{[]string{"import", "dhcpd", filepath.Join(dir, "missing.conf"), "--space", "school"}, "no such file"},
		{[]string{"import", "dhcpd", dir, "--space", "school"}, "is a directory"},
	} {
		if _, errOut, err := run(t, vars, "", tt.args...); err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%q: %v (%s); want %q", tt.args, err, errOut, tt.says)
		}
	}
}
