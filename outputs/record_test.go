package outputs

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// refusingStore refuses to record runs while refuse is set, as sqldb
// does while another process holds SQLite (EUNAVAILABLE).
type refusingStore struct {
	Store
	refuse atomic.Bool
	tries  atomic.Int32
}

func (s *refusingStore) RecordApplyRun(ctx context.Context, r *ipdesk.ApplyRun) error {
	s.tries.Add(1)
	if s.refuse.Load() {
		return ipdesk.Errorf(ipdesk.EUNAVAILABLE, "the database is busy with a long change by another process (such as an import); nothing was changed; try again shortly")
	}
	return s.Store.RecordApplyRun(ctx, r)
}

// TestRunsKeptWhileTheRecordFails: the outputs still follow the plan
// while the store refuses the records of their runs, and the runs are
// recorded once it takes them again: all of them, in the order they ran,
// with their actor.
func TestRunsKeptWhileTheRecordFails(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		p := newPlan(t, db)
		p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:10", "pc10", nil)
		f := newFakes(t)
		rs := &refusingStore{Store: db}
		rs.refuse.Store(true)
		s, live := newService(t, rs, f, Config{Quiet: 100 * time.Millisecond, MaxDelay: 5 * time.Second})
		s.rec.retry = 20 * time.Millisecond
		db.OnCommit = s.Changed
		run(t, s)

		waitFor(t, 10*time.Second, "the first apply", func() bool { return f.reloads() == 1 })
		p.host(t, p.school, "10.0.0.11", "02:00:00:00:00:11", "pc11", nil)
		waitFor(t, 10*time.Second, "the second apply", func() bool { return f.reloads() == 2 })
		if got := readFile(t, live); !strings.Contains(got, "fixed-address 10.0.0.11;") {
			t.Fatalf("the live file does not follow the plan while the record fails:\n%s", got)
		}
		// The apply of a person, kept with its actor.
		if _, err := s.ApplyNow(admin, "dhcpd"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "tries again", func() bool { return rs.tries.Load() >= 5 })
		if runs, n, err := db.FindApplyRuns(context.Background(), ipdesk.ApplyRunFilter{}); err != nil || n != 0 {
			t.Fatalf("recorded while refused: %d runs %v (%v)", n, runs, err)
		}

		rs.refuse.Store(false)
		var runs []*ipdesk.ApplyRun
		waitFor(t, 10*time.Second, "the kept runs recorded", func() bool {
			var err error
			runs, _, err = db.FindApplyRuns(context.Background(), ipdesk.ApplyRunFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return len(runs) == 3
		})
		// Newest first: the apply now, then the two the scheduler started.
		if runs[0].Actor != "anna" || runs[0].Status != ipdesk.ApplyUnchanged {
			t.Errorf("the kept run of ApplyNow: %+v", runs[0])
		}
		if runs[1].Status != ipdesk.ApplyApplied || runs[2].Status != ipdesk.ApplyApplied {
			t.Errorf("the kept runs of the scheduler: %+v, %+v", runs[1], runs[2])
		}
		for i := range 2 {
			if !runs[i].Started.After(runs[i+1].Started) || runs[i].ID <= runs[i+1].ID {
				t.Errorf("run %d (id %d, %v) is not after run %d (id %d, %v)", i, runs[i].ID, runs[i].Started, i+1, runs[i+1].ID, runs[i+1].Started)
			}
		}
	})
}
