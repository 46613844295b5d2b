package web

import (
	"crypto/sha256"
	"database/sql"
	"slices"
	"strings"

	"ipdesk/metrics"
)

// poolStater is implemented by stores that can tell the state of their
// connection pools.
type poolStater interface {
	PoolStats() map[string]sql.DBStats
}

// setupMetrics takes the metrics of opts (or makes new ones) and lets them
// read the open live streams and the store's pools.
func (s *Server) setupMetrics(opts Options) {
	s.metrics = opts.Metrics
	if s.metrics == nil {
		s.metrics = metrics.New(s.now)
	}
	if opts.MetricsToken != "" {
		sum := sha256.Sum256([]byte(opts.MetricsToken))
		s.metricsToken = sum[:]
	}
	s.metrics.WatchStreams(s.events.Streams)
	if ps, ok := s.store.(poolStater); ok {
		s.metrics.WatchPools(func() []metrics.Pool {
			stats := ps.PoolStats()
			out := make([]metrics.Pool, 0, len(stats))
			for name, st := range stats {
				out = append(out, metrics.Pool{Name: name, Stats: st})
			}
			slices.SortFunc(out, func(a, b metrics.Pool) int { return strings.Compare(a.Name, b.Name) })
			return out
		})
	}
}
