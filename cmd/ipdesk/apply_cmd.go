package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"ipdesk"
	"ipdesk/schedule"
)

// applyOutputs runs "ipdesk apply [TARGET] [--dry-run]": it applies the
// configured outputs (all, one target, or one level of a squid-levels
// target) now and prints each run with the daemon's message. Any run that
// did not leave its daemon on the new file makes the command fail. With
// --dry-run it prints what an apply would change and changes nothing.
//
// The command works in its own process, beside a running server: both
// write whole files only, and the next apply of either sees the other's.
func (m *Main) applyOutputs(ctx context.Context, args []string) error {
	var dryRun bool
	c, pos, err := m.flags("apply", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "show what an apply would change, change nothing")
	})
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return fmt.Errorf("apply takes at most one target name, got %q", pos)
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	if _, err := c.outputsConfig(); err != nil {
		return err
	}
	settings, err := c.scheduleSettings()
	if err != nil {
		return err
	}
	if len(c.Targets) == 0 {
		return errors.New(`no targets are configured: add "targets" to the config file (see "Config outputs" in the README)`)
	}
	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	// The blocked rooms are those of the timetable now.
	svc, err := c.outputs(db, c.logger(m.Stderr), schedule.NewPlanner(db, settings, nil), nil)
	if err != nil {
		return err
	}
	if dryRun {
		names, err := svc.Resolve(name)
		if err != nil {
			return err
		}
		failed := 0
		for _, n := range names {
			d, err := svc.Preview(ctx, n)
			if err != nil {
				return err
			}
			switch {
			case d.Error != "":
				failed++
				fmt.Fprintf(m.Stdout, "%s: %s\n", n, d.Error)
			case !d.Changed:
				fmt.Fprintf(m.Stdout, "%s: no change\n", n)
			default:
				fmt.Fprintf(m.Stdout, "%s: would change %d lines (+%d -%d)\n%s", n, d.Added+d.Removed, d.Added, d.Removed, d.Text)
			}
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d outputs cannot be rendered", failed, len(names))
		}
		return nil
	}
	runs, err := svc.ApplyNow(systemCtx(ctx, m.Getenv), name)
	failed := 0
	for _, r := range runs {
		if !r.Status.OK() {
			failed++
		}
		printRun(m.Stdout, r)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d outputs failed", failed, len(runs))
	}
	return nil
}

// printRun writes one line about r and its message, indented.
func printRun(w io.Writer, r *ipdesk.ApplyRun) {
	fmt.Fprintf(w, "%s: %s in %v (%d bytes, +%d -%d lines)\n", r.Target, r.Status, r.Duration.Round(time.Millisecond), r.Bytes, r.Added, r.Removed)
	for _, line := range strings.Split(strings.TrimRight(r.Message, "\n"), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
}
