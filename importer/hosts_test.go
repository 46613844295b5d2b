package importer

import (
	"bytes"
	"encoding/csv"
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
		{Space: "school", Address: netip.MustParseAddr("2001:db8::5"), Status: ipdesk.StatusReserved, Description: "'=already quoted", Owner: "\tTab"},
		{Space: "school", Address: netip.MustParseAddr("10.0.0.6"), Hostname: "pc6", Description: "-foo", Owner: "+SUM(1)", Phone: "+49 30 1234567", AccessLevel: -1},
		{Space: "school", Address: netip.MustParseAddr("10.0.0.7"), Description: "\rcr", Owner: "'-x", Phone: "-12"},
	}
	var csvBuf, jsonBuf bytes.Buffer
	if err := WriteHostsCSV(&csvBuf, hosts); err != nil {
		t.Fatal(err)
	}
	// Every cell starting with = @ + - tab or CR gets its apostrophe (OWASP
	// CSV injection); the reader takes it off again below.
	recs, err := csv.NewReader(strings.NewReader(csvBuf.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=@+-\t\r", rune(cell[0])) {
				t.Errorf("cell %q starts with a formula character:\n%s", cell, csvBuf.String())
			}
		}
	}
	for _, want := range []string{",'@owner", ",'+49 30 1234567", ",'-foo", ",'+SUM(1)", ",'-1,", ",'\tTab", "''-x"} {
		if !strings.Contains(csvBuf.String(), want) {
			t.Errorf("the export has no %q:\n%s", want, csvBuf.String())
		}
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

// TestReadHostsCSVExtraCell: a row with a cell more than the header has
// columns is refused with its line, not read without the cell.
func TestReadHostsCSVExtraCell(t *testing.T) {
	in := "space,address,hostname\n" +
		"school,10.0.0.5,pc5\n" +
		"school,10.0.0.6,pc6,Müller, Anna\n" +
		"school,10.0.0.7,pc7\n"
	hosts, problems, err := ReadHostsCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || hosts[0].Line != 2 || hosts[1].Line != 4 {
		t.Fatalf("hosts %+v", hosts)
	}
	if len(problems) != 1 || problems[0].Line != 3 || !strings.Contains(problems[0].Err, "5 cells") || !strings.Contains(problems[0].Err, "3 columns") {
		t.Fatalf("problems %v, want one of line 3 about 5 cells for 3 columns", problems)
	}
}
