package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ipdesk/sqldb/sqldbtest"
)

func TestVersion(t *testing.T) {
	out, _, err := run(t, nil, "", "version")
	if err != nil || !regexp.MustCompile(`^ipdesk \S+ \(commit \S+, go\S+, schema version \d+\)\n$`).MatchString(out) {
		t.Errorf("version: %q %v", out, err)
	}
}

// TestBackupRestoreMigrateDB backs up a database, restores it into a new
// one (and refuses a filled one without --force), and copies it to
// PostgreSQL with migrate-db.
func TestBackupRestoreMigrateDB(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	vars := map[string]string{"IPDESK_DB": src, "IPDESK_PASSWORD": "a-good-password-1"}
	if _, _, err := run(t, vars, "", "user", "add", "alice"); err != nil {
		t.Fatal(err)
	}
	bak := filepath.Join(dir, "backup.db")
	if out, _, err := run(t, vars, "", "backup", bak); err != nil || !strings.Contains(out, "SQLite database file") {
		t.Fatalf("backup: %q %v", out, err)
	}
	if _, _, err := run(t, vars, "", "backup", bak); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("backup over an existing file: %v", err)
	}
	dst := map[string]string{"IPDESK_DB": filepath.Join(dir, "dst.db")}
	out, _, err := run(t, dst, "", "restore", bak)
	if err != nil || !regexp.MustCompile(`users\s+1\b`).MatchString(out) {
		t.Fatalf("restore: %q %v", out, err)
	}
	if _, _, err := run(t, dst, "", "restore", bak); err == nil || !strings.Contains(message(err), "--force") {
		t.Errorf("restore into a filled database: %v", err)
	}
	if _, _, err := run(t, dst, "", "restore", bak, "--force"); err != nil {
		t.Errorf("restore --force: %v", err)
	}
	if _, _, err := run(t, vars, "", "migrate-db"); err == nil || !strings.Contains(err.Error(), "--to") {
		t.Errorf("migrate-db without --to: %v", err)
	}
	if _, _, err := run(t, vars, "", "migrate-db", "--to", src); err == nil {
		t.Errorf("migrate-db onto itself succeeded")
	}
	pg := sqldbtest.PostgresDSN(t)
	if pg == "" {
		return
	}
	out, _, err = run(t, vars, "", "migrate-db", "--to", pg)
	if err != nil || !regexp.MustCompile(`users\s+1\b`).MatchString(out) || strings.Contains(out, "ipdesk-test@") {
		t.Fatalf("migrate-db: %q %v", out, err)
	}
	// The app works on the copy: sign-in data are there.
	out, _, err = run(t, map[string]string{"IPDESK_DB": pg}, "", "token", "create", "--user", "alice")
	if err != nil || len(strings.TrimSpace(out)) < 20 {
		t.Errorf("token create on the copy: %q %v", out, err)
	}
	os.Remove(bak)
}
