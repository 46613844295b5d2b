package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"ipdesk"
	"ipdesk/leases"
	"ipdesk/outputs"
	"ipdesk/web"
)

// Config is what the server's owner sets: on the command line, in
// environment variables (IPDESK_DB, IPDESK_LISTEN) or in a JSON config file
// (--config, IPDESK_CONFIG). A flag beats the environment, which beats the
// file, which beats the default. The config outputs (targets) come from the
// file only: they name programs that ipdesk runs.
type Config struct {
	// DB is an SQLite file path or a postgres:// URL.
	DB string `json:"db"`
	// Listen is the HTTP address.
	Listen string `json:"listen"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
	// Targets are the config files ipdesk writes for the DHCP servers and
	// the proxy (see package outputs).
	Targets []outputs.Spec `json:"targets"`
	// Apply tunes when changes are applied to the targets.
	Apply ApplyConfig `json:"apply"`
	// TimeZone is the IANA time zone ("Europe/Berlin") dates and times are
	// shown in; "" is the machine's.
	TimeZone string `json:"time_zone"`
	// Web tunes the sign-in sessions of the web UI.
	Web WebConfig `json:"web"`
	// Timetable is the school calendar of the room blocking.
	Timetable TimetableConfig `json:"timetable"`
	// CallerID configures the call intake, number matching and the live
	// stream (see callerid_config.go).
	CallerID CallerIDConfig `json:"callerid"`
	// Leases are the DHCP servers' lease files that the lease view reads
	// (see package leases); from the file only, like the targets.
	Leases []leases.Source `json:"leases"`
}

// WebConfig tunes the web UI's sessions; durations as Go durations ("2h").
type WebConfig struct {
	// SessionIdle ends a session unused for this long (default 2h).
	SessionIdle string `json:"session_idle"`
	// SessionAbsolute ends a session this long after sign-in (default 12h).
	SessionAbsolute string `json:"session_absolute"`
	// SecureCookies marks the session cookie Secure although ipdesk itself
	// speaks plain HTTP: set it when a TLS proxy sits in front.
	SecureCookies bool `json:"secure_cookies"`
}

// webOptions checks the web settings and the time zone and returns them
// as web.Options. Errors name the key and the value.
func (c Config) webOptions() (web.Options, error) {
	var o web.Options
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "Local" {
		return o, fmt.Errorf("config file: time_zone %q is not a known time zone such as \"Europe/Berlin\"", c.TimeZone)
	}
	o.Location = loc
	for _, d := range []struct {
		field, value string
		dst          *time.Duration
	}{{"web.session_idle", c.Web.SessionIdle, &o.SessionIdle}, {"web.session_absolute", c.Web.SessionAbsolute, &o.SessionAbsolute}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v < time.Minute {
			return o, fmt.Errorf("config file: %s %q is not a duration of at least a minute such as \"2h\"", d.field, d.value)
		}
		*d.dst = v
	}
	o.SecureCookies = c.Web.SecureCookies
	if len(c.Leases) > 0 {
		r, err := leases.NewReader(c.Leases)
		if err != nil {
			return o, fmt.Errorf("config file: %s", ipdesk.ErrorMessage(err))
		}
		o.Leases = r
	}
	o.PublicRooms = c.Timetable.PublicView
	return o, nil
}

// ApplyConfig tunes the debouncing of applies after changes, as Go
// durations ("2s"); "" takes the default.
type ApplyConfig struct {
	// Quiet is how long no change must come before an apply starts
	// (default 2s).
	Quiet string `json:"quiet"`
	// MaxDelay is the longest an apply waits after the first change of a
	// stream of changes (default 10s).
	MaxDelay string `json:"max_delay"`
	// Poll is how often the server reads the audit log for changes that
	// other processes committed, such as "ipdesk import" (default 2s).
	Poll string `json:"poll"`
}

// Defaults.
const (
	defaultDB     = "ipdesk.db"
	defaultListen = "127.0.0.1:8080"
)

// commonFlags registers the flags every command shares and returns a
// function that resolves the final configuration after parsing.
func commonFlags(fs *flag.FlagSet, getenv func(string) string) func() (Config, error) {
	configPath := fs.String("config", "", "JSON config file (env IPDESK_CONFIG)")
	db := fs.String("db", "", "database: an SQLite file path or postgres:// URL (env IPDESK_DB; default "+defaultDB+")")
	listen := fs.String("listen", "", "HTTP listen address (env IPDESK_LISTEN; default "+defaultListen+")")
	logLevel := fs.String("log-level", "", "log level: debug, info, warn, error (env IPDESK_LOG_LEVEL; default info)")
	return func() (Config, error) {
		var c Config
		path := first(*configPath, getenv("IPDESK_CONFIG"))
		if path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return c, fmt.Errorf("config file: %w", err)
			}
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				return c, fmt.Errorf("config file %s: %w", path, err)
			}
		}
		c.DB = first(*db, getenv("IPDESK_DB"), c.DB, defaultDB)
		c.Listen = first(*listen, getenv("IPDESK_LISTEN"), c.Listen, defaultListen)
		c.LogLevel = first(*logLevel, getenv("IPDESK_LOG_LEVEL"), c.LogLevel, "info")
		switch c.LogLevel {
		case "debug", "info", "warn", "error":
		default:
			return c, fmt.Errorf("log level %q is not one of debug, info, warn, error", c.LogLevel)
		}
		return c, nil
	}
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// errUsage reports a command line that could not be understood; the usage
// has been printed already.
var errUsage = errors.New("usage")

// errHelp reports that a command printed its usage because it was asked
// to (-h, --help): Run succeeds.
var errHelp = errors.New("help")

// outputsConfig checks the targets and the apply settings and returns the
// settings. Errors name the target and the field.
func (c Config) outputsConfig() (outputs.Config, error) {
	var cfg outputs.Config
	for _, d := range []struct {
		field string
		value string
		dst   *time.Duration
	}{{"apply.quiet", c.Apply.Quiet, &cfg.Quiet}, {"apply.max_delay", c.Apply.MaxDelay, &cfg.MaxDelay}, {"apply.poll", c.Apply.Poll, &cfg.Poll}} {
		if d.value == "" {
			continue
		}
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 {
			return cfg, fmt.Errorf("config file: %s %q is not a positive duration such as \"2s\"", d.field, d.value)
		}
		*d.dst = v
	}
	if err := outputs.Check(c.Targets); err != nil {
		return cfg, fmt.Errorf("config file: targets: %s", ipdesk.ErrorMessage(err))
	}
	return cfg, nil
}

// outputs returns the service that applies the targets with data from
// store, or nil when no targets are configured; rooms tells the
// squid-rooms targets which rooms are blocked.
func (c Config) outputs(store outputs.Store, log *slog.Logger, rooms outputs.RoomSource, seen func(objectTypes []string)) (*outputs.Service, error) {
	cfg, err := c.outputsConfig()
	if err != nil || len(c.Targets) == 0 {
		return nil, err
	}
	cfg.Logger = log
	cfg.Rooms = rooms
	cfg.Seen = seen
	s, err := outputs.New(store, c.Targets, cfg)
	if err != nil {
		return nil, fmt.Errorf("config file: targets: %s", ipdesk.ErrorMessage(err))
	}
	return s, nil
}
