package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"ipdesk"
	"ipdesk/callerid"
	"ipdesk/live"
	"ipdesk/web"
)

// CallerIDConfig is the "callerid" object of the config file. Who may
// report calls is decided here only: with neither pbx_tokens (or
// pbx_token_file) nor allowed_sources, the intake is off.
type CallerIDConfig struct {
	// PBXTokens are the secrets PBXs report calls with (at least 16
	// characters); PBXTokenFile names a file with one token per line
	// (blank lines and lines starting with # are skipped), so that the
	// secrets need not be in the config file.
	PBXTokens    []string `json:"pbx_tokens"`
	PBXTokenFile string   `json:"pbx_token_file"`
	// AllowedSources are the addresses or prefixes ("192.0.2.10",
	// "192.0.2.0/24", "2001:db8::/48") reports may come from.
	AllowedSources []string `json:"allowed_sources"`
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed.
	TrustedProxies []string `json:"trusted_proxies"`
	// The dialling rules (see callerid.Config).
	CountryCode         string `json:"country_code"`
	InternationalPrefix string `json:"international_prefix"`
	TrunkPrefix         string `json:"trunk_prefix"`
	ExtensionDigits     int    `json:"extension_digits"`
	// Retention is how long calls are kept: "90d", "2160h"; "0" keeps
	// them for ever. Default 90d.
	Retention string `json:"retention"`
	// RateLimit is the reports per second one source may send, with
	// bursts of RateBurst (defaults 20 and 60).
	RateLimit float64 `json:"rate_limit"`
	RateBurst int     `json:"rate_burst"`
	// MaxStreamsPerUser bounds the open live streams of one user (browser
	// tabs); default 16.
	MaxStreamsPerUser int `json:"max_streams_per_user"`
	// Heartbeat is how often an idle live stream sends a comment ("25s").
	Heartbeat string `json:"heartbeat"`
}

// Defaults of CallerIDConfig.
const (
	defaultRetention   = 90 * 24 * time.Hour
	minPBXTokenLen     = 16
	maxPBXTokenLen     = 512
	maxStreamsAllowed  = 100000
	minHeartbeat       = time.Second
	maxHeartbeat       = 10 * time.Minute
	maxTokenFileLength = 1 << 20
)

// callerIDSettings are the checked caller-ID settings.
type callerIDSettings struct {
	rules      callerid.Config
	tokens     []string
	sources    []netip.Prefix
	proxies    []netip.Prefix
	retention  time.Duration
	rate       float64
	burst      int
	maxStreams int
	heartbeat  time.Duration
}

