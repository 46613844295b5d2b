package importer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDHCPDLexer(t *testing.T) {
	type tok struct {
		kind int
		text string
		line int
	}
	w := func(text string, line int) tok { return tok{tokWord, text, line} }
	s := func(text string, line int) tok { return tok{tokString, text, line} }
	p := func(text string, line int) tok { return tok{tokPunct, text, line} }
	tests := []struct {
		name     string
		in       string
		want     []tok
		comments map[int]dhcpdComment
		problems []string
	}{
		{"words and punctuation", "host pc1.example { hardware ethernet 0:1a:2b:3c:4d:5e; fixed-address 10.0.0.5, 10.0.1.5; }",
			[]tok{w("host", 1), w("pc1.example", 1), p("{", 1), w("hardware", 1), w("ethernet", 1), w("0:1a:2b:3c:4d:5e", 1), p(";", 1),
				w("fixed-address", 1), w("10.0.0.5", 1), p(",", 1), w("10.0.1.5", 1), p(";", 1), p("}", 1)}, nil, nil},
		{"comments in odd places", "host pc1#name\n{ # brace\nfixed-address#x\n10.0.0.5 ;#end\n}# \"not a string",
			[]tok{w("host", 1), w("pc1", 1), p("{", 2), w("fixed-address", 3), w("10.0.0.5", 4), p(";", 4), p("}", 5)},
			map[int]dhcpdComment{1: {"name", false}, 2: {" brace", false}, 3: {"x", false}, 4: {"end", false}, 5: {` "not a string`, false}}, nil},
		{"comment alone on its line", "  # Кабинет 303\r\nhost a {}",
			[]tok{w("host", 2), w("a", 2), p("{", 2), p("}", 2)}, map[int]dhcpdComment{1: {" Кабинет 303\r", true}}, nil},
		{"string escapes", `option host-name "a\"b\\c\td\x41\101\7z#{;}" ;`,
			[]tok{w("option", 1), w("host-name", 1), s("a\"b\\c\tdAA\x07z#{;}", 1), p(";", 1)}, nil, nil},
		{"string across lines keeps its first line", "x \"a\nb\nc\" y",
			[]tok{w("x", 1), s("a\nb\nc", 1), w("y", 3)}, nil, nil},
		{"CRLF", "a;\r\nb;\r\n", []tok{w("a", 1), p(";", 1), w("b", 2), p(";", 2)}, nil, nil},
		{"Cyrillic outside a string", "host пк { }\n", []tok{w("host", 1), p("{", 1), p("}", 1)}, nil,
			[]string{"1:character 'п' (U+043F) outside a quoted string or comment"}},
		{"NUL and invalid UTF-8", "a\x00b\n\xffc", []tok{w("a", 1), w("b", 1), w("c", 2)}, nil,
			[]string{"1:byte 0x00", "2:byte 0xff"}},
		{"unterminated string", "a \"bc\nd", []tok{w("a", 1)}, nil, []string{"1:the quoted string that starts here is not closed"}},
		{"hex escape without digits", `"\xg"`, []tok{s("\x00g", 1)}, nil, []string{`1:"\x" in a quoted string without hex digits`}},
		{"backslash at the end", `"abc\`, nil, nil, []string{"1:the quoted string that starts here is not closed"}},
		{"long word", strings.Repeat("a", 1501), []tok{w(strings.Repeat("a", 1501), 1)}, nil, []string{"1:a word of 1501 characters"}},
		{"long string", `"` + strings.Repeat("a", 1501) + `"`, []tok{s(strings.Repeat("a", 1501), 1)}, nil, []string{"1:a quoted string of 1501 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{}
			f := &dhcpdFile{src: &source{name: "f", res: res}, comments: map[int]dhcpdComment{}}
			lx := &dhcpdLexer{src: []byte(tt.in), line: 1, f: f}
			var got []tok
			for tk := lx.next(); tk.kind != tokEOF; tk = lx.next() {
				got = append(got, tok{tk.kind, tk.text, tk.line})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("tokens\n got %+v\nwant %+v", got, tt.want)
			}
			if tt.comments != nil && fmt.Sprint(f.comments) != fmt.Sprint(tt.comments) {
				t.Errorf("comments %+v, want %+v", f.comments, tt.comments)
			}
			checkMessages(t, "problem", res.Problems, tt.problems)
		})
	}
}

// checkMessages compares messages with the wanted ones, in order, each
// given as "LINE:text the message contains" or, when the field matters,
// "LINE:field:text".
func checkMessages(t *testing.T, what string, got []LineError, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%ss:\n%s\nwant %d: %q", what, joinErrors(got), len(want), want)
		return
	}
	for i, w := range want {
		line, says, _ := strings.Cut(w, ":")
		field := got[i].Field
		if f, rest, ok := strings.Cut(says, ":"); ok && isFieldName(f) {
			field, says = f, rest
		}
		if fmt.Sprint(got[i].Line) != line || got[i].Field != field || !strings.Contains(got[i].Err, says) {
			t.Errorf("%s %d = %v; want line %s, field %q, with %q", what, i, got[i], line, field, says)
		}
	}
}

// isFieldName reports whether s looks like a field name: lower-case
// letters and hyphens.
func isFieldName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz-") == ""
}

func joinErrors(es []LineError) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString("  " + e.Error() + "\n")
	}
	return b.String()
}

// hostLine shows the data of a host in one line, for comparisons.
func hostLine(h Host) string {
	s := fmt.Sprintf("%s %s %s", h.Address, orDash(h.MAC.String()), orDash(h.Hostname))
	if !h.DHCPReservation {
		s += " noreservation"
	}
	for _, f := range []struct{ name, v string }{{"owner", h.Owner}, {"location", h.Location}, {"desc", h.Description}} {
		if f.v != "" {
			s += fmt.Sprintf(" %s=%q", f.name, f.v)
		}
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// dhcpdCase is one table entry of TestParseDHCPD. dhcpd says how the real
// dhcpd judges the input (dhcpdAccepts, dhcpdRefuses), for the cases where
// the importer's problems mirror dhcpd's own check; 0 leaves it out of
// TestDHCPDAgrees.
type dhcpdCase struct {
	name     string
	in       string
	hosts    []string
	problems []string
	warnings []string
	dhcpd    int
}

const (
	dhcpdAccepts = 1
	dhcpdRefuses = 2
)

const mac1 = "00:11:22:33:44:01"

var dhcpdCases = []dhcpdCase{
	{name: "plain host",
		in:    "host pc1 {\n  hardware ethernet 00:11:22:33:44:01;\n  fixed-address 10.0.0.5;\n  option host-name \"pc1\";\n}\n",
		hosts: []string{"10.0.0.5 " + mac1 + " pc1"}, dhcpd: dhcpdAccepts},
	{name: "nested blocks",
		in: `ddns-update-style none;
shared-network campus {
  subnet 10.0.0.0 netmask 255.255.255.0 {
    option routers 10.0.0.1;
    pool { range 10.0.0.100 10.0.0.200; }
    group {
      filename "pxelinux.0";
      host a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }
    }
  }
  subnet 10.0.1.0 netmask 255.255.255.0 { host b { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.1.5; } }
}
group { group { host c { hardware ethernet 00:11:22:33:44:03; fixed-address 10.0.2.5; } } }
if option vendor-class-identifier = "PXEClient" { filename "x"; } else { filename "y"; }
`,
		hosts:    []string{"10.0.0.5 " + mac1 + " a", "10.0.1.5 00:11:22:33:44:02 b", "10.0.2.5 00:11:22:33:44:03 c"},
		warnings: []string{"7:filename is a setting of the group at line 6 for its hosts"}, dhcpd: dhcpdAccepts},
	{name: "group settings",
		in: `group {
  filename "pxelinux.0";
  next-server 10.0.0.2;
  option routers 10.0.0.1;
  if exists user-class { filename "ipxe"; }
  host a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }
  group {
    option domain-name-servers 10.0.0.3;
    host b { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.6; }
  }
}
group { filename "unused"; }
`,
		hosts: []string{"10.0.0.5 " + mac1 + " a", "10.0.0.6 00:11:22:33:44:02 b"},
		warnings: []string{
			"2:filename is a setting of the group at line 1 for its hosts; ipdesk keeps a host's address, MAC and name",
			"3:next-server is a setting of the group at line 1",
			"4:option routers is a setting of the group at line 1",
			"5:if { } is a setting of the group at line 1",
			"8:option domain-name-servers is a setting of the group at line 7",
		}, dhcpd: dhcpdAccepts},
	{name: "keywords in any case, single-digit MAC bytes",
		in:    "HOST pc1 { Hardware ETHERNET 0:1:a:B:c:D; Fixed-Address 10.0.0.5; OPTION Host-Name pc1; }",
		hosts: []string{"10.0.0.5 00:01:0a:0b:0c:0d pc1"}, dhcpd: dhcpdAccepts},
	{name: "comments in odd places",
		in:    "host pc1 # the first\n{ hardware # the MAC\n ethernet 00:11:22:33:44:01; fixed-address # soon\n 10.0.0.5 ; # done\n} # end",
		hosts: []string{"10.0.0.5 " + mac1 + " pc1 desc=\"the first\""}, dhcpd: dhcpdAccepts},
	{name: "comment lines above a host, CRLF, Cyrillic",
		in: "# unrelated\r\n\r\n# Иванов И.И.\r\n#\tкабинет 303 \r\nhost pc1 {\r\n hardware ethernet 00:11:22:33:44:01;\r\n fixed-address 10.0.0.5;\r\n}\r\n" +
			"host pc2 { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.6; } # trailing\r\n",
		hosts: []string{"10.0.0.5 " + mac1 + " pc1 desc=\"Иванов И.И. кабинет 303\"", "10.0.0.6 00:11:22:33:44:02 pc2 desc=\"trailing\""}, dhcpd: dhcpdAccepts},
	{name: "ipdesk's comment and names",
		in: "# ISC dhcpd host declarations (IPv4), written by ipdesk: 2 hosts.\n# Do not edit: ipdesk replaces this file.\n" +
			"# owner: Иванов \"Ваня\"; room: Main / Haus \"B\"; {Nord} # 2 / 303; description: printer; {evil} # x; note: y\n" +
			"host pc1-10-0-0-5 { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }\n" +
			"# owner: a; note: host name \"bad name!\" is not a valid host name and is not sent\n" +
			"host host-10-0-0-6 { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.6; }\n" +
			"host web-2001-db8-0-0-0-0-0-5 { hardware ethernet 00:11:22:33:44:03; fixed-address6 2001:db8::5; }\n",
		hosts: []string{"10.0.0.5 " + mac1 + ` pc1 owner="Иванов \"Ваня\"" location="Main > Haus \"B\"; {Nord} # 2 > 303" desc="printer; {evil} # x; note: y"`,
			`10.0.0.6 00:11:22:33:44:02 - owner="a"`, "2001:db8::5 00:11:22:33:44:03 web"},
		warnings: []string{`6:hostname:the comment names the host name "bad name!"`}},
	{name: "host names from ddns-hostname and the declaration",
		in: "host a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; ddns-hostname \"dyn\"; }\n" +
			"host pc_1 { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.6; }\n" +
			"host pc2.school.example { hardware ethernet 00:11:22:33:44:03; fixed-address 10.0.0.7; }\n",
		hosts:    []string{"10.0.0.5 " + mac1 + " dyn", "10.0.0.6 00:11:22:33:44:02 -", "10.0.0.7 00:11:22:33:44:03 pc2.school.example"},
		warnings: []string{`2:hostname:the declaration name "pc_1" is not a valid host name`}, dhcpd: dhcpdAccepts},
	{name: "several fixed addresses, a host without one, one without a MAC",
		in: "host a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5, 10.0.1.5; }\n" +
			"host b { hardware ethernet 00:11:22:33:44:02; }\n" +
			"host c { fixed-address 10.0.0.7; option dhcp-client-identifier \"x\"; }\n" +
			"host d { hardware ethernet 00:11:22:33:44:04; fixed-address 10.0.0.8; filename \"x\"; option routers 10.0.0.1; deleted; }\n" +
			"host e { hardware ethernet 00:11:22:33:44:05; fixed-address 10.0.0.9; filename \"x\"; option routers 10.0.0.1; }\n",
		hosts: []string{"10.0.0.5 " + mac1 + " a", "10.0.0.7 - c noreservation", "10.0.0.9 00:11:22:33:44:05 e"},
		warnings: []string{"1:address:fixed-address lists 2 addresses; only the first, 10.0.0.5", "2:host b has no fixed-address",
			"3:mac:matched by option dhcp-client-identifier", "4:host d is marked deleted", "5:not imported: filename, option routers"}, dhcpd: dhcpdAccepts},
	{name: "IPv6",
		in:    "host v6 { hardware ethernet 00:11:22:33:44:01; fixed-address6 2001:db8::5; }\nhost v4in6 { fixed-address6 10.0.0.5; }\n",
		hosts: []string{"2001:db8::5 " + mac1 + " v6"}, problems: []string{"2:address:fixed-address6 10.0.0.5 is an IPv4 address"}},
	{name: "bad addresses",
		in: "host a { fixed-address pc9.school.example; }\nhost b { fixed-address 10.0.0.300; }\nhost c { fixed-address 2001:db8::5; }\n" +
			"host d { fixed-address6 nope; }\nhost e { fixed-address; }\nhost f { fixed-address 10.0.0.5,; }\nhost g { fixed-address 10.0.0.5 10.0.0.6; }\n" +
			"host h { fixed-address \"10.0.0.5\"; }\n",
		problems: []string{"1:address:fixed-address pc9.school.example is a DNS name", `2:address:fixed-address "10.0.0.300" is not a valid IP address`,
			"3:address:fixed-address 2001:db8::5 is an IPv6 address", `4:address:fixed-address6 "nope" is not a valid IP address`,
			"5:address:fixed-address without an address", "6:address:fixed-address ends with a comma", "7:address:unexpected '10.0.0.6' after '10.0.0.5'",
			`8:address:expected an address, found "10.0.0.5"`}},
	{name: "two fixed address statements", in: "host a {\n fixed-address 10.0.0.5;\n fixed-address6 2001:db8::5;\n}",
		problems: []string{"3:address:host a has a second fixed address statement (the first is at line 2)"}, dhcpd: dhcpdRefuses},
	{name: "bad hardware",
		in: "host a { hardware token-ring 00:11:22:33:44:01; fixed-address 10.0.0.5; }\n" +
			"host b { hardware ethernet 00:11:22:33:44:01:02; fixed-address 10.0.0.6; }\n" +
			"host c { hardware ethernet ff:ff:ff:ff:ff:ff; fixed-address 10.0.0.7; }\n" +
			"host d { hardware ethernet zz:11:22:33:44:01; fixed-address 10.0.0.8; }\n" +
			"host e { hardware ethernet; fixed-address 10.0.0.9; }\n",
		problems: []string{"1:mac:hardware token-ring: ipdesk reserves addresses for Ethernet MACs only", "2:mac:has 7 bytes",
			"3:mac:broadcast", "4:mac:is not a MAC address", "5:mac:hardware needs a type and an address"}},
	{name: "two hardware statements", in: "host a { hardware ethernet 00:11:22:33:44:01;\nhardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.5; }",
		problems: []string{"2:mac:second hardware statement"}, dhcpd: dhcpdRefuses},
	{name: "invalid host-name option", in: "host a {\nfixed-address 10.0.0.5;\noption host-name \"bad name\";\n}",
		problems: []string{`3:hostname:option host-name: hostname "bad name" contains " "`}, dhcpd: dhcpdAccepts},
	{name: "repeated host name", in: "host a { fixed-address 10.0.0.5; }\nhost a { fixed-address 10.0.0.6; }\n",
		hosts: []string{"10.0.0.5 - a noreservation"}, problems: []string{"2:host a is declared twice (first at f:1)"},
		warnings: []string{"1:mac:host a is imported without a DHCP reservation"}, dhcpd: dhcpdRefuses},
	{name: "repeated address",
		in: "host a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }\n" +
			"host b { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; option host-name \"a\"; }\n" +
			"host c { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.5; }\n",
		hosts:    []string{"10.0.0.5 " + mac1 + " a"},
		problems: []string{"3:address:address 10.0.0.5 is already reserved at f:1 (MAC " + mac1 + ")"},
		warnings: []string{"2:address:address 10.0.0.5 is given again, as at f:1"}, dhcpd: dhcpdAccepts},
	{name: "quoted host name", in: "host \"pc 1\" { fixed-address 10.0.0.5; }", problems: []string{`1:the name of a host declaration must be a bare name, not "pc 1"`}, dhcpd: dhcpdRefuses},
	{name: "host without name or block", in: "host;\nhost a;\nhost a b { }\nhost a { host b { } }\n",
		problems: []string{"1:host declaration without a name", "2:host a has no { } block", "3:unexpected 'b' after the host name", "4:a host declaration inside host a"}},
	{name: "unterminated string",
		in:       "host a {\n hardware ethernet 00:11:22:33:44:01;\n fixed-address 10.0.0.5;\n option host-name \"pc1;\n}\nhost b { fixed-address 10.0.0.6; }\n",
		problems: []string{"1:the '{' of this statement is not closed", "4:the quoted string that starts here is not closed", "4:the statement that starts here does not end with ';'"},
		dhcpd:    dhcpdRefuses},
	{name: "unclosed brace", in: "host a {\n hardware ethernet 00:11:22:33:44:01;\n fixed-address 10.0.0.5;\n",
		hosts: []string{"10.0.0.5 " + mac1 + " a"}, problems: []string{"1:the '{' of this statement is not closed"}, dhcpd: dhcpdRefuses},
	{name: "brace without opening", in: "host a { fixed-address 10.0.0.5; }\n}\n",
		hosts: []string{"10.0.0.5 - a noreservation"}, problems: []string{"2:'}' without a '{' before it"},
		warnings: []string{"1:mac:imported without a DHCP reservation"}, dhcpd: dhcpdRefuses},
	{name: "missing semicolons",
		in: "host a {\n hardware ethernet 00:11:22:33:44:01\n fixed-address 10.0.0.5;\n}\n" +
			"host b {\n hardware ethernet 00:11:22:33:44:02;\n fixed-address 10.0.0.6\n}\nddns-update-style none\n",
		problems: []string{"3:unexpected 'fixed-address' after the MAC address (is a ';' missing?)",
			"7:the statement that starts here does not end with ';' before '}'", "9:the statement that starts here does not end with ';'"},
		dhcpd: dhcpdRefuses},
	{name: "Cyrillic outside strings and comments", in: "host a { fixed-address 10.0.0.5; } кабинет\n",
		hosts: []string{"10.0.0.5 - a noreservation"}, problems: []string{"1:character 'к' (U+043A) outside a quoted string or comment"},
		warnings: []string{"1:mac:imported without"}, dhcpd: dhcpdRefuses},
	{name: "strings with escapes, UTF-8 and braces", in: "option domain-name \"a\\\"b{};#\";\nhost a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; option host-name \"pc\\x31\"; }\n# Зал \"A\" {x}\nhost b { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.6; }",
		hosts: []string{"10.0.0.5 " + mac1 + " pc1", "10.0.0.6 00:11:22:33:44:02 b desc=\"Зал \\\"A\\\" {x}\""}, dhcpd: dhcpdAccepts},
	{name: "too long token", in: "host " + strings.Repeat("a", 2000) + " { fixed-address 10.0.0.5; }",
		problems: []string{"1:a word of 2000 characters"}, warnings: []string{"1:hostname:not a valid host name", "1:mac:imported without"}, hosts: []string{"10.0.0.5 - - noreservation"}, dhcpd: dhcpdRefuses},
	{name: "include syntax", in: "include /etc/x;\ninclude \"a\" \"b\";\ninclude \"a\" { }\n",
		problems: []string{"1:include:include takes one file name", "2:include:include takes one file name", "3:include:include takes one file name"}},
	{name: "empty", in: ""},
	{name: "only semicolons and empty blocks", in: ";;{};{{}}\n", dhcpd: 0},
}

func TestParseDHCPD(t *testing.T) {
	for _, tt := range dhcpdCases {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseDHCPD("f", []byte(tt.in), ConfigOptions{Space: "school", ReadFile: noFiles})
			checkResult(t, res, tt.hosts, tt.problems, tt.warnings)
		})
	}
}

func noFiles(name string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func checkResult(t *testing.T, res *Result, hosts, problems, warnings []string) {
	t.Helper()
	var got []string
	for _, h := range res.Hosts {
		got = append(got, hostLine(h))
		if h.Space != "school" || h.File == "" || h.Line < 1 {
			t.Errorf("host %+v lacks its space or position", h)
		}
	}
	if !slices.Equal(got, hosts) {
		t.Errorf("hosts\n got %q\nwant %q", got, hosts)
	}
	byLine := func(a, b LineError) int { return a.Line - b.Line }
	slices.SortStableFunc(res.Problems, byLine)
	slices.SortStableFunc(res.Warnings, byLine)
	checkMessages(t, "problem", res.Problems, problems)
	checkMessages(t, "warning", res.Warnings, warnings)
}

// TestParseDHCPDHostile feeds inputs meant to break a parser: each must
// end with problems, quickly, without a panic.
func TestParseDHCPDHostile(t *testing.T) {
	big := strings.Repeat("я", 1<<19) // 1 MB of Cyrillic
	tests := []struct {
		name     string
		in       string
		problems []string
		hosts    int
	}{
		{"1 MB comment line above a host", "#" + big + "\nhost a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }", nil, 1},
		{"1 MB string", "host a { fixed-address 10.0.0.5; option host-name \"" + big + "\"; }", []string{"1:a quoted string of 1048576 bytes", "1:hostname:option host-name"}, 0},
		{"1 MB word", "host a { fixed-address " + strings.Repeat("1", 1<<20) + "; }", []string{"1:a word of 1048576 characters", "1:address:is not a valid IP address"}, 0},
		{"1 MB of Cyrillic outside strings", big, []string{"1:character 'я'"}, 0},
		{"deep nesting", strings.Repeat("{", 1<<20), []string{"1:blocks are nested more than 64 deep"}, 0},
		{"many closing braces", strings.Repeat("}\n", 1<<16), nil, 0},
		{"many lines of garbage", strings.Repeat("\x01\n", 1<<16), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseDHCPD("f", []byte(tt.in), ConfigOptions{Space: "school", ReadFile: noFiles})
			if len(res.Hosts) != tt.hosts {
				t.Errorf("hosts %v", res.Hosts)
			}
			if tt.problems != nil {
				checkMessages(t, "problem", res.Problems, tt.problems)
			}
			if len(res.Problems) > maxProblemsPerFile+1 {
				t.Errorf("%d problems; the report should stop at %d", len(res.Problems), maxProblemsPerFile)
			}
		})
	}
	// A megabyte comment above a host becomes a clipped description.
	res := ParseDHCPD("f", []byte(tests[0].in), ConfigOptions{Space: "school"})
	if d := res.Hosts[0].Description; len([]rune(d)) != 1000 || !strings.HasSuffix(d, "…") {
		t.Errorf("description of %d characters", len([]rune(d)))
	}
	checkMessages(t, "warning", res.Warnings, []string{"2:description:longer than 1000 characters"})
}

func TestDHCPDIncludes(t *testing.T) {
	files := map[string]string{
		"/etc/dhcp/dhcpd.conf": "include \"hosts/a.conf\";\nsubnet 10.0.0.0 netmask 255.255.255.0 { include \"/srv/b.conf\"; }\ninclude \"missing.conf\";\n",
		"/etc/dhcp/hosts/a.conf": "# from a\nhost a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }\n" +
			"include \"../dhcpd.conf\";\ninclude \"c.conf\";\n",
		"/etc/dhcp/hosts/c.conf": "host c { hardware ethernet 00:11:22:33:44:03; fixed-address 10.0.0.7;\n",
		"/srv/b.conf":            "host b { hardware ethernet 00:11:22:33:44:02; fixed-address 10.0.0.6; }\n",
	}
	opt := ConfigOptions{Space: "school", ReadFile: func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return noFiles(name)
	}}
	res, err := ReadDHCPD("/etc/dhcp/dhcpd.conf", opt)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range res.Hosts {
		got = append(got, fmt.Sprintf("%s:%d %s", h.File, h.Line, hostLine(h)))
	}
	want := []string{"/etc/dhcp/hosts/a.conf:2 10.0.0.5 " + mac1 + ` a desc="from a"`, "/etc/dhcp/hosts/c.conf:1 10.0.0.7 00:11:22:33:44:03 c", "/srv/b.conf:1 10.0.0.6 00:11:22:33:44:02 b"}
	if !slices.Equal(got, want) {
		t.Errorf("hosts\n got %q\nwant %q", got, want)
	}
	var problems []string
	for _, p := range res.Problems {
		problems = append(problems, p.Error())
	}
	wantProblems := []string{
		"/etc/dhcp/hosts/a.conf:3: include: /etc/dhcp/dhcpd.conf includes itself (through /etc/dhcp/dhcpd.conf → /etc/dhcp/hosts/a.conf); the include is not followed",
		"/etc/dhcp/hosts/c.conf:1: the '{' of this statement is not closed with '}'",
		"/etc/dhcp/dhcpd.conf:3: include: cannot read /etc/dhcp/missing.conf: file does not exist",
	}
	if !slices.Equal(problems, wantProblems) {
		t.Errorf("problems\n got %q\nwant %q", problems, wantProblems)
	}

	// A chain deeper than MaxIncludeDepth, and a file including another
	// twice at every level, end with a problem instead of reading on.
	reads := 0
	chain := ConfigOptions{Space: "school", ReadFile: func(name string) ([]byte, error) {
		reads++
		n := len(name)
		var b strings.Builder
		for _, c := range "wxyz" {
			fmt.Fprintf(&b, "include \"%s\";\n", strings.Repeat(string(c), n+1))
		}
		return []byte(b.String()), nil
	}}
	res = ParseDHCPD("x", []byte(`include "xx";`), chain)
	if len(res.Problems) == 0 || !strings.Contains(res.Problems[0].Err, "nested more than 8 deep") {
		t.Errorf("deep includes: %d problems, first %v", len(res.Problems), res.Problems[0])
	}
	// The work is bounded by the include limit, not by 4^depth files.
	if reads > 1000 {
		t.Errorf("the include chain read %d files", reads)
	}
	if !slices.ContainsFunc(res.Problems, func(p LineError) bool { return strings.Contains(p.Err, "more than 1000 includes") }) {
		t.Errorf("the number of includes is not bounded")
	}

	// On disk: relative names are relative to the including file, and a
	// missing top-level file is an error.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "dhcpd.conf"), []byte("include \"sub/hosts\";\ninclude \"sub\";\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "hosts"), []byte("host a { hardware ethernet 00:11:22:33:44:01; fixed-address 10.0.0.5; }\n"), 0o644)
	res, err = ReadDHCPD(filepath.Join(dir, "dhcpd.conf"), ConfigOptions{Space: "school"})
	if err != nil || len(res.Hosts) != 1 || res.Hosts[0].File != filepath.Join(dir, "sub", "hosts") {
		t.Fatalf("on disk: %+v %v", res, err)
	}
	checkMessages(t, "problem", res.Problems, []string{"2:include:is a directory"})
	if _, err := ReadDHCPD(filepath.Join(dir, "nope.conf"), ConfigOptions{Space: "school"}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestDHCPDAgrees runs the real dhcpd's configuration check on the table
// inputs whose verdict is known: what the importer calls a syntax problem,
// dhcpd refuses too, and what it reads cleanly, dhcpd accepts. A missing
// dhcpd skips the test, except under CI.
func TestDHCPDAgrees(t *testing.T) {
	dhcpd := requireProgram(t, "dhcpd")
	for _, tt := range dhcpdCases {
		if tt.dhcpd == 0 {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			conf := filepath.Join(dir, "dhcpd.conf")
			os.WriteFile(conf, []byte(tt.in), 0o644)
			os.WriteFile(filepath.Join(dir, "leases"), nil, 0o644)
			args := []string{"-t", "-q", "-cf", conf, "-lf", filepath.Join(dir, "leases"), "-pf", filepath.Join(dir, "pid")}
			if strings.Contains(tt.in, "fixed-address6") {
				args = append([]string{"-6"}, args...)
			}
			out, err := runProgram(t, dhcpd, args...)
			if refused := err != nil; refused != (tt.dhcpd == dhcpdRefuses) {
				t.Errorf("dhcpd refused=%v, the table says %v:\n%s", refused, tt.dhcpd == dhcpdRefuses, out)
			}
		})
	}
}

// requireProgram returns the path of a daemon, looked for in /usr/sbin and
// PATH; without it the test is skipped, or fails under CI=true.
func requireProgram(t *testing.T, name string) string {
	t.Helper()
	if p := filepath.Join("/usr/sbin", name); fileExists(p) {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed, and CI=true requires the daemon tests", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func runProgram(t *testing.T, argv0 string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv0, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd.CombinedOutput()
}

// TestIncludeGuard: the files of one import are bounded in size together.
func TestIncludeGuard(t *testing.T) {
	opt := &ConfigOptions{ReadFile: func(string) ([]byte, error) { return make([]byte, 20), nil }}
	g := includeGuard{opt: opt}
	g.push("top", MaxImportSize-30)
	if _, msg, _ := g.enter("a"); msg != "" {
		t.Fatalf("first include refused: %s", msg)
	}
	g.leave()
	if _, msg, _ := g.enter("b"); !strings.Contains(msg, "larger than 256 MiB together; b is not read") {
		t.Fatalf("second include: %q", msg)
	}
}
