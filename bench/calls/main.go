// Command calls measures caller-ID on a running ipdesk: it opens many live
// event streams (GET /api/v1/events) and then
//
//  1. latency: reports calls through GET /set_call/{number} at a steady
//     rate and measures, for every call and every stream, the time from
//     sending the set_call request to the stream having the event;
//  2. intake: reports calls from many clients as fast as they are
//     answered, for a fixed time, with the streams open and receiving, and
//     then checks that every stream got every call.
//
// It only talks to the URL it is given, which must be on this machine, and
// stops by itself.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "ipdesk base URL (loopback only)")
	token := flag.String("token", os.Getenv("IPDESK_TOKEN"), "API token of a helpdesk user (env IPDESK_TOKEN)")
	pbx := flag.String("pbx-token", os.Getenv("IPDESK_PBX_TOKEN"), "PBX token (env IPDESK_PBX_TOKEN)")
	streams := flag.Int("streams", 1000, "open event streams")
	calls := flag.Int("calls", 200, "calls of the latency phase")
	rate := flag.Float64("rate", 20, "calls per second of the latency phase")
	numbers := flag.String("numbers", "03591 0%04d", "format of the latency phase's numbers (%d counts from 0); the default matches the hosts of bench/gen")
	clients := flag.Int("clients", 32, "concurrent clients of the intake phase")
	duration := flag.Duration("duration", 5*time.Second, "length of the intake phase")
	pid := flag.Int("pid", 0, "process id of the ipdesk server, to report its CPU time per phase (0: not reported)")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil || !(strings.HasPrefix(u.Hostname(), "127.") || u.Hostname() == "localhost" || u.Hostname() == "::1") {
		fail("-url must point at this machine (127.0.0.0/8, localhost or ::1)")
	}

	b := &bench{base: *base, sent: make([]atomic.Int64, maxCalls)}
	fmt.Printf("opening %d event streams… ", *streams)
	start := time.Now()
	b.open(*streams, *token)
	fmt.Printf("%v\n", time.Since(start).Round(time.Millisecond))

	// Phase 1: latency at a steady rate. The latency numbers are
	// "(format) i"; their sequence number is their last 4 digits.
	if *calls > 10000 {
		fail("-calls must be at most 10000")
	}
	intake := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients * 2}, Timeout: 10 * time.Second}
	cpu := cpuMeter{pid: *pid}
	cpu.start()
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	for i := range *calls {
		<-tick.C
		if err := b.setCall(intake, *pbx, i, fmt.Sprintf(*numbers, i)); err != nil {
			fail(err.Error())
		}
	}
	tick.Stop()
	lat, missing := b.collect(0, *calls, 30*time.Second)
	fmt.Printf("latency (%d calls at %.0f/s, %d streams; set_call sent → event read, per stream and call): %d deliveries, p50 %v, p90 %v, p99 %v, max %v, %d missing\n",
		*calls, *rate, *streams, len(lat), pct(lat, 50), pct(lat, 90), pct(lat, 99), pct(lat, 100), missing)
	cpu.report(*calls)

	// Phase 2: intake as fast as it answers, the streams receiving. The
	// intake numbers are "0359 9" and 8 digits, the sequence number.
	var next atomic.Int64
	next.Store(intakeBase)
	var bad atomic.Int64
	var mu sync.Mutex
	var reqLat []time.Duration
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	cpu.start()
	start = time.Now()
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(stop) {
				seq := int(next.Add(1) - 1)
				if seq >= maxCalls {
					break
				}
				t := time.Now()
				if err := b.setCall(intake, *pbx, seq, fmt.Sprintf("0359 9%08d", seq)); err != nil {
					bad.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			reqLat = append(reqLat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start)
	n := int(min(next.Load(), maxCalls)) - intakeBase
	done := n - int(bad.Load())
	fmt.Printf("intake (GET /set_call, %d clients, %v, %d streams open): %d calls = %.0f/s, %d failed, request p50 %v, p99 %v\n",
		*clients, *duration, *streams, done, float64(done)/el.Seconds(), bad.Load(), pct(reqLat, 50), pct(reqLat, 99))
	lat, missing = b.collect(intakeBase, intakeBase+n, 60*time.Second)
	fmt.Printf("delivery during intake: %d of %d deliveries, p50 %v, p99 %v, max %v, %d missing, %d streams reconnected\n",
		len(lat), done**streams, pct(lat, 50), pct(lat, 99), pct(lat, 100), missing-int(bad.Load())**streams, b.reconnects.Load())
	cpu.report(done)
}

// cpuMeter reports the CPU time of the server and of this program.
type cpuMeter struct {
	pid          int
	server, self time.Duration
}

func (m *cpuMeter) start() { m.server, m.self = procCPU(m.pid), procCPU(os.Getpid()) }

func (m *cpuMeter) report(calls int) {
	server, self := procCPU(m.pid)-m.server, procCPU(os.Getpid())-m.self
	if m.pid > 0 && calls > 0 {
		fmt.Printf("  CPU: server %v (%v per call), this load program %v\n", server.Round(time.Millisecond), (server / time.Duration(calls)).Round(time.Microsecond), self.Round(time.Millisecond))
	}
}

// procCPU returns the user and system time of a process from /proc.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in brackets.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// Sequence numbers: the latency phase's calls are 0…9999, the intake
// phase's from intakeBase.
const (
	intakeBase = 10000
	maxCalls   = 40000
)

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "calls:", msg)
	os.Exit(1)
}

