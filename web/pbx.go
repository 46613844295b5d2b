package web

// Who may report calls: a PBX, never a user. A report must come from an
// allowed source address when allowed sources are configured, and carry a
// PBX token when tokens are configured; with neither configured, intake
// is off. The user's bearer token or session plays no part.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"ipdesk"
	"ipdesk/callerid"
)

// CallIntake records the call events PBXs report (package callerid).
type CallIntake interface {
	Report(ctx context.Context, r callerid.Report) (*ipdesk.CallEvent, error)
}

// CallerIDOptions configure the intake of calls.
type CallerIDOptions struct {
	// Intake records the reports; nil turns intake off.
	Intake CallIntake
	// PBXTokens are the secrets PBXs report with: the header X-PBX-Token,
	// or for GET /set_call the query parameter token. They are compared in
	// constant time and never logged.
	PBXTokens []string
	// AllowedSources are the addresses (prefixes) reports may come from.
	AllowedSources []netip.Prefix
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; from anyone else the header is ignored.
	TrustedProxies []netip.Prefix
	// RateLimit is how many reports a source may send per second, with
	// bursts of RateBurst; 0 means DefaultRateLimit and DefaultRateBurst.
	RateLimit float64
	RateBurst int
	// Retention is how long calls are kept (0: for ever), as configured
	// for the caller-ID service; the call log tells the helpdesk.
	Retention time.Duration
}

// Defaults of CallerIDOptions.
const (
	DefaultRateLimit = 20
	DefaultRateBurst = 60
)

// pbxTokenHeader carries the PBX token of POST /api/v1/calls.
const pbxTokenHeader = "X-PBX-Token"

// maxPBXTokenLen bounds a PBX token as given.
const maxPBXTokenLen = 512

// intake is the checked caller-ID intake configuration.
type intake struct {
	report  CallIntake
	tokens  [][sha256.Size]byte
	sources []netip.Prefix
	proxies []netip.Prefix
	limiter *rateLimiter
	// retention is CallerIDOptions.Retention.
	retention time.Duration
}

func newIntake(o CallerIDOptions, now func() time.Time) *intake {
	in := &intake{report: o.Intake, sources: o.AllowedSources, proxies: o.TrustedProxies, retention: o.Retention}
	for _, t := range o.PBXTokens {
		in.tokens = append(in.tokens, sha256.Sum256([]byte(t)))
	}
	rate, burst := o.RateLimit, float64(o.RateBurst)
	if rate <= 0 {
		rate, burst = DefaultRateLimit, DefaultRateBurst
	}
	in.limiter = newRateLimiter(rate, max(burst, 1), now)
	return in
}

// check decides whether a report from src with the token (as given, or
// "" when none) may be recorded.
func (in *intake) check(src netip.Addr, token string) error {
	if in.report == nil || len(in.tokens) == 0 && len(in.sources) == 0 {
		return ipdesk.Errorf(ipdesk.EFORBIDDEN, "caller-ID intake is off: set callerid.pbx_tokens or callerid.allowed_sources in the server's config file")
	}
	if len(in.sources) > 0 && !inPrefixes(in.sources, src) {
		return ipdesk.Errorf(ipdesk.EFORBIDDEN, "%s may not report calls: it is not one of the allowed sources", src)
	}
	if len(in.tokens) > 0 && !in.tokenValid(token) {
		if token == "" {
			return ipdesk.Errorf(ipdesk.EFORBIDDEN, "a PBX token is required: the header %s, or for GET /set_call the query parameter token", pbxTokenHeader)
		}
		return ipdesk.Errorf(ipdesk.EFORBIDDEN, "the PBX token is not valid")
	}
	return nil
}

// tokenValid compares the token with every configured one in constant
// time (of equal-length hashes, so the length of a token tells nothing).
func (in *intake) tokenValid(token string) bool {
	if token == "" || len(token) > maxPBXTokenLen {
		return false
	}
	h := sha256.Sum256([]byte(token))
	ok := 0
	for _, t := range in.tokens {
		ok |= subtle.ConstantTimeCompare(h[:], t[:])
	}
	return ok == 1
}

func inPrefixes(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr returns the address of the client: the peer, or, when the
// peer is a trusted proxy, the rightmost address of X-Forwarded-For that is
// not a trusted proxy. An entry that does not parse stops the walk at the
// last trusted hop, so a forged header cannot name an allowed source.
func (in *intake) clientAddr(r *http.Request) netip.Addr {
	addr := peerAddr(r)
	if !addr.IsValid() || !inPrefixes(in.proxies, addr) {
		return addr
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := parseHop(strings.TrimSpace(hops[i]))
		if !hop.IsValid() {
			return addr
		}
		if !inPrefixes(in.proxies, hop) {
			return hop
		}
		addr = hop
	}
	return addr
}

// peerAddr returns the address of the connection's peer.
func peerAddr(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap()
	}
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// parseHop reads an X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:5060", "[2001:db8::1]:5060").
func parseHop(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// rateLimiter is a token bucket per source: IPv4 addresses one by one,
// IPv6 by /64, since a host can pick any address of its /64.
type rateLimiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the sources tracked; beyond it the buckets that have
// refilled (idle sources) are forgotten.
const maxBuckets = 10000

func newRateLimiter(rate, burst float64, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: burst, now: now, buckets: map[netip.Prefix]*bucket{}}
}

// allow takes a token of a's bucket, reporting whether there was one.
func (l *rateLimiter) allow(a netip.Addr) bool {
	bits := 32
	if a.Is6() {
		bits = 64
	}
	key, _ := a.Prefix(bits)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// sweep forgets the buckets that are full again.
func (l *rateLimiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}
