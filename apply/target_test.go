package apply

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"ipdesk"
)

func TestTargetCheck(t *testing.T) {
	ok := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: "/etc/dhcp/dhcpd.hosts",
		Validate: []string{"/usr/sbin/dhcpd", "-t", "-cf", "{main}"}, MainConfig: "/etc/dhcp/dhcpd.conf",
		Reload: []string{"systemctl", "reload", "isc-dhcp-server"}}
	tests := []struct {
		name  string
		edit  func(t *Target)
		field string // "" means valid
		value string // the message must quote it
	}{
		{"valid", func(*Target) {}, "", ""},
		{"no commands", func(t *Target) { t.Validate, t.Reload, t.MainConfig = nil, nil, "" }, "", ""},
		{"candidate without main", func(t *Target) { t.Validate, t.MainConfig = []string{"squid", "-k", "parse", "{candidate}"}, "" }, "", ""},
		{"placeholder inside an argument", func(t *Target) { t.Validate = []string{"dnsmasq", "--test", "--conf-file={main}"} }, "", ""},
		{"empty name", func(t *Target) { t.Name = "" }, "name", ""},
		{"name with a slash", func(t *Target) { t.Name = "a/b" }, "name", `"a/b"`},
		{"name starting with a dot", func(t *Target) { t.Name = ".x" }, "name", `".x"`},
		{"long name", func(t *Target) { t.Name = strings.Repeat("a", 65) }, "name", "64"},
		{"unknown kind", func(t *Target) { t.Kind = "bind" }, "kind", `"bind"`},
		{"empty path", func(t *Target) { t.Path = "" }, "path", ""},
		{"relative path", func(t *Target) { t.Path = "dhcpd.hosts" }, "path", `"dhcpd.hosts"`},
		{"unclean path", func(t *Target) { t.Path = "/etc/dhcp/../dhcp/x" }, "path", `"/etc/dhcp/../dhcp/x"`},
		{"root path", func(t *Target) { t.Path = "/" }, "path", `"/"`},
		{"relative main", func(t *Target) { t.MainConfig = "dhcpd.conf" }, "main_config", `"dhcpd.conf"`},
		{"main is path", func(t *Target) { t.MainConfig = t.Path }, "main_config", `"/etc/dhcp/dhcpd.hosts"`},
		{"main placeholder without main", func(t *Target) { t.MainConfig = "" }, "validate", "{main}"},
		{"validate checks the live file", func(t *Target) { t.Validate = []string{"dhcpd", "-t", "-cf", "/etc/dhcp/dhcpd.conf"} }, "validate", "/etc/dhcp/dhcpd.conf"},
		{"empty program", func(t *Target) { t.Reload = []string{"", "x"} }, "reload", ""},
		{"relative program", func(t *Target) { t.Reload = []string{"./reload.sh"} }, "reload", `"./reload.sh"`},
		{"placeholder in reload", func(t *Target) { t.Reload = []string{"cp", "{candidate}", "/x"} }, "reload", `"{candidate}"`},
		{"NUL in argument", func(t *Target) { t.Reload = []string{"kill", "a\x00b"} }, "reload", `"a\x00b"`},
		{"negative timeout", func(t *Target) { t.Timeout = -time.Second }, "timeout", "-1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target := ok
			tc.edit(&target)
			err := target.Check()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != tc.field {
				t.Fatalf("err %v (code %q, field %q), want EINVALID on %q", err, ipdesk.ErrorCode(err), ipdesk.ErrorField(err), tc.field)
			}
			if !strings.Contains(ipdesk.ErrorMessage(err), tc.value) {
				t.Errorf("message %q does not quote %s", ipdesk.ErrorMessage(err), tc.value)
			}
		})
	}
}

func TestReplacePath(t *testing.T) {
	const live, cand = "/etc/squid/rooms", "/etc/squid/.rooms.ipdesk-1.tmp"
	tests := []struct {
		in, want string
		n        int
	}{
		{`acl r src "/etc/squid/rooms"` + "\n", `acl r src "/etc/squid/.rooms.ipdesk-1.tmp"` + "\n", 1},
		{"/etc/squid/rooms", cand, 1},
		{"include /etc/squid/rooms;/etc/squid/rooms\n", "include " + cand + ";" + cand + "\n", 2},
		{"conf-file=/etc/squid/rooms", "conf-file=" + cand, 1},
		{"/etc/squid/rooms.txt /etc/squid/rooms/x /x/etc/squid/rooms", "/etc/squid/rooms.txt /etc/squid/rooms/x /x/etc/squid/rooms", 0},
		{"/etc/squid/rooms-old and /etc/squid/rooms", "/etc/squid/rooms-old and " + cand, 1},
		{"none here", "none here", 0},
	}
	for _, tc := range tests {
		got, n := replacePath([]byte(tc.in), live, cand)
		if string(got) != tc.want || n != tc.n {
			t.Errorf("replacePath(%q) = %q, %d; want %q, %d", tc.in, got, n, tc.want, tc.n)
		}
	}
}

func TestExpandArgs(t *testing.T) {
	got := expandArgs([]string{"dnsmasq", "--test", "--conf-file={main}", "{candidate}"}, "/c", "/m")
	want := []string{"dnsmasq", "--test", "--conf-file=/m", "/c"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTailBuffer(t *testing.T) {
	var b tailBuffer
	b.Write([]byte("first line\n"))
	for range 3 * MaxOutput / 1000 {
		b.Write(bytes.Repeat([]byte("x"), 999))
		b.Write([]byte("\n"))
	}
	b.Write([]byte("the error\x00 at the end\r\n"))
	s := b.String()
	if !strings.HasPrefix(s, "[... ") || !strings.HasSuffix(s, "the error at the end") || strings.Contains(s, "first line") {
		t.Errorf("tail: %.80q … %q", s, s[len(s)-40:])
	}
	if len(s) > MaxOutput+100 {
		t.Errorf("kept %d bytes, limit %d", len(s), MaxOutput)
	}
	// One write bigger than the limit.
	var big tailBuffer
	big.Write(bytes.Repeat([]byte("y"), 2*MaxOutput))
	if s := big.String(); !strings.HasPrefix(s, "[... 65536 earlier bytes omitted]") {
		t.Errorf("big write: %.60q", s)
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ok\n", "ok"},
		{"a\x00b\x1b[31mred\x1b[0m\r\nnext\tcol", "ab[31mred[0m\nnext\tcol"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"ümlaut €", "ümlaut €"},
		{"c1 \u0085 control", "c1  control"},
	}
	for _, tc := range tests {
		if got := sanitize([]byte(tc.in)); got != tc.want {
			t.Errorf("sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
