package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Config is what the server's owner sets: on the command line, in
// environment variables (IPDESK_DB, IPDESK_LISTEN) or in a JSON config file
// (--config, IPDESK_CONFIG). A flag beats the environment, which beats the
// file, which beats the default.
type Config struct {
	// DB is an SQLite file path or a postgres:// URL.
	DB string `json:"db"`
	// Listen is the HTTP address.
	Listen string `json:"listen"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `json:"log_level"`
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
