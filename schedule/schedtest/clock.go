// Package schedtest provides a fake clock for tests of the timetable
// switcher: time stands still until the test moves it, and timers fire
// when it passes their deadline.
package schedtest

import (
	"sync"
	"time"

	"ipdesk/schedule"
)

// Clock is a fake schedule.Clock. The zero value is not usable; create it
// with NewClock.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*timer
	changed chan struct{} // closed and replaced when timers are added
}

var _ schedule.Clock = (*Clock)(nil)

// NewClock returns a fake clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{now: t, changed: make(chan struct{})} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires when the clock reaches now+d (at
// once for d ≤ 0).
func (c *Clock) NewTimer(d time.Duration) schedule.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &timer{c: c, at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	close(c.changed)
	c.changed = make(chan struct{})
	return t
}

// Set moves the clock to t (forward only) and fires the timers due by
// then.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.now) {
		panic("schedtest: the clock cannot go back")
	}
	c.now = t
	kept := c.timers[:0]
	for _, tm := range c.timers {
		if tm.at.After(t) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- t
	}
	c.timers = kept
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Waiting returns the deadlines of the timers that have not fired.
func (c *Clock) Waiting() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Time, len(c.timers))
	for i, t := range c.timers {
		out[i] = t.at
	}
	return out
}

// WaitTimer waits until a timer is waiting, at most d, and returns the
// earliest deadline; false when none came.
func (c *Clock) WaitTimer(d time.Duration) (time.Time, bool) {
	deadline := time.After(d)
	for {
		c.mu.Lock()
		ch := c.changed
		var first time.Time
		for _, t := range c.timers {
			if first.IsZero() || t.at.Before(first) {
				first = t.at
			}
		}
		c.mu.Unlock()
		if !first.IsZero() {
			return first, true
		}
		select {
		case <-ch:
		case <-deadline:
			return time.Time{}, false
		}
	}
}

type timer struct {
	c  *Clock
	at time.Time
	ch chan time.Time
}

func (t *timer) C() <-chan time.Time { return t.ch }

// Stop removes the timer; false when it has fired already.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}
