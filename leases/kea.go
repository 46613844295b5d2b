package leases

import (
	"strconv"
	"strings"
	"time"
)

// keaInfinite is Kea's valid lifetime of a lease that never expires.
const keaInfinite = 0xffffffff

// ParseKea reads Kea's DHCPv4 memfile lease file (kea-leases4.csv): a
// header line naming the columns, then one line per change of a lease; the
// last line of an address wins. A header line may appear again (files of
// the lease file cleanup read one after the other). A line with a valid
// lifetime of 0 is Kea's mark of a deleted lease. Lines that cannot be
// read are skipped and counted.
func ParseKea(data []byte) File {
	var c collector
	cols := map[string]int{}
	for i, name := range strings.Split("address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context", ",") {
		cols[name] = i
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, ",")
		if f[0] == "address" {
			cols = map[string]int{}
			for i, name := range f {
				cols[name] = i
			}
			continue
		}
		c.take(keaLine(f, cols))
	}
	return c.out
}

// keaLine reads one lease line whose columns are at cols.
func keaLine(f []string, cols map[string]int) (Lease, bool) {
	get := func(name string) (string, bool) {
		i, ok := cols[name]
		if !ok || i >= len(f) {
			return "", false
		}
		return f[i], true
	}
	if ai, ok := cols["address"]; !ok || len(f) < len(cols) || ai >= len(f) {
		return Lease{}, false
	}
	s, _ := get("address")
	addr, ok := parseAddr(s)
	if !ok || !addr.Is4() {
		return Lease{}, false
	}
	l := Lease{Addr: addr, State: StateActive}
	if s, _ := get("hwaddr"); s != "" {
		m, ok := parseHWAddr(s)
		if !ok {
			return Lease{}, false
		}
		l.MAC = m
	}
	vs, _ := get("valid_lifetime")
	valid, err := strconv.ParseUint(vs, 10, 32)
	if err != nil {
		return Lease{}, false
	}
	es, _ := get("expire")
	expire, err := strconv.ParseInt(es, 10, 64)
	if err != nil || expire < 0 || expire > 1<<40 {
		return Lease{}, false
	}
	switch {
	case valid == keaInfinite:
		l.Never = true
		l.Seen = time.Unix(expire, 0).UTC() // Kea keeps the last contact there
	default:
		l.Ends = time.Unix(expire, 0).UTC()
		l.Seen = time.Unix(expire-int64(valid), 0).UTC()
	}
	l.Starts = l.Seen
	if h, ok := get("hostname"); ok {
		l.Hostname = keaUnescape(h)
	}
	if st, ok := get("state"); ok && st != "" {
		n, err := strconv.Atoi(st)
		if err != nil {
			return Lease{}, false
		}
		switch n {
		case 0:
			l.State = StateActive
		case 1:
			l.State = StateDeclined
		case 2:
			l.State = StateExpired
		case 3:
			l.State = StateReleased
		default:
			l.State = StateOther
		}
	}
	if valid == 0 {
		l.State = StateReleased // deleted
	}
	return l, true
}

// keaUnescape undoes Kea's CSV escapes: "&#xHH" stands for the byte HH
// (Kea writes a comma in a host name as "&#x2c").
func keaUnescape(s string) string {
	if !strings.Contains(s, "&#x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.HasPrefix(s[i:], "&#x") && i+5 <= len(s) && hexVal(s[i+3]) >= 0 && hexVal(s[i+4]) >= 0 {
			b.WriteByte(byte(hexVal(s[i+3])<<4 | hexVal(s[i+4])))
			i += 4
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
