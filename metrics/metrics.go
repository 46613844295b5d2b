// Package metrics keeps ipdesk's Prometheus metrics: HTTP requests by
// route pattern and status, apply runs by target and result, the time
// since each target's last successful apply, the rooms blocked now, the
// calls reported, the open live streams and the database pools.
//
// Counters are counted as things happen; gauges of other parts' state
// (rooms, streams, pools) are read from them when the metrics are
// scraped, through functions set with Watch….
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ipdesk"
)

// namespace prefixes every metric of ipdesk.
const namespace = "ipdesk"

// scrapeTimeout bounds the reads of watched state at a scrape.
const scrapeTimeout = 2 * time.Second

// Pool is the state of one database connection pool.
type Pool struct {
	// Name tells the pool apart ("read", "write").
	Name  string
	Stats sql.DBStats
}

// Metrics holds the metrics of one ipdesk process. Create it with New;
// its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	now func() time.Time

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	applies  *prometheus.CounterVec
	calls    prometheus.Counter

	mu          sync.Mutex
	lastSuccess map[string]time.Time // target → end of its last successful apply
	streams     func() int
	blocked     func(ctx context.Context) ([]int64, error)
	pools       func() []Pool

	handler http.Handler
}

// New returns empty metrics; now is the clock (nil: time.Now).
func New(now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		reg:         prometheus.NewRegistry(),
		now:         now,
		lastSuccess: map[string]time.Time{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern (method and path template) and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern. Live streams are counted when they end.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		applies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "apply_runs_total",
			Help: "Apply runs of the config outputs, by target and result (applied, unchanged, invalid, reload_failed, render_failed, error).",
		}, []string{"target", "result"}),
		calls: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "calls_total",
			Help: "Call events reported by PBXs to this instance and recorded.",
		}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.applies, m.calls, stateCollector{m})
	m.reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return m
}

// Handler serves the metrics in the Prometheus text format. It does not
// check who asks; the web server does.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Registry returns the registry, for tests that read single values.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest counts one answered request of route (a ServeMux
// pattern such as "GET /api/v1/spaces/{id}", or "unmatched").
func (m *Metrics) ObserveRequest(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// ObserveApplyRun counts a finished apply run; a run that left the new
// file live (applied or unchanged) is the target's last success.
func (m *Metrics) ObserveApplyRun(run *ipdesk.ApplyRun) {
	m.applies.WithLabelValues(run.Target, string(run.Status)).Inc()
	if run.Status == ipdesk.ApplyApplied || run.Status == ipdesk.ApplyUnchanged {
		m.SetLastSuccess(run.Target, run.Started.Add(run.Duration))
	}
}

// SetLastSuccess records when target was last applied successfully, such
// as from the stored runs at start; an older time than the known one is
// ignored.
func (m *Metrics) SetLastSuccess(target string, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if at.After(m.lastSuccess[target]) {
		m.lastSuccess[target] = at
	}
}

// ObserveCall counts one recorded call event.
func (m *Metrics) ObserveCall() { m.calls.Inc() }

// WatchStreams sets how the number of open live streams is read.
func (m *Metrics) WatchStreams(f func() int) {
	m.mu.Lock()
	m.streams = f
	m.mu.Unlock()
}

// WatchBlockedRooms sets how the rooms blocked now are read.
func (m *Metrics) WatchBlockedRooms(f func(ctx context.Context) ([]int64, error)) {
	m.mu.Lock()
	m.blocked = f
	m.mu.Unlock()
}

// WatchPools sets how the database pools' state is read.
func (m *Metrics) WatchPools(f func() []Pool) {
	m.mu.Lock()
	m.pools = f
	m.mu.Unlock()
}

// Descriptions of the metrics read at scrape time.
var (
	descSinceSuccess = prometheus.NewDesc(namespace+"_apply_seconds_since_last_success",
		"Seconds since the target's config file was last applied successfully (applied or unchanged).", []string{"target"}, nil)
	descLastSuccess = prometheus.NewDesc(namespace+"_apply_last_success_timestamp_seconds",
		"Unix time of the target's last successful apply.", []string{"target"}, nil)
	descBlocked = prometheus.NewDesc(namespace+"_rooms_blocked",
		"Rooms whose internet access the timetable blocks now.", nil, nil)
	descStreams = prometheus.NewDesc(namespace+"_sse_streams_open",
		"Open live event streams (server-sent events) of this instance.", nil, nil)
	descPoolOpen = prometheus.NewDesc(namespace+"_db_connections_open",
		"Open database connections, by pool.", []string{"pool"}, nil)
	descPoolInUse = prometheus.NewDesc(namespace+"_db_connections_in_use",
		"Database connections in use, by pool.", []string{"pool"}, nil)
	descPoolIdle = prometheus.NewDesc(namespace+"_db_connections_idle",
		"Idle database connections, by pool.", []string{"pool"}, nil)
	descPoolMax = prometheus.NewDesc(namespace+"_db_connections_max",
		"Most open database connections allowed, by pool (0: no limit).", []string{"pool"}, nil)
	descPoolWaits = prometheus.NewDesc(namespace+"_db_connection_waits_total",
		"Times a request waited for a free database connection, by pool.", []string{"pool"}, nil)
	descPoolWaited = prometheus.NewDesc(namespace+"_db_connection_wait_seconds_total",
		"Time spent waiting for free database connections, by pool.", []string{"pool"}, nil)
)

// stateCollector reads the watched state at each scrape.
type stateCollector struct{ m *Metrics }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSinceSuccess, descLastSuccess, descBlocked, descStreams,
		descPoolOpen, descPoolInUse, descPoolIdle, descPoolMax, descPoolWaits, descPoolWaited} {
		ch <- d
	}
}

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	now := m.now()
	for target, at := range m.lastSuccess {
		ch <- prometheus.MustNewConstMetric(descSinceSuccess, prometheus.GaugeValue, now.Sub(at).Seconds(), target)
		ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(at.UnixNano())/1e9, target)
	}
	streams, blocked, pools := m.streams, m.blocked, m.pools
	m.mu.Unlock()
	if streams != nil {
		ch <- prometheus.MustNewConstMetric(descStreams, prometheus.GaugeValue, float64(streams()))
	}
	if blocked != nil {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		rooms, err := blocked(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(descBlocked, err)
		} else {
			ch <- prometheus.MustNewConstMetric(descBlocked, prometheus.GaugeValue, float64(len(rooms)))
		}
	}
	if pools != nil {
		for _, p := range pools() {
			s := p.Stats
			ch <- prometheus.MustNewConstMetric(descPoolOpen, prometheus.GaugeValue, float64(s.OpenConnections), p.Name)
			ch <- prometheus.MustNewConstMetric(descPoolInUse, prometheus.GaugeValue, float64(s.InUse), p.Name)
			ch <- prometheus.MustNewConstMetric(descPoolIdle, prometheus.GaugeValue, float64(s.Idle), p.Name)
			ch <- prometheus.MustNewConstMetric(descPoolMax, prometheus.GaugeValue, float64(s.MaxOpenConnections), p.Name)
			ch <- prometheus.MustNewConstMetric(descPoolWaits, prometheus.CounterValue, float64(s.WaitCount), p.Name)
			ch <- prometheus.MustNewConstMetric(descPoolWaited, prometheus.CounterValue, s.WaitDuration.Seconds(), p.Name)
		}
	}
}
