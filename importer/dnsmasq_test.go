package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSplitDnsmasqLine(t *testing.T) {
	tests := []struct {
		in      string
		fields  []string
		comment string
		err     string
	}{
		{"a,b , c", []string{"a", "b", "c"}, "", ""},
		{`"a,b",c`, []string{"a,b", "c"}, "", ""},
		{`a # comment, with comma`, []string{"a"}, " comment, with comma", ""},
		{`a#not-a-comment,b`, []string{"a#not-a-comment", "b"}, "", ""},
		{`"x#y" #z`, []string{"x#y"}, "z", ""},
		{`"a\"b\\c\t"`, []string{"a\"b\\c\t"}, "", ""},
		{"a,\r", []string{"a", ""}, "", ""},
		{"\t# only", []string{""}, " only", ""},
		{`"open`, nil, "", "a double quote is not closed"},
	}
	for _, tt := range tests {
		l, msg := splitDnsmasqLine([]byte(tt.in))
		if (msg == "") != (tt.err == "") || !strings.Contains(msg, tt.err) {
			t.Errorf("%q: message %q, want %q", tt.in, msg, tt.err)
			continue
		}
		if tt.err != "" {
			continue
		}
		var got []string
		for _, f := range l.fields(0) {
			got = append(got, f.text)
		}
		if !slices.Equal(got, tt.fields) || l.comment != tt.comment {
			t.Errorf("%q: fields %q comment %q, want %q %q", tt.in, got, l.comment, tt.fields, tt.comment)
		}
	}
}

// dnsmasqCase is one table entry of TestParseDnsmasq; dnsmasq tells how
// "dnsmasq --test" judges the input as a dnsmasq.conf (0: not checked).
type dnsmasqCase struct {
	name     string
	in       string
	hosts    []string
	problems []string
	warnings []string
	dnsmasq  int
}

