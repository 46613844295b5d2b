// Package sharedread lets concurrent callers share reads without any of
// them getting an older answer than a read of its own would give: a
// caller joins the next read that starts after it arrived, never one
// already under way. With one read running, every caller that arrives
// meanwhile waits for the one read that follows it, so that under load one
// read serves many callers, and whatever was committed before a caller
// arrived is always seen by it.
package sharedread

import (
	"context"
	"sync"
)

// Queue runs reads one at a time. R is one read: what its callers put into
// it (the keys they want) and what the read found. The zero Queue is ready
// for use.
type Queue[R any] struct {
	mu      sync.Mutex
	running bool     // a read is under way
	next    *Read[R] // the read that starts when the running one ends
	run     func(r *R)
}

// Read is one read of a Queue and the callers waiting for it.
type Read[R any] struct {
	done   chan struct{} // closed when the read is done
	joined int
	// R is the read's data: its callers' part, set by the add of Join,
	// and, once Wait returned nil, what the read found.
	R R
}

// Join adds a caller to the next read and returns that read. add, if not
// nil, puts the caller's part into it (called with the queue locked). run
// performs a read, filling in what it found (all callers of a queue pass
// the same); when no read is under way the read starts at once, on the
// caller's goroutine, and the reads queued meanwhile follow on a goroutine
// of their own.
func (q *Queue[R]) Join(add func(r *R), run func(r *R)) *Read[R] {
	q.mu.Lock()
	if q.next == nil {
		q.next = &Read[R]{done: make(chan struct{})}
	}
	rd := q.next
	rd.joined++
	if add != nil {
		add(&rd.R)
	}
	q.run = run
	if q.running {
		q.mu.Unlock()
		return rd
	}
	q.running, q.next = true, nil
	q.mu.Unlock()
	q.perform(rd, run)
	return rd
}

// perform runs rd, then the read that callers queued meanwhile.
func (q *Queue[R]) perform(rd *Read[R], run func(r *R)) {
	run(&rd.R)
	close(rd.done)
	q.mu.Lock()
	next := q.next
	q.next = nil
	q.running = next != nil
	run = q.run
	q.mu.Unlock()
	if next != nil {
		go q.perform(next, run)
	}
}

// Queued tells how many callers wait for the read after the running one.
func (q *Queue[R]) Queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.next == nil {
		return 0
	}
	return q.next.joined
}

// Wait returns once the read is done, or with ctx's error when ctx ends
// first (the read goes on for its other callers).
func (rd *Read[R]) Wait(ctx context.Context) error {
	select {
	case <-rd.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