// callerID checks the "callerid" object; errors name the key and quote
// the value (never a token).
func (c Config) callerID() (callerIDSettings, error) {
	cc := c.CallerID
	s := callerIDSettings{
		rules: callerid.Config{CountryCode: cc.CountryCode, InternationalPrefix: cc.InternationalPrefix,
			TrunkPrefix: cc.TrunkPrefix, ExtensionDigits: cc.ExtensionDigits},
		rate: cc.RateLimit, burst: cc.RateBurst, maxStreams: cc.MaxStreamsPerUser,
	}
	bad := func(format string, args ...any) (callerIDSettings, error) {
		return s, fmt.Errorf("config file: callerid."+format, args...)
	}
	if err := s.rules.Check(); err != nil {
		return bad("%s", ipdesk.ErrorMessage(err))
	}
	for i, t := range cc.PBXTokens {
		if err := checkPBXToken(t); err != nil {
			return bad("pbx_tokens[%d]: %v", i, err)
		}
	}
	tokens := slices.Clone(cc.PBXTokens)
	if cc.PBXTokenFile != "" {
		b, err := os.ReadFile(cc.PBXTokenFile)
		if err != nil {
			return bad("pbx_token_file: %v", err)
		}
		if len(b) > maxTokenFileLength {
			return bad("pbx_token_file %q is larger than %d bytes", cc.PBXTokenFile, maxTokenFileLength)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for line := 1; sc.Scan(); line++ {
			t := strings.TrimSpace(sc.Text())
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			if err := checkPBXToken(t); err != nil {
				return bad("pbx_token_file %s line %d: %v", cc.PBXTokenFile, line, err)
			}
			tokens = append(tokens, t)
		}
	}
	s.tokens = tokens
	var err error
	if s.sources, err = parsePrefixes("allowed_sources", cc.AllowedSources); err != nil {
		return bad("%v", err)
	}
	if s.proxies, err = parsePrefixes("trusted_proxies", cc.TrustedProxies); err != nil {
		return bad("%v", err)
	}
	if s.retention, err = parseRetention(cc.Retention); err != nil {
		return bad("retention %q: %v", cc.Retention, err)
	}
	if cc.RateLimit < 0 || cc.RateBurst < 0 || cc.RateLimit > 0 && cc.RateBurst == 0 {
		return bad("rate_limit %v and rate_burst %d: give both as positive numbers, or neither for the defaults (%d per second, bursts of %d)",
			cc.RateLimit, cc.RateBurst, web.DefaultRateLimit, web.DefaultRateBurst)
	}
	if cc.MaxStreamsPerUser < 0 || cc.MaxStreamsPerUser > maxStreamsAllowed {
		return bad("max_streams_per_user %d is outside 0..%d", cc.MaxStreamsPerUser, maxStreamsAllowed)
	}
	if cc.Heartbeat != "" {
		d, err := time.ParseDuration(cc.Heartbeat)
		if err != nil || d < minHeartbeat || d > maxHeartbeat {
			return bad("heartbeat %q is not a duration from %s to %s", cc.Heartbeat, minHeartbeat, maxHeartbeat)
		}
		s.heartbeat = d
	}
	return s, nil
}

// checkPBXToken refuses tokens that are short or have blanks or control
// characters. The message never quotes the token.
func checkPBXToken(t string) error {
	if len(t) < minPBXTokenLen || len(t) > maxPBXTokenLen {
		return fmt.Errorf("a PBX token needs %d to %d characters; this one has %d", minPBXTokenLen, maxPBXTokenLen, len(t))
	}
	for _, r := range t {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r > unicode.MaxASCII {
			return fmt.Errorf("a PBX token is ASCII without blanks or control characters (it is sent in a URL)")
		}
	}
	return nil
}

// parsePrefixes reads addresses and CIDR prefixes.
func parsePrefixes(key string, vals []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, v := range vals {
		v = strings.TrimSpace(v)
		if p, err := netip.ParsePrefix(v); err == nil {
			if p != p.Masked() {
				return nil, fmt.Errorf("%s[%d] %q has host bits set; write %s", key, i, v, p.Masked())
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%s[%d] %q is not an IP address or CIDR prefix", key, i, v)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// parseRetention reads "90d", a Go duration, or "0" (keep for ever).
func parseRetention(v string) (time.Duration, error) {
	switch v {
	case "":
		return defaultRetention, nil
	case "0":
		return 0, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 || n > 36500 {
			return 0, fmt.Errorf("not a number of days from 1 to 36500")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Hour {
		return 0, fmt.Errorf("not \"90d\", a duration of at least an hour such as \"2160h\", or \"0\"")
	}
	return d, nil
}

// callerIDParts is what serve wires: the live broker, the caller-ID
// service (run until shutdown) and the web options.
type callerIDParts struct {
	broker *live.Broker
	svc    *callerid.Service
	web    web.CallerIDOptions
}

// parts builds the caller-ID service on store.
func (s callerIDSettings) parts(store ipdesk.Store, log *slog.Logger) (*callerIDParts, error) {
	broker := live.New(live.Options{Journal: callerid.Journal{Store: store}, MaxStreamsPerKey: s.maxStreams})
	svc, err := callerid.New(store, callerid.Options{Rules: s.rules, Broker: broker, Retention: s.retention, Logger: log})
	if err != nil {
		return nil, err
	}
	return &callerIDParts{broker: broker, svc: svc, web: web.CallerIDOptions{
		Intake: svc, PBXTokens: s.tokens, AllowedSources: s.sources, TrustedProxies: s.proxies,
		RateLimit: s.rate, RateBurst: s.burst, Retention: s.retention,
	}}, nil
}

// describe says in the log how caller-ID is set up (never the tokens).
func (s callerIDSettings) describe() []any {
	intake := "off (set callerid.pbx_tokens or callerid.allowed_sources)"
	switch {
	case len(s.tokens) > 0 && len(s.sources) > 0:
		intake = fmt.Sprintf("%d PBX tokens, from %d allowed sources", len(s.tokens), len(s.sources))
	case len(s.tokens) > 0:
		intake = fmt.Sprintf("%d PBX tokens", len(s.tokens))
	case len(s.sources) > 0:
		intake = fmt.Sprintf("from %d allowed sources, no token", len(s.sources))
	}
	retention := "forever"
	if s.retention > 0 {
		retention = s.retention.String()
	}
	return []any{"intake", intake, "rules", s.rules.String(), "retention", retention}
}
