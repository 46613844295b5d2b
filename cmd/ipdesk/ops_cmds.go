package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"

	"ipdesk/sqldb"
)

// version and commit are set at build time ("make package": go build
// -ldflags "-X main.version=1.2.3 -X main.commit=abc123"). Without them the
// module version and the VCS revision recorded by go build are shown.
var version, commit = "", ""

// versionInfo returns the version, the commit and the Go version of the
// binary.
func versionInfo() (ver, commit, goVersion string) {
	ver, commit = version, first(commit, "unknown")
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "unknown" {
					commit = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified {
			commit += "-dirty"
		}
	}
	if ver == "" {
		ver = "devel"
	}
	return ver, commit, runtime.Version()
}

func (m *Main) version(args []string) error {
	_, pos, err := m.flags("version", args, nil)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("version takes no arguments, got %q", pos)
	}
	v, commit, gov := versionInfo()
	fmt.Fprintf(m.Stdout, "ipdesk %s (commit %s, %s, schema version %d)\n", v, commit, gov, sqldb.SchemaVersion())
	return nil
}

// backup writes a consistent snapshot of the database to a new file.
func (m *Main) backup(ctx context.Context, args []string) error {
	c, pos, err := m.flags("backup", args, nil)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("backup takes one file name (the file must not exist)")
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, pos[0]); err != nil {
		return err
	}
	kind := "an SQLite database file"
	if db.Postgres() {
		kind = "an ipdesk dump"
	}
	fmt.Fprintf(m.Stdout, "backup written to %s (%s)\n", pos[0], kind)
	return nil
}

// restore loads a backup into the database.
func (m *Main) restore(ctx context.Context, args []string) error {
	var force bool
	c, pos, err := m.flags("restore", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "replace the contents of a database that is not empty")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("restore takes one backup file")
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	counts, err := db.Restore(ctx, pos[0], force)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "restored %s into %s:\n", pos[0], redact(c.DB))
	return m.printCounts(counts)
}

// migrateDB copies the database into another one, usually from SQLite to
// PostgreSQL.
func (m *Main) migrateDB(ctx context.Context, args []string) error {
	var to string
	var force bool
	c, pos, err := m.flags("migrate-db", args, func(fs *flag.FlagSet) {
		fs.StringVar(&to, "to", "", "the destination database: postgres://… or an SQLite file (required)")
		fs.BoolVar(&force, "force", false, "replace the contents of a destination that is not empty")
	})
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("migrate-db takes no arguments, got %q", pos)
	}
	if to == "" {
		return errors.New("migrate-db needs --to DATABASE, e.g. --to postgres://ipdesk@db.example/ipdesk")
	}
	src, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := sqldb.Open(ctx, to)
	if err != nil {
		return fmt.Errorf("database %s: %w", redact(to), err)
	}
	defer dst.Close()
	counts, err := sqldb.Copy(ctx, src, dst, force)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "copied %s to %s; row counts checked:\n", redact(c.DB), redact(to))
	if err := m.printCounts(counts); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Now set \"db\" in the config file (or IPDESK_DB) to the new database and restart ipdesk.\n")
	return nil
}

func (m *Main) printCounts(counts []sqldb.TableCount) error {
	w := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	for _, c := range counts {
		fmt.Fprintf(w, "  %s\t%d\t\n", c.Table, c.Rows)
	}
	return w.Flush()
}
