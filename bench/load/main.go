// Command load measures a running ipdesk through its API: creating
// addresses (POST available-addresses, each committed durably with its
// audit entry) with one client and then with several at once, then GET
// /api/v1/addresses/{id} from many concurrent clients for a fixed time. It
// only talks to the URL it is given, which must be on this machine, and
// stops by itself.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "ipdesk base URL (loopback only)")
	token := flag.String("token", os.Getenv("IPDESK_TOKEN"), "API token (env IPDESK_TOKEN)")
	creates := flag.Int("creates", 2000, "addresses to create in each create round (at most, with -create-for)")
	createFor := flag.Duration("create-for", 0, "end each create round after this long (0: after -creates)")
	createClients := flag.String("create-clients", "1", "comma-separated numbers of concurrent creating clients, one round each")
	tag := flag.String("tag", "load", "host name prefix of the created addresses (distinct per run on one database)")
	subnet := flag.Int64("subnet", 0, "prefix id of the subnet to create addresses in")
	maxID := flag.Int64("max-id", 100000, "GET ids 1..max-id")
	clients := flag.Int("clients", 32, "concurrent GET clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to GET (0: no GETs)")
	prefixes := flag.Int("prefixes", 0, "next free /24s to take from the container -container, one after the other, reporting the rate of every 5,000 (0: none)")
	container := flag.Int64("container", 0, "prefix id of the container for -prefixes")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil || !(strings.HasPrefix(u.Hostname(), "127.") || u.Hostname() == "localhost" || u.Hostname() == "::1") {
		fmt.Fprintln(os.Stderr, "load: -url must point at this machine (127.0.0.0/8, localhost or ::1)")
		os.Exit(2)
	}
	var rounds []int
	for _, s := range strings.Split(*createClients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 256 {
			fmt.Fprintf(os.Stderr, "load: -create-clients %q: each must be a number 1..256\n", *createClients)
			os.Exit(2)
		}
		rounds = append(rounds, n)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: max(*clients, 256) * 2}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	do := func(method, path string, body []byte) (int, error) {
		req, _ := http.NewRequest(method, *base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+*token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	if *prefixes > 0 && *container > 0 {
		path := fmt.Sprintf("/api/v1/prefixes/%d/available-prefixes", *container)
		start := time.Now()
		for i := 1; i <= *prefixes; i++ {
			if code, err := do("POST", path, []byte(`{"prefix_length": 24}`)); err != nil || code != 201 {
				fmt.Fprintf(os.Stderr, "load: prefix %d: status %d, %v\n", i, code, err)
				os.Exit(1)
			}
			if i%5000 == 0 || i == *prefixes {
				n := (i-1)%5000 + 1
				el := time.Since(start)
				fmt.Printf("next free /24 (POST available-prefixes, 1 client): prefixes %d to %d in %v = %.0f/s\n", i-n+1, i, el.Round(time.Millisecond), float64(n)/el.Seconds())
				start = time.Now()
			}
		}
	}
	if *creates > 0 && *subnet > 0 {
		var next atomic.Int64
		for _, nc := range rounds {
			start := time.Now()
			var mu sync.Mutex
			var lat []time.Duration
			var failed atomic.Bool
			var wg sync.WaitGroup
			var left, done atomic.Int64
			left.Store(int64(*creates))
			var stop time.Time
			if *createFor > 0 {
				stop = start.Add(*createFor)
			}
			for range nc {
				wg.Go(func() {
					var mine []time.Duration
					for left.Add(-1) >= 0 && !failed.Load() && (stop.IsZero() || time.Now().Before(stop)) {
						i := next.Add(1)
						body, _ := json.Marshal(map[string]any{"hostname": fmt.Sprintf("%s%07d", *tag, i), "owner": "load test"})
						t := time.Now()
						code, err := do("POST", fmt.Sprintf("/api/v1/prefixes/%d/available-addresses", *subnet), body)
						if err != nil || code != 201 {
							fmt.Fprintf(os.Stderr, "load: create %d: status %d, %v\n", i, code, err)
							failed.Store(true)
							return
						}
						mine = append(mine, time.Since(t))
						done.Add(1)
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			if failed.Load() {
				os.Exit(1)
			}
			el := time.Since(start)
			fmt.Printf("create (POST available-addresses, %d clients): %d in %v = %.0f/s, p50 %v, p99 %v\n",
				nc, done.Load(), el.Round(time.Millisecond), float64(done.Load())/el.Seconds(), pct(lat, 50), pct(lat, 99))
		}
	}
	if *duration <= 0 {
		return
	}

	var n, bad atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			var mine []time.Duration
			id := int64(c)*7919%*maxID + 1
			for time.Now().Before(stop) {
				t := time.Now()
				code, err := do("GET", fmt.Sprintf("/api/v1/addresses/%d", id), nil)
				if err != nil || code != 200 {
					bad.Add(1)
				}
				mine = append(mine, time.Since(t))
				n.Add(1)
				id = id%*maxID + 1
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	fmt.Printf("get (GET /api/v1/addresses/{id}, %d clients, %v): %d requests = %.0f/s, %d not 200, p50 %v, p99 %v\n",
		*clients, *duration, n.Load(), float64(n.Load())/duration.Seconds(), bad.Load(), pct(lat, 50), pct(lat, 99))
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[(len(d)-1)*p/100].Round(10 * time.Microsecond)
}
