package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// requireBinary skips the test when the daemon is not installed, except in
// CI (CI=true), where a missing daemon is a failure.
func requireBinary(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (required in CI)", path)
	}
	t.Skipf("%s is not installed", path)
}

// TestRealDaemons checks a good and a bad file with each daemon's own
// check through {main}: the good one is applied, the bad one is refused
// with the daemon's message and the live file stays.
func TestRealDaemons(t *testing.T) {
	tests := []struct {
		name     string
		kind     string
		binary   string
		validate []string
		main     string // %[1]s is the live path
		good     string
		bad      string
		message  string // from the daemon's output for bad
	}{
		{
			name:     "squid",
			kind:     KindSquidRooms,
			binary:   "/usr/sbin/squid",
			validate: []string{"/usr/sbin/squid", "-k", "parse", "-f", "{main}"},
			main: "http_port 127.0.0.1:3999\nacl lan src \"%[1]s\"\n" +
				"http_access allow lan\nhttp_access deny all\n",
			good:    "10.0.0.1\n10.0.1.0/24\n2001:db8::/64\n",
			bad:     "10.0.0.1\n999.1.1.1\n",
			message: "Bad host/IP: '999.1.1.1'",
		},
		{
			name:     "isc-dhcp",
			kind:     KindISCDHCP,
			binary:   "/usr/sbin/dhcpd",
			validate: []string{"/usr/sbin/dhcpd", "-4", "-t", "-cf", "{main}"},
			main:     "subnet 10.0.0.0 netmask 255.255.255.0 {}\ninclude \"%[1]s\";\n",
			good:     "host a { hardware ethernet 00:11:22:33:44:55; fixed-address 10.0.0.5; }\n",
			bad:      "host a { hardware ethernet 00:11:22:33:44:55; fixed-address 10.0.0.5 }\n",
			message:  "semicolon expected",
		},
		{
			name:     "dnsmasq",
			kind:     KindDnsmasq,
			binary:   "/usr/sbin/dnsmasq",
			validate: []string{"/usr/sbin/dnsmasq", "--test", "--conf-file={main}"},
			main:     "port=0\nconf-file=%[1]s\n",
			good:     "dhcp-host=00:11:22:33:44:55,10.0.0.5,pc1\n",
			bad:      "dhcp-host=00:11:22:33:44:55,10.0.0.5,bogus=1x\n",
			message:  "bad DHCP host name",
		},
		{
			name:     "kea",
			kind:     KindKea,
			binary:   "/usr/sbin/kea-dhcp4",
			validate: []string{"/usr/sbin/kea-dhcp4", "-t", "{main}"},
			main: `{ "Dhcp4": { "subnet4": [ { "id": 1, "subnet": "10.0.0.0/24",` +
				` "reservations": <?include "%[1]s"?> } ] } }` + "\n",
			good:    `[ { "hw-address": "00:11:22:33:44:55", "ip-address": "10.0.0.5" } ]` + "\n",
			bad:     `[ { "hw-address": "00:11:22:33:44:55", "ip-address": "10.0.0.999" } ]` + "\n",
			message: "'10.0.0.999'",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireBinary(t, tc.binary)
			dir := t.TempDir()
			live := filepath.Join(dir, "include.conf")
			main := filepath.Join(dir, "main.conf")
			writeFile(t, main, fmt.Sprintf(tc.main, live))
			writeFile(t, live, "")
			target := Target{Name: tc.name, Kind: tc.kind, Path: live, MainConfig: main, Validate: tc.validate}
			var a Applier

			run, err := a.Apply(context.Background(), target, static(tc.good))
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != StatusApplied {
				t.Fatalf("good file: status %q:\n%s", run.Status, run.Message)
			}
			run, err = a.Apply(context.Background(), target, static(tc.bad))
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != StatusInvalid || !strings.Contains(run.Message, tc.message) {
				t.Fatalf("bad file: status %q, want invalid with %q:\n%s", run.Status, tc.message, run.Message)
			}
			if got := readFile(t, live); got != tc.good {
				t.Errorf("live file after the refusal:\n%s", got)
			}
			if got := leftovers(t, dir); len(got) != 0 {
				t.Errorf("left behind: %q", got)
			}
		})
	}
}
