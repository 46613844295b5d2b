package ipdesk_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ipdesk"
)

func TestParseMAC(t *testing.T) {
	good := map[string]string{
		"aa:bb:cc:dd:ee:ff":   "aa:bb:cc:dd:ee:ff",
		"AA-BB-CC-DD-EE-FF":   "aa:bb:cc:dd:ee:ff",
		"aabb.ccdd.eeff":      "aa:bb:cc:dd:ee:ff",
		"AABBCCDDEEFF":        "aa:bb:cc:dd:ee:ff",
		" 00:1a:2b:3c:4d:5e ": "00:1a:2b:3c:4d:5e",
		"01:00:5e:00:00:01":   "01:00:5e:00:00:01",
	}
	for in, want := range good {
		m, err := ipdesk.ParseMAC(in)
		if err != nil || m.String() != want {
			t.Errorf("ParseMAC(%q) = %v, %v; want %s", in, m, err, want)
		}
	}
	bad := []string{"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa-bb:cc-dd:ee-ff", "gg:bb:cc:dd:ee:ff", "aabb.ccdd.eef", "aabbccddeef",
		"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff", "FF-FF-FF-FF-FF-FF", "aa:bb:cc:dd:ee:f\n", "аа:bb:cc:dd:ee:ff", strings.Repeat("a", 10000)}
	for _, in := range bad {
		_, err := ipdesk.ParseMAC(in)
		if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != "mac" {
			t.Errorf("ParseMAC(%q) = %v; want an invalid mac error", in, err)
		}
		if len(ipdesk.ErrorMessage(err)) > 300 {
			t.Errorf("ParseMAC error for a %d-byte input is %d bytes long", len(in), len(ipdesk.ErrorMessage(err)))
		}
	}
}

func TestValidateHostname(t *testing.T) {
	for _, ok := range []string{"", "pc1", "z303c12", "PC-1.school.example", "a", "1host", strings.Repeat("a", 63) + ".b"} {
		if err := ipdesk.ValidateHostname(ok); err != nil {
			t.Errorf("ValidateHostname(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"-pc", "pc-", "pc_1", "pc 1", "pc;1", "pc\"1", "pc{1}", "pc#", "pc\n1", ".pc", "pc..school", "pc.", "кабинет",
		strings.Repeat("a", 64), strings.Repeat("a.", 127) + "aa"} {
		err := ipdesk.ValidateHostname(bad)
		if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != "hostname" {
			t.Errorf("ValidateHostname(%q) = %v", bad, err)
		}
	}
}

func TestValidateText(t *testing.T) {
	for _, ok := range []string{"", "Кабинет 303", `quote " ; { } # code`, "emoji 🖥"} {
		if err := ipdesk.ValidateText("description", ok, 100); err != nil {
			t.Errorf("ValidateText(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a\nb", "a\rb", "a\x00b", "a\tb", "a\u2028b", "\xff\xfe", strings.Repeat("я", 101)} {
		err := ipdesk.ValidateText("description", bad, 100)
		if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != "description" || !strings.Contains(ipdesk.ErrorMessage(err), "description") {
			t.Errorf("ValidateText(%q) = %v", bad, err)
		}
	}
	if err := ipdesk.ValidatePhone("phone", "+49 (3591) 123-45/6"); err != nil {
		t.Error(err)
	}
	if err := ipdesk.ValidatePhone("phone", "123<script>"); ipdesk.ErrorField(err) != "phone" {
		t.Errorf("ValidatePhone accepted markup: %v", err)
	}
}

func TestPrefixValidate(t *testing.T) {
	cases := map[string]string{
		"10.0.0.5/24":         "host bits",
		"::ffff:10.0.0.0/120": "IPv4-mapped",
	}
	for in, says := range cases {
		p := ipdesk.Prefix{Prefix: netip.MustParsePrefix(in)}
		if err := p.Validate(); !strings.Contains(fmt.Sprint(err), says) {
			t.Errorf("Validate(%s) = %v; want %q", in, err, says)
		}
	}
	p := ipdesk.Prefix{Prefix: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.255")}
	if err := p.Validate(); ipdesk.ErrorField(err) != "gateway" {
		t.Errorf("broadcast gateway accepted: %v", err)
	}
	if !ipdesk.IsReservedInSubnet(netip.MustParsePrefix("10.0.0.0/24"), netip.MustParseAddr("10.0.0.0")) ||
		ipdesk.IsReservedInSubnet(netip.MustParsePrefix("10.0.0.0/31"), netip.MustParseAddr("10.0.0.0")) ||
		ipdesk.IsReservedInSubnet(netip.MustParsePrefix("2001:db8::/64"), netip.MustParseAddr("2001:db8::")) {
		t.Error("IsReservedInSubnet")
	}
	if got := ipdesk.LastAddr(netip.MustParsePrefix("2001:db8::/126")); got.String() != "2001:db8::3" {
		t.Errorf("LastAddr = %s", got)
	}
}

func ExampleParseMAC() {
	for _, s := range []string{"AA-BB-CC-DD-EE-FF", "aabb.ccdd.eeff", "ff:ff:ff:ff:ff:ff"} {
		if m, err := ipdesk.ParseMAC(s); err != nil {
			fmt.Println(ipdesk.ErrorMessage(err))
		} else {
			fmt.Println(m)
		}
	}
	// Output:
	// aa:bb:cc:dd:ee:ff
	// aa:bb:cc:dd:ee:ff
	// mac "ff:ff:ff:ff:ff:ff" is the broadcast address, which no host has
}
