package sharedread

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
)

// read is the data of a test read: the callers' keys and the number of
// the read that served them.
type read struct {
	keys []string
	n    int
}

// TestNeverJoinsARunningRead holds each read until released: callers that
// come while one runs share the one after it, and a caller after that gets
// a read of its own.
func TestNeverJoinsARunningRead(t *testing.T) {
	var q Queue[read]
	started, release := make(chan []string, 4), make(chan struct{})
	n := 0
	run := func(r *read) {
		n++ // reads do not overlap
		r.n = n
		started <- slices.Clone(r.keys)
		<-release
	}
	get := func(key string) chan int {
		c := make(chan int, 1)
		go func() {
			rd := q.Join(func(r *read) { r.keys = append(r.keys, key) }, run)
			if err := rd.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			c <- rd.R.n
		}()
		return c
	}
	a := get("a")
	if keys := <-started; !slices.Equal(keys, []string{"a"}) {
		t.Fatalf("first read for %v", keys)
	}
	b, c := get("b"), get("c")
	for q.Queued() != 2 {
		runtime.Gosched()
	}
	release <- struct{}{}
	if got := <-a; got != 1 {
		t.Errorf("the first caller got read %d, want 1", got)
	}
	keys := <-started
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"b", "c"}) {
		t.Fatalf("second read for %v, want b and c", keys)
	}
	release <- struct{}{}
	if gb, gc := <-b, <-c; gb != 2 || gc != 2 {
		t.Errorf("callers that came during read 1 got reads %d and %d, want 2 (one shared read after they came)", gb, gc)
	}
	d := get("d")
	if keys := <-started; !slices.Equal(keys, []string{"d"}) {
		t.Fatalf("third read for %v", keys)
	}
	release <- struct{}{}
	if got := <-d; got != 3 {
		t.Errorf("a caller after both reads got read %d, want 3", got)
	}
}

// TestWaitEndsWithItsContext: a caller whose context ends stops waiting,
// and the read still serves the others.
func TestWaitEndsWithItsContext(t *testing.T) {
	var q Queue[read]
	started, release := make(chan struct{}), make(chan struct{})
	run := func(r *read) {
		r.n = len(r.keys)
		if r.keys[0] == "first" {
			close(started)
			<-release
		}
	}
	go q.Join(func(r *read) { r.keys = append(r.keys, "first") }, run)
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	gone := q.Join(func(r *read) { r.keys = append(r.keys, "gone") }, run)
	stays := q.Join(func(r *read) { r.keys = append(r.keys, "stays") }, run)
	cancel()
	if err := gone.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait with an ended context: %v", err)
	}
	close(release)
	if err := stays.Wait(context.Background()); err != nil || stays.R.n != 2 {
		t.Errorf("the other caller: %v, read for %d callers, want 2", err, stays.R.n)
	}
}