// bench holds the streams and the send times of the calls.
type bench struct {
	base string
	sent []atomic.Int64 // sequence number → Unix nanoseconds set_call was sent

	streams    []*stream
	reconnects atomic.Int64
}

// stream is one event stream: for each sequence number, the latency in
// microseconds (0: not received).
type stream struct {
	got []atomic.Int32
}

func (b *bench) setCall(c *http.Client, pbx string, seq int, number string) error {
	b.sent[seq].Store(time.Now().UnixNano())
	resp, err := c.Get(b.base + "/set_call/" + url.PathEscape(number) + "?token=" + url.QueryEscape(pbx))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("set_call %s: status %d", number, resp.StatusCode)
	}
	return nil
}

// seqOf reads the sequence number of a raw number as bench sends them.
func seqOf(raw []byte) int {
	intake := bytes.HasPrefix(raw, []byte("0359 9"))
	digits := 4
	if intake {
		digits = 8
	}
	if len(raw) < digits {
		return -1
	}
	n := 0
	for _, c := range raw[len(raw)-digits:] {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	if intake && n < intakeBase || !intake && n >= intakeBase || n >= maxCalls {
		return -1
	}
	return n
}

// open connects n streams and waits until each has its ready event.
func (b *bench) open(n int, token string) {
	tr := &http.Transport{MaxIdleConnsPerHost: n, ReadBufferSize: 64 << 10, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	ready := make(chan struct{}, n)
	for range n {
		s := &stream{got: make([]atomic.Int32, maxCalls)}
		b.streams = append(b.streams, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.read(client, token, s, ready)
		}()
	}
	timeout := time.After(60 * time.Second)
	for range n {
		select {
		case <-ready:
		case <-timeout:
			fail("the streams did not open in 60s")
		}
	}
}

// read keeps one stream open, reconnecting with Last-Event-ID, and notes
// when each call arrived.
func (b *bench) read(client *http.Client, token string, s *stream, ready chan<- struct{}) {
	var lastID []byte
	first := true
	for {
		req, _ := http.NewRequest("GET", b.base+"/api/v1/events?topics=calls", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if len(lastID) > 0 {
			req.Header.Set("Last-Event-ID", string(lastID))
		}
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			if resp != nil {
				fail(fmt.Sprintf("event stream: status %d (max_streams_per_user too low?)", resp.StatusCode))
			}
			fail(fmt.Sprintf("event stream: %v", err))
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		rawKey := []byte(`"raw":"`)
		for sc.Scan() {
			line := sc.Bytes()
			switch {
			case bytes.HasPrefix(line, []byte("id: ")):
				lastID = append(lastID[:0], line[4:]...)
			case bytes.HasPrefix(line, []byte("event: ready")):
				if first {
					ready <- struct{}{}
					first = false
				}
			case bytes.HasPrefix(line, []byte("data: ")):
				i := bytes.Index(line, rawKey)
				if i < 0 {
					continue
				}
				rest := line[i+len(rawKey):]
				j := bytes.IndexByte(rest, '"')
				if j < 0 {
					continue
				}
				if seq := seqOf(rest[:j]); seq >= 0 && s.got[seq].Load() == 0 {
					if t0 := b.sent[seq].Load(); t0 != 0 {
						s.got[seq].Store(int32(max((time.Now().UnixNano()-t0)/1000, 1)))
					}
				}
			}
		}
		resp.Body.Close()
		b.reconnects.Add(1)
	}
}

// collect waits until every stream has the calls from…to-1 or the time is
// up, and returns the latencies and the number of deliveries missing.
func (b *bench) collect(from, to int, wait time.Duration) ([]time.Duration, int) {
	deadline := time.Now().Add(wait)
	for {
		missing := 0
		for _, s := range b.streams {
			for i := from; i < to; i++ {
				if s.got[i].Load() == 0 {
					missing++
				}
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			var lat []time.Duration
			for _, s := range b.streams {
				for i := from; i < to; i++ {
					if d := s.got[i].Load(); d != 0 {
						lat = append(lat, time.Duration(d)*time.Microsecond)
					}
				}
			}
			return lat, missing
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)-1)*p/100].Round(10 * time.Microsecond)
}