var dnsmasqCases = []dnsmasqCase{
	{name: "dnsmasq.conf",
		in: "# dnsmasq for the school\ndomain-needed\ndhcp-range=10.0.0.100,10.0.0.200,12h\n\n# Иванов\n" +
			"dhcp-host=00:11:22:33:44:01,10.0.0.5,pc1 # кабинет 303\n" +
			"dhcp-host = 00:11:22:33:44:02 , 10.0.0.6 , pc2\n" +
			"dhcp-host=00:11:22:33:44:03,10.0.0.7,\"pc3\"\n" +
			"dhcp-host=00:11:22:33:44:04,,10.0.0.8\r\n",
		hosts: []string{"10.0.0.5 " + mac1 + ` pc1 desc="Иванов кабинет 303"`, "10.0.0.6 00:11:22:33:44:02 pc2",
			"10.0.0.7 00:11:22:33:44:03 pc3", "10.0.0.8 00:11:22:33:44:04 -"}, dnsmasq: dhcpdAccepts},
	{name: "hostsfile written by ipdesk",
		in: "# dnsmasq dhcp-hostsfile, written by ipdesk: 4 hosts.\n# Do not edit: ipdesk replaces this file.\n" +
			"# owner: Иванов \"Ваня\"; room: Main / Haus \"B\"; {Nord} # 2 / 303; description: printer; {evil} # x\n" +
			"00:11:22:33:44:01,10.0.0.5,pc1\n00:11:22:33:44:02,10.0.0.6\n" +
			"# note: host name \"45m\" is not sent: dnsmasq would read it as a lease time, address or keyword\n" +
			"00:11:22:33:44:03,10.0.0.7\n00:11:22:33:44:01,[2001:db8::5],pc1\n",
		hosts: []string{"10.0.0.5 " + mac1 + ` pc1 owner="Иванов \"Ваня\"" location="Main > Haus \"B\"; {Nord} # 2 > 303" desc="printer; {evil} # x"`,
			"10.0.0.6 00:11:22:33:44:02 -", "10.0.0.7 00:11:22:33:44:03 45m", "2001:db8::5 " + mac1 + " pc1"}},
	{name: "fields ipdesk does not keep",
		in: "dhcp-host=00:11:22:33:44:01,00:11:22:33:44:02,set:laptop,10.0.0.5,laptop,12h\n" +
			"dhcp-host=lap,10.0.0.6\ndhcp-host=00:11:22:33:44:03,ignore\ndhcp-host=00:11:22:33:44:04,pc4,infinite\n" +
			"dhcp-host=00:11:22:33:44:05,id:*,tag:lab,[2001:db8::7],10.0.0.7,dual\ndhcp-host=id:01:02:03,10.0.0.8\n" +
			"dhcp-host=01-00:11:22:33:44:06,10.0.0.9\n",
		hosts: []string{"10.0.0.5 " + mac1 + " laptop", "10.0.0.6 - lap noreservation", "10.0.0.7 00:11:22:33:44:05 dual",
			"2001:db8::7 00:11:22:33:44:05 dual", "10.0.0.8 - - noreservation", "10.0.0.9 00:11:22:33:44:06 -"},
		warnings: []string{"1:mac:the entry lists 2 MACs; ipdesk keeps one per address, so only the first, " + mac1,
			"1:lease times are not imported", "1:tags (set:, tag:) are not imported", "2:mac:the entry has no MAC", "3:the entry says ignore",
			"4:address:the entry has no address", "6:mac:the entry has no MAC", "6:client IDs (id:) are not imported"},
		dnsmasq: dhcpdAccepts},
	{name: "bad entries",
		in: "dhcp-host=00:11:22:33:44:01,[::5]\ndhcp-host=00:11:22:33:44:02,10.0.0.300\ndhcp-host=00:11:22:33:44:*,10.0.0.7\n" +
			"dhcp-host=06-00:11:22:33:44:03,10.0.0.8\ndhcp-host=00:11:22:33:44:04,10.0.0.9,pc_9\ndhcp-host=00:11:22:33:44:05,10.0.0.10,pc#10\n" +
			"dhcp-host=00:11:22:33:44:06,\"10.0.0.11\ndhcp-host=00:11:22:33:44:07,10.0.0.12,10.0.0.13\ndhcp-host=00:11:22:33:44:08,10.0.0.14,a,b\n" +
			"dhcp-host=00:11:22:33:44:09,[2001:db8::/126]\ndhcp-host=00:11:22:33:44:0a,[2001:db8::1\ndhcp-host=00:11:22:33:44:0b:0c,10.0.0.15\n" +
			"dhcp-host=ff:ff:ff:ff:ff:ff,10.0.0.16\ndhcp-host=00:11:22:33:44:0d,[::ffff:10.0.0.1]\n",
		problems: []string{"1:address:[::5] gives only the interface part", `2:address:"10.0.0.300" is not a valid IPv4 address`,
			"3:mac:is a wildcard", "4:mac:has the hardware type 06", `5:hostname:hostname "pc_9" contains "_"`, `6:hostname:hostname "pc#10" contains "#"`,
			"7:a double quote is not closed", "8:address:two IPv4 addresses, 10.0.0.12 and 10.0.0.13", `9:hostname:two host names, "a" and "b"`,
			"10:address:is a range of IPv6 addresses", "11:address:lacks its ']'", "12:mac:has 7 bytes", "13:mac:broadcast", "14:address:IPv4 address in IPv6 form"}},
	{name: "a MAC in quotes is a name to dnsmasq", in: "dhcp-host=\"00:11:22:33:44:01\",10.0.0.5\n",
		problems: []string{`1:hostname:hostname "00:11:22:33:44:01" contains ":"`}, dnsmasq: dhcpdRefuses},
	{name: "unclosed quote refused by dnsmasq", in: "dhcp-host=00:11:22:33:44:01,\"10.0.0.5\n", problems: []string{"1:a double quote is not closed"}, dnsmasq: dhcpdRefuses},
	{name: "hash inside a name refused by dnsmasq", in: "dhcp-host=00:11:22:33:44:01,10.0.0.5,pc#1\n", problems: []string{`1:hostname:contains "#"`}, dnsmasq: dhcpdRefuses},
	{name: "line longer than dnsmasq reads",
		in:       "#" + strings.Repeat("a", 1100) + " xyzzy=1\ndhcp-host=00:11:22:33:44:01,10.0.0.5\n",
		hosts:    []string{"10.0.0.5 " + mac1 + " -"},
		problems: []string{"1:the line is 1109 bytes long; dnsmasq reads lines of at most 1024 bytes"}, dnsmasq: dhcpdRefuses},
	{name: "repeated address",
		in:       "dhcp-host=00:11:22:33:44:01,10.0.0.5\ndhcp-host=00:11:22:33:44:01,10.0.0.5\ndhcp-host=00:11:22:33:44:02,10.0.0.5\n",
		hosts:    []string{"10.0.0.5 " + mac1 + " -"},
		problems: []string{"3:address:address 10.0.0.5 is already reserved at f:1"}, warnings: []string{"2:address:address 10.0.0.5 is given again"}},
	{name: "not followed", in: "conf-dir=/etc/dnsmasq.d\ndhcp-hostsdir=/etc/hosts.d\nread-ethers\n",
		warnings: []string{"1:conf-dir:is not followed", "2:dhcp-hostsdir:is not followed", "3:read-ethers:/etc/ethers are not imported"}},
	{name: "empty", in: ""},
}

