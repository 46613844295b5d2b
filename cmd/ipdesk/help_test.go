package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpEveryCommand walks the command table: every verb and sub-verb
// answers -h and --help with its usage on standard output and succeeds,
// without touching the database; every group ("import") lists its verbs.
func TestHelpEveryCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "never.db")
	vars := map[string]string{"IPDESK_DB": db}
	groups := map[string][]string{}
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(words) > 1 {
			groups[words[0]] = append(groups[words[0]], c.name)
		}
		for _, h := range []string{"-h", "--help"} {
			args := append(words, h)
			out, errOut, err := run(t, vars, "", args...)
			if err != nil || errOut != "" {
				t.Errorf("ipdesk %s: %v, stderr %q", strings.Join(args, " "), err, errOut)
				continue
			}
			if !strings.HasPrefix(out, "usage: ipdesk "+c.name+" ") || !strings.Contains(out, c.about) || !strings.Contains(out, "-db") {
				t.Errorf("ipdesk %s printed\n%s", strings.Join(args, " "), out)
			}
		}
	}
	if len(groups) < 4 {
		t.Fatalf("groups %v: the table lost its sub-verbs", groups)
	}
	leaf := map[string]bool{}
	for _, c := range commands() {
		leaf[c.name] = true
	}
	for g, names := range groups {
		for _, h := range []string{"-h", "--help", "help"} {
			if h == "help" && leaf[g] {
				continue // "holidays help" is an argument of "holidays"
			}
			out, errOut, err := run(t, vars, "", g, h)
			if err != nil || errOut != "" {
				t.Errorf("ipdesk %s %s: %v, stderr %q", g, h, err, errOut)
				continue
			}
			for _, n := range names {
				if !strings.Contains(out, "\n  "+n+" ") {
					t.Errorf("ipdesk %s %s does not list %q:\n%s", g, h, n, out)
				}
			}
		}
		if leaf[g] {
			continue
		}
		if _, errOut, err := run(t, vars, "", g, "frobnicate"); err == nil || !strings.Contains(errOut, `unknown command "`+g+` frobnicate"`) {
			t.Errorf("ipdesk %s frobnicate: %v %q", g, err, errOut)
		}
	}
	for _, h := range []string{"-h", "--help", "help"} {
		out, _, err := run(t, vars, "", h)
		if err != nil {
			t.Errorf("ipdesk %s: %v", h, err)
		}
		for _, c := range commands() {
			if !strings.Contains(out, "\n  "+c.name) {
				t.Errorf("ipdesk %s does not list %q", h, c.name)
			}
		}
	}
	// A bad flag is still an error, with the usage on standard error.
	if out, errOut, err := run(t, vars, "", "import", "hosts", "--frob"); err == nil || out != "" || !strings.Contains(errOut, "usage: ipdesk import hosts") {
		t.Errorf("bad flag: %v, stdout %q, stderr %q", err, out, errOut)
	}
	if matches, _ := filepath.Glob(db + "*"); len(matches) > 0 {
		t.Errorf("asking for help created %v", matches)
	}
}
