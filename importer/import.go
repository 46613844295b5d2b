package importer

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"ipdesk"
)

// Batch is a host list to import, as a reader returned it.
type Batch struct {
	Hosts []Host
	// Problems and Warnings are those the reader found; Import adds its
	// own.
	Problems []LineError
	Warnings []LineError
	// DryRun checks every row and writes nothing.
	DryRun bool
	// Allow, if set, is asked about every row whose space and location
	// exist, before the store sees it: an error makes it a problem of the
	// row (with the error's field and message) and keeps the row from the
	// store. The web UI refuses rows outside the user's rights this way.
	Allow func(h Host, a *ipdesk.Address) error
	// WarningText, if set, gives the text of each warning of the store
	// (a repeated hostname names the other hosts; the web UI leaves the
	// names out for users who may not see them all). Nil keeps the
	// store's text.
	WarningText func(ipdesk.Warning) string
}

// Report tells what an import did or would do. When Problems is not
// empty nothing was written.
type Report struct {
	// Rows is the number of rows handed to the store.
	Rows     int
	Created  int
	Updated  int
	Problems []LineError // sorted by file and line
	Warnings []LineError // sorted by file and line
}

// Unchanged is the number of rows that change nothing.
func (r Report) Unchanged() int { return r.Rows - r.Created - r.Updated }

// Import resolves the hosts' spaces and locations and imports them in one
// transaction, all or nothing; every problem and warning is reported with
// the file and line of its host. When reading found problems, or on a dry
// run, the store still checks every row, so that one run reports
// everything, and writes nothing.
func Import(ctx context.Context, store ipdesk.Store, b Batch) (Report, error) {
	// The hosts are numbered 1, 2, … for ToAddresses and the store; pos
	// turns a number back into the host's file and line.
	pos := make([]LineError, len(b.Hosts))
	hosts := slices.Clone(b.Hosts)
	for i := range hosts {
		pos[i] = LineError{File: hosts[i].File, Line: hosts[i].Line}
		hosts[i].Line = i + 1
	}
	at := func(n int, field, msg string) LineError {
		p := pos[n-1]
		p.Field, p.Err = field, msg
		return p
	}
	addrs, rows, unresolved, err := ToAddresses(ctx, store, hosts)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Problems: slices.Clone(b.Problems), Warnings: slices.Clone(b.Warnings)}
	for _, p := range unresolved {
		rep.Problems = append(rep.Problems, at(p.Line, p.Field, p.Err))
	}
	addrs, rows = dropRepeated(addrs, rows, func(a *ipdesk.Address, n, other int) {
		rep.Problems = append(rep.Problems, at(n, "address", fmt.Sprintf("address %s of space %q is also on %s; give each address once", a.Addr, hosts[n-1].Space, pos[other-1].Pos())))
	})
	if b.Allow != nil {
		kept, keptRows := addrs[:0:0], rows[:0:0]
		for i, a := range addrs {
			if err := b.Allow(b.Hosts[rows[i]-1], a); err != nil {
				rep.Problems = append(rep.Problems, at(rows[i], ipdesk.ErrorField(err), ipdesk.ErrorMessage(err)))
				continue
			}
			kept, keptRows = append(kept, a), append(keptRows, rows[i])
		}
		addrs, rows = kept, keptRows
	}
	res, err := store.ImportAddresses(ctx, addrs, b.DryRun || len(rep.Problems) > 0)
	if err != nil {
		return Report{}, err
	}
	for _, p := range res.Problems {
		rep.Problems = append(rep.Problems, at(rows[p.Row-1], p.Field, p.Error))
	}
	for _, w := range res.Warnings {
		msg := w.Message
		if b.WarningText != nil {
			msg = b.WarningText(w.Warning)
		}
		rep.Warnings = append(rep.Warnings, at(rows[w.Row-1], "", msg))
	}
	rep.Rows, rep.Created, rep.Updated = len(addrs), res.Created, res.Updated
	if len(rep.Problems) > 0 {
		rep.Created, rep.Updated = 0, 0
	}
	SortLineErrors(rep.Problems)
	SortLineErrors(rep.Warnings)
	return rep, nil
}

// SortLineErrors sorts problems by file and line, keeping the order of
// those on one line.
func SortLineErrors(p []LineError) {
	slices.SortStableFunc(p, func(a, b LineError) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

// dropRepeated takes out every address whose space and address another
// row of the batch has too: ipdesk keeps one host per address, so the
// later row would silently replace the earlier. repeated is called for
// each such address with its row's number and the number of another row
// of the same address: the first row for the later ones, the second for
// the first.
func dropRepeated(addrs []*ipdesk.Address, rows []int, repeated func(a *ipdesk.Address, n, other int)) ([]*ipdesk.Address, []int) {
	type key struct {
		space int64
		addr  netip.Addr
	}
	at := map[key][]int{} // rows of each address, in order
	for i, a := range addrs {
		k := key{a.SpaceID, a.Addr}
		at[k] = append(at[k], i)
	}
	var kept []*ipdesk.Address
	var keptRows []int
	for i, a := range addrs {
		same := at[key{a.SpaceID, a.Addr}]
		if len(same) == 1 {
			kept, keptRows = append(kept, a), append(keptRows, rows[i])
			continue
		}
		other := same[0]
		if other == i {
			other = same[1]
		}
		repeated(a, rows[i], rows[other])
	}
	return kept, keptRows
}
