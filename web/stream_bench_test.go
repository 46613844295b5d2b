package web

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ipdesk/live"
)

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// openStreams opens n event streams of the admin on base; each reports the
// ids it reads on its channel.
func openStreams(b *testing.B, base, token string, n int) []chan int64 {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, ReadBufferSize: 64 << 10}}
	seen := make([]chan int64, n)
	for i := range seen {
		req, _ := http.NewRequest("GET", base+eventsPath, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("stream %d: %v %v", i, resp, err)
		}
		b.Cleanup(func() { resp.Body.Close() })
		c := make(chan int64, 1<<12)
		seen[i] = c
		go func() {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				if l := sc.Bytes(); bytes.HasPrefix(l, []byte("id: ")) {
					n, _ := strconv.ParseInt(string(l[4:]), 10, 64)
					c <- n
				}
			}
		}()
		<-c // the ready event
	}
	return seen
}

// waitFor waits until every stream has read the id.
func waitFor(seen []chan int64, id int64) {
	for _, c := range seen {
		for n := range c {
			if n >= id {
				break
			}
		}
	}
}

// BenchmarkStreamFanout publishes call-sized events (600 bytes) to 1,000
// open event streams over loopback TCP, 50 at a time, and waits until every
// stream has read them. Streams coalesce their writes, so the wall time per
// event says little; cpu-µs/event is the CPU the process (server and
// readers together) spent per event for all 1,000 streams.
func BenchmarkStreamFanout(b *testing.B) {
	const streams = 1000
	broker := live.New(live.Options{MaxStreamsPerKey: -1})
	e := newCallEnv(b, "", func(o *Options) { o.Events = broker })
	seen := openStreams(b, e.serve(b), e.admin, streams)
	data := bytes.Repeat([]byte("x"), 600)
	batch := make([]live.Event, 0, 50)
	b.ResetTimer()
	cpu := cpuTime()
	for i := 1; i <= b.N; i++ {
		batch = append(batch, live.Event{ID: int64(i), Topic: "calls", Name: "call", Data: data})
		if len(batch) == cap(batch) || i == b.N {
			broker.Publish(batch...)
			batch = batch[:0]
			waitFor(seen, int64(i))
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/event")
}

// BenchmarkIntake reports calls through GET /set_call from 32 clients,
// with no event stream open and with 1,000 open and reading; calls/s is
// the intake rate, all streams having every call at the end.
func BenchmarkIntake(b *testing.B) {
	for _, streams := range []int{0, 1000} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) { benchmarkIntake(b, streams) })
	}
}

func benchmarkIntake(b *testing.B, streams int) {
	const clients = 32
	// A server whose broker takes any number of streams, without a rate
	// limit that matters.
	e := newCallEnv(b, "", nil)
	e = startCallEnvWith(b, e.testEnv, live.Options{MaxStreamsPerKey: -1}, func(o *Options) {
		o.CallerID.RateLimit, o.CallerID.RateBurst = 1e9, 1e9
	})
	base := e.serve(b)
	seen := openStreams(b, base, e.admin, streams)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	b.ResetTimer()
	start, cpu := time.Now(), cpuTime()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				resp, err := client.Get(fmt.Sprintf("%s/set_call/0359%07d?token=%s", base, i, pbxToken))
				if err != nil || resp.StatusCode != 200 {
					b.Errorf("set_call: %v %v", resp, err)
					return
				}
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	last, _ := e.db.LastCallEventID(b.Context())
	waitFor(seen, last)
	b.ReportMetric(float64(b.N)/el.Seconds(), "calls/s")
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(b.N), "cpu-µs/call")
}
