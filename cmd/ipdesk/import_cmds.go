package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"ipdesk"
	"ipdesk/importer"
	"ipdesk/sqldb"
)

// importSet is what an import command has read, for importAndReport.
type importSet struct {
	hosts    []importer.Host
	problems []importer.LineError
	warnings []importer.LineError
	dryRun   bool
	// plan, if set, shows what the import would change; it runs on a dry
	// run that found no problems.
	plan func(hosts []importer.Host)
	// note, if set, is added to the summary line.
	note string
}

// importAndReport imports the hosts in one transaction (see
// importer.Import) and reports every warning and problem with its file and
// line, sorted.
func (m *Main) importAndReport(ctx context.Context, db *sqldb.DB, in importSet) error {
	rep, err := importer.Import(systemCtx(ctx, m.Getenv), db, importer.Batch{
		Hosts: in.hosts, Problems: in.problems, Warnings: in.warnings, DryRun: in.dryRun,
	})
	if err != nil {
		return err
	}
	if err := m.report(rep.Warnings, rep.Problems); err != nil {
		return err
	}
	verb := "imported"
	if in.dryRun {
		verb = "would import"
		if in.plan != nil {
			in.plan(in.hosts)
		}
	}
	fmt.Fprintf(m.Stdout, "%s %d hosts: %d created, %d updated, %d unchanged%s\n", verb, rep.Rows, rep.Created, rep.Updated, rep.Unchanged(), in.note)
	return nil
}

// report writes the warnings and problems of an import to standard
// error, each sorted by file and line, and returns an error when there
// are problems.
func (m *Main) report(warnings, problems []importer.LineError) error {
	sortLineErrors(warnings)
	for _, w := range warnings {
		msg := w.Err
		if w.Field != "" {
			msg = w.Field + ": " + msg
		}
		fmt.Fprintf(m.Stderr, "%s: warning: %s\n", w.Pos(), msg)
	}
	if len(problems) == 0 {
		return nil
	}
	sortLineErrors(problems)
	for _, p := range problems {
		fmt.Fprintln(m.Stderr, p.Error())
	}
	return fmt.Errorf("%d problems; nothing was imported", len(problems))
}

// input opens the file an import reads: standard input for "-". The
// caller closes it.
func (m *Main) input(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(m.Stdin), nil
	}
	return os.Open(name)
}

// sortLineErrors sorts problems by file and line, keeping the order of
// those on one line.
func sortLineErrors(p []importer.LineError) {
	slices.SortStableFunc(p, func(a, b importer.LineError) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

// importDHCPD runs "ipdesk import dhcpd FILE --space NAME".
func (m *Main) importDHCPD(ctx context.Context, args []string) error {
	return m.importConfig(ctx, "dhcpd", "a dhcpd.conf or dhcpd.hosts", args, importer.ReadDHCPD, importer.ParseDHCPD)
}

// importDnsmasq runs "ipdesk import dnsmasq FILE --space NAME".
func (m *Main) importDnsmasq(ctx context.Context, args []string) error {
	return m.importConfig(ctx, "dnsmasq", "a dnsmasq.conf or dhcp-hostsfile", args, importer.ReadDnsmasq, importer.ParseDnsmasq)
}

// importConfig imports the hosts of a DHCP server's configuration into
// one space, with access levels from for_dhcp-style lists.
func (m *Main) importConfig(ctx context.Context, kind, what string, args []string,
	read func(string, importer.ConfigOptions) (*importer.Result, error),
	parse func(string, []byte, importer.ConfigOptions) *importer.Result) error {
	var dryRun bool
	var space, levels string
	c, pos, err := m.flags("import "+kind, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&dryRun, "dry-run", false, "check and show what would change; change nothing")
		fs.StringVar(&space, "space", "", "the address space the hosts go into (required)")
		fs.StringVar(&levels, "levels", "", "access level lists: proxy1=FILE,proxy2=FILE,… (one address per line)")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("import %s takes one file (%s; - for standard input)", kind, what)
	}
	if space == "" {
		return fmt.Errorf("import %s needs --space NAME: the address space the hosts go into", kind)
	}
	lists, err := importer.ParseLevelLists(levels)
	if err != nil {
		return err
	}
	opt := importer.ConfigOptions{Space: space}
	var res *importer.Result
	if pos[0] == "-" {
		data, err := importer.ReadLimited(m.Stdin, "standard input")
		if err != nil {
			return err
		}
		res = parse("stdin", data, opt)
	} else if res, err = read(pos[0], opt); err != nil {
		return err
	}

	db, err := m.open(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	spaces, _, err := db.FindSpaces(ctx, ipdesk.SpaceFilter{Name: &space})
	if err != nil {
		return err
	}
	if len(spaces) == 0 {
		return fmt.Errorf("space %q does not exist; create it and its subnets first", space)
	}
	existing, err := importer.ExportHosts(ctx, db, ipdesk.AddressFilter{SpaceID: &spaces[0].ID})
	if err != nil {
		return err
	}
	importer.MergeExisting(res, existing)
	importer.ApplyLevels(res, lists, existing, opt)
	unknown, err := importer.CheckLocations(ctx, db, res.Hosts)
	if err != nil {
		return err
	}
	note := ""
	switch {
	case res.Skipped == 1:
		note = "; 1 declaration with nothing to import skipped"
	case res.Skipped > 1:
		note = fmt.Sprintf("; %d declarations with nothing to import skipped", res.Skipped)
	}
	return m.importAndReport(ctx, db, importSet{
		hosts: res.Hosts, problems: res.Problems, warnings: append(res.Warnings, unknown...),
		dryRun: dryRun, note: note,
		plan: func(hosts []importer.Host) { m.printPlan(hosts, existing) },
	})
}

// printPlan shows, for a dry run, each host the import would create or
// change, with the fields that change.
func (m *Main) printPlan(hosts, existing []importer.Host) {
	stored := make(map[netip.Addr]importer.Host, len(existing))
	for _, h := range existing {
		stored[h.Address] = h
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	for _, h := range hosts {
		action, changes := "create", ""
		if old, ok := stored[h.Address]; ok {
			if importer.SameData(old, h) {
				continue
			}
			action, changes = "update", "changes "+strings.Join(changedFields(old, h), ", ")
		}
		mac, name := h.MAC.String(), h.Hostname
		if mac == "" {
			mac = "no MAC"
		}
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\tlevel %d\t%s", action, h.Address, mac, name, h.AccessLevel, importer.LineError{File: h.File, Line: h.Line}.Pos())
		if changes != "" {
			fmt.Fprintf(tw, "\t%s", changes)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// changedFields names the fields in which two hosts differ.
func changedFields(a, b importer.Host) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"mac", a.MAC == b.MAC},
		{"hostname", a.Hostname == b.Hostname},
		{"dhcp_reservation", a.DHCPReservation == b.DHCPReservation},
		{"owner", a.Owner == b.Owner},
		{"location", a.Location == b.Location},
		{"description", a.Description == b.Description},
		{"access_level", a.AccessLevel == b.AccessLevel},
		{"status", a.Status == b.Status || b.Status == ""},
		{"phone", a.Phone == b.Phone},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}
