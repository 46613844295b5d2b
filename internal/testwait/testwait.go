// Package testwait lets tests wait for a state without a time bound of
// their own: a loaded machine is slow, not wrong, so a test waits as long
// as the test binary may run (go test -timeout) and fails only then.
package testwait

import (
	"testing"
	"time"
)

// margin is left before the binary's deadline, so that a test that waits
// in vain fails with its own message instead of the binary's panic.
const margin = 20 * time.Second

// fallback bounds the wait of a test binary run without a deadline.
const fallback = 10 * time.Minute

// deadliner is implemented by *testing.T.
type deadliner interface {
	Deadline() (time.Time, bool)
}

// Deadline returns when a wait of t gives up.
func Deadline(t testing.TB) time.Time {
	if d, ok := t.(deadliner); ok {
		if dl, ok := d.Deadline(); ok {
			return dl.Add(-margin)
		}
	}
	return time.Now().Add(fallback)
}

// Until polls cond every few milliseconds until it holds. It fails the
// test, naming what it waited for, only at the test binary's deadline;
// it logs when the wait takes longer than usual (typical) so that a slow
// machine shows in the log.
func Until(t testing.TB, what string, typical time.Duration, cond func() bool) {
	t.Helper()
	start, deadline, logged := time.Now(), Deadline(t), false
	for !cond() {
		now := time.Now()
		if now.After(deadline) {
			t.Fatalf("%s: not by the test's deadline (waited %v)", what, now.Sub(start).Round(time.Millisecond))
		}
		if !logged && now.Sub(start) > typical {
			t.Logf("%s: still waiting after %v (usually within %v)", what, now.Sub(start).Round(time.Millisecond), typical)
			logged = true
		}
		time.Sleep(10 * time.Millisecond)
	}
}
