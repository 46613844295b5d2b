// Command load measures a running ipdesk through its API: creating
// addresses one after another with one client (each committed durably with
// its audit entry), then GET /api/v1/addresses/{id} from many concurrent
// clients for a fixed time. It only talks to the URL it is given, which
// must be on this machine, and stops by itself.
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
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "ipdesk base URL (loopback only)")
	token := flag.String("token", os.Getenv("IPDESK_TOKEN"), "API token (env IPDESK_TOKEN)")
	creates := flag.Int("creates", 2000, "addresses to create with one client")
	subnet := flag.Int64("subnet", 0, "prefix id of the subnet to create addresses in")
	maxID := flag.Int64("max-id", 100000, "GET ids 1..max-id")
	clients := flag.Int("clients", 32, "concurrent GET clients")
	duration := flag.Duration("duration", 10*time.Second, "how long to GET")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil || !(strings.HasPrefix(u.Hostname(), "127.") || u.Hostname() == "localhost" || u.Hostname() == "::1") {
		fmt.Fprintln(os.Stderr, "load: -url must point at this machine (127.0.0.0/8, localhost or ::1)")
		os.Exit(2)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *clients * 2}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
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

	if *creates > 0 && *subnet > 0 {
		start := time.Now()
		var lat []time.Duration
		for i := 0; i < *creates; i++ {
			body, _ := json.Marshal(map[string]any{"hostname": fmt.Sprintf("load%06d", i), "owner": "load test"})
			t := time.Now()
			code, err := do("POST", fmt.Sprintf("/api/v1/prefixes/%d/available-addresses", *subnet), body)
			if err != nil || code != 201 {
				fmt.Fprintf(os.Stderr, "load: create %d: status %d, %v\n", i, code, err)
				os.Exit(1)
			}
			lat = append(lat, time.Since(t))
		}
		el := time.Since(start)
		fmt.Printf("create (POST available-addresses, 1 client): %d in %v = %.0f/s, p50 %v, p99 %v\n",
			*creates, el.Round(time.Millisecond), float64(*creates)/el.Seconds(), pct(lat, 50), pct(lat, 99))
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
