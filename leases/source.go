package leases

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"ipdesk"
)

// Kinds of lease files, named as the config outputs of the same daemons.
const (
	KindISCDHCP = "isc-dhcp" // dhcpd.leases
	KindKea     = "kea"      // Kea's memfile kea-leases4.csv
	KindDnsmasq = "dnsmasq"  // dnsmasq's --dhcp-leasefile
)

// Source is one lease file, as the server's owner names it in the config
// file ("leases").
type Source struct {
	// Name tells the servers apart on the pages ("dhcpd", "kea-2").
	Name string `json:"name"`
	// Kind is isc-dhcp, kea or dnsmasq.
	Kind string `json:"kind"`
	// Path is the lease file. For Kea, the lease file cleanup's PATH.2
	// and PATH.1 are read before it when they exist.
	Path string `json:"path"`
	// LeaseTime is dnsmasq's lease time ("12h"), from which the last
	// contact of a client is worked out; "" means dnsmasq's default, 1h.
	LeaseTime string `json:"lease_time,omitempty"`
}

// dnsmasqDefaultLeaseTime is dnsmasq's lease time when none is set.
const dnsmasqDefaultLeaseTime = time.Hour

// Check checks the sources; the error names the source and the field.
func Check(sources []Source) error {
	seen := map[string]bool{}
	for i, s := range sources {
		what := fmt.Sprintf("leases[%d]", i)
		if s.Name != "" {
			what = fmt.Sprintf("leases %q", s.Name)
		}
		switch {
		case s.Name == "":
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "name", "%s: name is required", what)
		case seen[s.Name]:
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "name", "%s: the name is given twice", what)
		case s.Kind != KindISCDHCP && s.Kind != KindKea && s.Kind != KindDnsmasq:
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "kind", "%s: kind %q is not one of %s, %s, %s", what, s.Kind, KindISCDHCP, KindKea, KindDnsmasq)
		case s.Path == "" || !filepath.IsAbs(s.Path):
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "path", "%s: path %q is not an absolute file path", what, s.Path)
		}
		if s.LeaseTime != "" {
			d, err := time.ParseDuration(s.LeaseTime)
			if err != nil || d <= 0 || s.Kind != KindDnsmasq {
				return ipdesk.FieldErrorf(ipdesk.EINVALID, "lease_time", "%s: lease_time %q is not a positive duration such as \"12h\" of a dnsmasq source", what, s.LeaseTime)
			}
		}
		seen[s.Name] = true
	}
	return nil
}

// Set is the leases of one source as last read.
type Set struct {
	Source Source
	File
	// ModTime is the modification time of the lease file.
	ModTime time.Time
	// Err is why the file could not be read; the set is then empty.
	Err error
}

// Reader reads the sources' lease files when asked, again only when a
// file changed (size or modification time). It is safe for concurrent use.
type Reader struct {
	sources []Source
	mu      sync.Mutex
	cache   map[string]cached
}

// cached is a parsed file and the stat of its files when it was read.
type cached struct {
	stamp string
	set   Set
}

// NewReader returns a reader of the sources, which must pass Check.
func NewReader(sources []Source) (*Reader, error) {
	if err := Check(sources); err != nil {
		return nil, err
	}
	return &Reader{sources: append([]Source(nil), sources...), cache: map[string]cached{}}, nil
}

// Sources returns the configured sources.
func (r *Reader) Sources() []Source { return append([]Source(nil), r.sources...) }

// Read returns the leases of every source, in the configured order.
func (r *Reader) Read() []Set {
	out := make([]Set, len(r.sources))
	for i, s := range r.sources {
		out[i] = r.read(s)
	}
	return out
}

// files returns the files of a source in the order they are read.
func (s Source) files() []string {
	if s.Kind == KindKea {
		return []string{s.Path + ".2", s.Path + ".1", s.Path}
	}
	return []string{s.Path}
}

func (r *Reader) read(s Source) Set {
	var stamp string
	var mod time.Time
	var present []string
	for _, name := range s.files() {
		fi, err := os.Stat(name)
		if errors.Is(err, os.ErrNotExist) && name != s.Path {
			continue
		}
		if err != nil {
			return Set{Source: s, Err: err}
		}
		stamp += fmt.Sprintf("%s %d %d;", name, fi.Size(), fi.ModTime().UnixNano())
		if fi.ModTime().After(mod) {
			mod = fi.ModTime()
		}
		present = append(present, name)
	}
	r.mu.Lock()
	c, ok := r.cache[s.Name]
	r.mu.Unlock()
	if ok && c.stamp == stamp {
		return c.set
	}
	var data []byte
	for _, name := range present {
		b, err := os.ReadFile(name)
		if err != nil {
			return Set{Source: s, Err: err}
		}
		data = append(data, b...)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			data = append(data, '\n')
		}
	}
	set := Set{Source: s, File: parse(s, data), ModTime: mod}
	r.mu.Lock()
	r.cache[s.Name] = cached{stamp: stamp, set: set}
	r.mu.Unlock()
	return set
}

// parse parses data as a file of the source's kind.
func parse(s Source, data []byte) File {
	switch s.Kind {
	case KindISCDHCP:
		return ParseISC(data)
	case KindKea:
		return ParseKea(data)
	default:
		lt := dnsmasqDefaultLeaseTime
		if d, err := time.ParseDuration(s.LeaseTime); err == nil && d > 0 {
			lt = d
		}
		return ParseDnsmasq(data, lt)
	}
}