func TestParseDnsmasq(t *testing.T) {
	for _, tt := range dnsmasqCases {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseDnsmasq("f", []byte(tt.in), ConfigOptions{Space: "school", ReadFile: noFiles})
			checkResult(t, res, tt.hosts, tt.problems, tt.warnings)
		})
	}
}

func TestDnsmasqIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("dnsmasq.conf", "dhcp-hostsfile=hosts/static\nconf-file=more.conf\ndhcp-hostsfile=hosts\ndhcp-hostsfile=/nonexistent/x\n")
	write("hosts/static", "00:11:22:33:44:01,10.0.0.5,pc1\ndhcp-host=00:11:22:33:44:02,10.0.0.6\n")
	write("more.conf", "dhcp-host=00:11:22:33:44:03,10.0.0.7,pc3\nconf-file=dnsmasq.conf\n")
	res, err := ReadDnsmasq(filepath.Join(dir, "dnsmasq.conf"), ConfigOptions{Space: "school"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hosts {
		got = append(got, fmt.Sprintf("%s:%d %s", strings.TrimPrefix(h.File, dir+"/"), h.Line, hostLine(h)))
	}
	if want := []string{"hosts/static:1 10.0.0.5 " + mac1 + " pc1", "more.conf:1 10.0.0.7 00:11:22:33:44:03 pc3"}; !slices.Equal(got, want) {
		t.Errorf("hosts\n got %q\nwant %q", got, want)
	}
	// In a hostsfile a dhcp-host= line is not an option.
	var msgs []string
	for _, p := range append(res.Problems, res.Warnings...) {
		msgs = append(msgs, strings.ReplaceAll(p.Error(), dir+"/", ""))
	}
	want := []string{
		`hosts/static:2: a dhcp-hostsfile holds entries without "dhcp-host="; dnsmasq does not read this line as an entry`,
		"more.conf:2: conf-file: dnsmasq.conf includes itself (through dnsmasq.conf → more.conf); the include is not followed",
		"dnsmasq.conf:4: dhcp-hostsfile: cannot read /nonexistent/x: no such file or directory",
		"dnsmasq.conf:3: dhcp-hostsfile: hosts is a directory, which is not followed; import the files in it one by one",
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("messages\n got %q\nwant %q", msgs, want)
	}
}

// TestParseDnsmasqHostile: inputs meant to break a parser end with
// problems, quickly, without a panic.
func TestParseDnsmasqHostile(t *testing.T) {
	// What each hostile input gives, not how long it takes (speed is
	// BenchmarkParseDnsmasqHostile's): long lines are one problem each,
	// without a host; a host repeated 16384 times is one host and a
	// warning per repeat; problems stop at maxProblemsPerFile.
	for _, tt := range []struct {
		name            string
		in              string
		hosts, problems int
		warnings        int
		firstLine       int
		says            string
	}{
		{"huge dhcp-host", "dhcp-host=" + hostileBig, 0, 1, 0, 1, "bytes long; dnsmasq reads lines of at most 1024 bytes"},
		{"two huge lines", hostileBig + "\n" + hostileBig, 0, 2, 0, 1, "bytes long"},
		{"a megabyte of quotes", strings.Repeat("\"", 1<<20), 0, 1, 0, 1, "bytes long"},
		{"a megabyte of commas", strings.Repeat(",", 1<<20), 0, 1, 0, 1, "bytes long"},
		{"one host 16384 times", strings.Repeat("dhcp-host=00:11:22:33:44:01,10.0.0.5\n", 1<<14), 1, 0, 1<<14 - 1, 0, ""},
		{"262144 entries without address", strings.Repeat("x\n", 1<<18), 0, 0, 1 << 18, 0, ""},
		{"binary", "\x00\xff\xfe=\n", 0, 1, 0, 1, `contains "\x00"`},
		{"1000 long lines", strings.Repeat(strings.Repeat("a", 1100)+"\n", 1000), 0, maxProblemsPerFile + 1, 0, 1, "bytes long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseDnsmasq("f", []byte(tt.in), ConfigOptions{Space: "school", ReadFile: noFiles})
			if len(res.Hosts) != tt.hosts || len(res.Problems) != tt.problems || len(res.Warnings) != tt.warnings {
				t.Fatalf("%d hosts, %d problems, %d warnings; want %d, %d, %d", len(res.Hosts), len(res.Problems), len(res.Warnings), tt.hosts, tt.problems, tt.warnings)
			}
			if tt.problems > 0 {
				if p := res.Problems[0]; p.Line != tt.firstLine || !strings.Contains(p.Err, tt.says) {
					t.Errorf("first problem %v, want line %d saying %q", p, tt.firstLine, tt.says)
				}
			}
			if tt.problems == maxProblemsPerFile+1 && !strings.Contains(res.Problems[maxProblemsPerFile].Err, "the rest of the file is not read") {
				t.Errorf("the last problem %v does not say that reading stopped", res.Problems[maxProblemsPerFile])
			}
		})
	}
}

