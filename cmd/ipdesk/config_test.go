package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesBadWebConfig: a bad time zone or session duration in the
// config file stops serve before it opens anything, with a message that
// names the key and the value.
func TestServeRefusesBadWebConfig(t *testing.T) {
	for _, c := range []struct{ config, want string }{
		{`{"time_zone": "Mars/Olympus"}`, `time_zone "Mars/Olympus"`},
		{`{"web": {"session_idle": "soon"}}`, `web.session_idle "soon"`},
		{`{"web": {"session_absolute": "1s"}}`, `web.session_absolute "1s"`},
		{`{"web": {"cookie": true}}`, `unknown field "cookie"`},
		{`{"leases": [{"name": "k", "kind": "bind", "path": "/x"}]}`, `leases "k": kind "bind"`},
		{`{"leases": [{"name": "k", "kind": "kea", "path": "x.csv"}]}`, `leases "k": path "x.csv"`},
		{`{"leases": [{"name": "d", "kind": "dnsmasq", "path": "/x", "lease_time": "long"}]}`, `lease_time "long"`},
	} {
		path := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(path, []byte(c.config), 0o600); err != nil {
			t.Fatal(err)
		}
		db := filepath.Join(t.TempDir(), "x.db")
		_, _, err := run(t, nil, "", "serve", "--config", path, "--db", db, "--listen", "127.0.0.1:0")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("config %s: error %v, want one naming %s", c.config, err, c.want)
		}
		if _, err := os.Stat(db); err == nil {
			t.Errorf("config %s: the database was created although the config is bad", c.config)
		}
	}
}

// TestPublicViewConfig: timetable.public_view turns the public
// occupancy page on; it is off by default.
func TestPublicViewConfig(t *testing.T) {
	for _, c := range []struct {
		config string
		want   bool
	}{{`{}`, false}, {`{"timetable": {"public_view": false}}`, false}, {`{"timetable": {"public_view": true}}`, true}} {
		var cfg Config
		if err := json.Unmarshal([]byte(c.config), &cfg); err != nil {
			t.Fatal(err)
		}
		cfg.TimeZone = "UTC"
		o, err := cfg.webOptions()
		if err != nil || o.PublicRooms != c.want {
			t.Errorf("config %s: PublicRooms %v (%v), want %v", c.config, o.PublicRooms, err, c.want)
		}
	}
}
