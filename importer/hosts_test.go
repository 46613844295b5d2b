package importer

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"ipdesk"
)

func TestReadHostsCSV(t *testing.T) {
	in := "\ufeffSpace,address,mac,hostname,owner,access_level,dhcp_reservation,phone\n" +
		"school,10.0.0.5,AA-BB-CC-DD-EE-01,pc1,\"Müller, Anna\",2,yes,+49 3591 123\n" +
		"school,10.0.0.300,,pc2,,0,no,\n" +
		"school,10.0.0.6,zz:zz,pc3,,0,no,\n" +
		",10.0.0.7,,pc4,,0,no,\n" +
		"school,10.0.0.8,,pc5,,two,no,\n" +
		"school,10.0.0.9,,pc6,,1,maybe,\n" +
		"school,10.0.0.10,,'=cmd,,1,1,\n"
	hosts, problems, err := ReadHostsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[0].Owner != "Müller, Anna" || hosts[0].MAC.String() != "aa:bb:cc:dd:ee:01" || !hosts[0].DHCPReservation || hosts[0].AccessLevel != 2 || hosts[0].Line != 2 {
		t.Fatalf("hosts %+v", hosts)
	}
	if hosts[1].Hostname != "=cmd" || hosts[1].Line != 8 {
		t.Fatalf("escaped formula cell: %+v", hosts[1])
	}
	want := []struct {
		line  int
		field string
		says  string
	}{{3, "address", "10.0.0.300"}, {4, "mac", "zz:zz"}, {5, "space", "empty"}, {6, "access_level", "two"}, {7, "dhcp_reservation", "maybe"}}
	if len(problems) != len(want) {
		t.Fatalf("problems %v", problems)
	}
	for i, w := range want {
		p := problems[i]
		if p.Line != w.line || p.Field != w.field || !strings.Contains(p.Err, w.says) {
			t.Errorf("problem %d = %+v, want line %d field %s naming %q", i, p, w.line, w.field, w.says)
		}
	}
	for _, bad := range []string{"space,address,password\n", "address\n", "space,address,space\n"} {
		if _, _, err := ReadHostsCSV(strings.NewReader(bad)); err == nil {
			t.Errorf("header %q accepted", bad)
		}
	}
}

func TestHostsRoundTrip(t *testing.T) {
	hosts := []Host{
		{Space: "school", Address: netip.MustParseAddr("10.0.0.5"), Status: ipdesk.StatusActive, MAC: mustMAC("aa:bb:cc:dd:ee:01"), Hostname: "pc1",
			Description: `quote " semicolon ; brace { } hash # Кабинет 303 =SUM(A1) code`, Owner: "@owner", Phone: "+7 (495) 123-45-67", Location: "Main > A > 303", AccessLevel: 3, DHCPReservation: true},
		{Space: "school", Address: netip.MustParseAddr("2001:db8::5"), Status: ipdesk.StatusReserved, Description: "'=already quoted"},
	}
	var csvBuf, jsonBuf bytes.Buffer
	if err := WriteHostsCSV(&csvBuf, hosts); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(csvBuf.String(), ",@owner") || !strings.Contains(csvBuf.String(), ",'@owner") {
		t.Fatalf("a formula-like cell was not escaped:\n%s", csvBuf.String())
	}
	if err := WriteHostsJSON(&jsonBuf, hosts); err != nil {
		t.Fatal(err)
	}
	for name, read := range map[string]func() ([]Host, []LineError, error){
		"csv":  func() ([]Host, []LineError, error) { return ReadHostsCSV(&csvBuf) },
		"json": func() ([]Host, []LineError, error) { return ReadHostsJSON(&jsonBuf) },
	} {
		got, problems, err := read()
		if err != nil || len(problems) > 0 {
			t.Fatalf("%s: %v %v", name, problems, err)
		}
		for i := range got {
			got[i].Line = 0
		}
		if !reflect.DeepEqual(got, hosts) {
			t.Errorf("%s round trip:\n got %+v\nwant %+v", name, got, hosts)
		}
	}
}

func mustMAC(s string) ipdesk.MAC {
	m, err := ipdesk.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}