// hostileBig is a line of a megabyte in two-byte runes.
var hostileBig = strings.Repeat("я", 1<<19)

// BenchmarkParseDnsmasqHostile shows the parser's speed on the hostile
// inputs of TestParseDnsmasqHostile.
func BenchmarkParseDnsmasqHostile(b *testing.B) {
	for name, in := range map[string]string{
		"huge-line":   "dhcp-host=" + hostileBig,
		"quotes":      strings.Repeat("\"", 1<<20),
		"repeated":    strings.Repeat("dhcp-host=00:11:22:33:44:01,10.0.0.5\n", 1<<14),
		"empty-lines": strings.Repeat("x\n", 1<<18),
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				ParseDnsmasq("f", []byte(in), ConfigOptions{Space: "school", ReadFile: noFiles})
			}
		})
	}
}

// TestDnsmasqAgrees runs "dnsmasq --test" on the table inputs whose verdict
// is known. A missing dnsmasq skips the test, except under CI.
func TestDnsmasqAgrees(t *testing.T) {
	dnsmasq := requireProgram(t, "dnsmasq")
	for _, tt := range dnsmasqCases {
		if tt.dnsmasq == 0 {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "dnsmasq.conf")
			os.WriteFile(conf, []byte(tt.in), 0o644)
			out, err := runProgram(t, dnsmasq, "--test", "--conf-file="+conf)
			if refused := err != nil; refused != (tt.dnsmasq == dhcpdRefuses) {
				t.Errorf("dnsmasq refused=%v, the table says %v:\n%s", refused, tt.dnsmasq == dhcpdRefuses, out)
			}
		})
	}
}
