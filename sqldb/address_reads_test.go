package sqldb_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestAddressReadsShared reads addresses by id from many requests at once:
// each gets its own address, as a read of its own would give it, with its
// AuthGuard checked against the epoch the read saw; on PostgreSQL the
// requests that arrive while a read is under way share the one read after
// it.
func TestAddressReadsShared(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		sp := mustSpace(t, db, "shared-reads")
		mustPrefix(t, db, sp.ID, "10.22.0.0/24", ipdesk.PrefixSubnet)
		var addrs []*ipdesk.Address
		for i, ip := range []string{"10.22.0.1", "10.22.0.2", "10.22.0.3"} {
			addrs = append(addrs, mustAddr(t, db, sp.ID, ip, func(a *ipdesk.Address) {
				a.Hostname = []string{"one", "two", "three"}[i]
			}))
		}
		_, old, now := moveAuthEpoch(t, db, "moves-the-epoch-too")

		// The first read waits before its statement until the others
		// have queued behind it.
		var batches [][]int64
		entered, gate := make(chan struct{}), make(chan struct{})
		queued := sqldb.OnAddressRead(db, func(ids []int64) {
			batches = append(batches, slices.Clone(ids))
			if len(batches) == 1 {
				close(entered)
				<-gate
			}
		})
		defer sqldb.OnAddressRead(db, nil)

		type request struct {
			id    int64
			guard *ipdesk.AuthGuard
			ctx   context.Context
			got   *ipdesk.Address
			err   error
		}
		run := func(r *request, wg *sync.WaitGroup) {
			defer wg.Done()
			c := r.ctx
			if c == nil {
				c = ctx
			}
			if r.guard != nil {
				c = ipdesk.WithAuthGuard(c, r.guard)
			}
			r.got, r.err = db.FindAddressByID(c, r.id)
		}
		var first, rest sync.WaitGroup
		leader := &request{id: addrs[0].ID}
		first.Add(1)
		go run(leader, &first)
		if db.Postgres() {
			<-entered
		}
		// Committed after the first read began and before the others
		// arrived: they must see it.
		desc := "changed while a read was under way"
		if _, _, err := db.UpdateAddress(ctx, addrs[0].ID, ipdesk.AddressUpdate{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		const missing = 1 << 40
		current, stale, currentMissing := &ipdesk.AuthGuard{Epoch: now}, &ipdesk.AuthGuard{Epoch: old}, &ipdesk.AuthGuard{Epoch: now}
		reqs := []*request{
			{id: addrs[0].ID},
			{id: addrs[1].ID, guard: current},
			{id: addrs[1].ID},
			{id: addrs[2].ID, guard: stale},
			{id: missing, guard: currentMissing},
			{id: addrs[2].ID, ctx: cancelled},
		}
		for _, r := range reqs {
			rest.Add(1)
			go run(r, &rest)
		}
		if db.Postgres() {
			for queued() < len(reqs) {
				runtime.Gosched()
			}
			close(gate)
		}
		first.Wait()
		rest.Wait()

		if leader.err != nil || leader.got.ID != addrs[0].ID {
			t.Fatalf("the first read: %+v, %v", leader.got, leader.err)
		}
		for i, r := range reqs[:3] {
			if r.err != nil || r.got == nil || r.got.ID != r.id {
				t.Fatalf("request %d for %d: %+v, %v", i, r.id, r.got, r.err)
			}
		}
		if reqs[0].got.Description != desc || reqs[0].got.Hostname != "one" || reqs[1].got.Hostname != "two" {
			t.Errorf("read %q %q and %q, want the change committed before the request arrived", reqs[0].got.Hostname, reqs[0].got.Description, reqs[1].got.Hostname)
		}
		reqs[1].got.Hostname = "mine"
		if reqs[2].got.Hostname != "two" {
			t.Errorf("two requests for one address share what they got: %q", reqs[2].got.Hostname)
		}
		if !errors.Is(reqs[5].err, context.Canceled) {
			t.Errorf("the request whose context ended: %v, want context.Canceled", reqs[5].err)
		}
		wantCode(t, reqs[4].err, ipdesk.ENOTFOUND)
		if c, _ := currentMissing.State(); c {
			t.Error("a read that found no address confirmed its guard")
		}
		if c, _ := current.State(); !c {
			t.Error("the read of a current guard's address did not confirm it")
		}
		if c, _ := stale.State(); c || !errors.Is(reqs[3].err, ipdesk.ErrAuthChanged) {
			t.Errorf("the read with a stale guard: %v, confirmed %v; want ErrAuthChanged", reqs[3].err, c)
		}
		if !db.Postgres() {
			return // SQLite reads each address on its own
		}
		if len(batches) != 2 || len(batches[0]) != 1 || len(batches[1]) != len(reqs) {
			t.Fatalf("reads %v, want one for the first request and one for the %d after it", batches, len(reqs))
		}
		want := []int64{addrs[0].ID, addrs[1].ID, addrs[1].ID, addrs[2].ID, addrs[2].ID, missing}
		got := slices.Clone(batches[1])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("the second read's ids %v, want %v", got, want)
		}
	})
}
