package render

import "strings"

// dnsmasqMaxComment bounds a comment line of the hosts file. dnsmasq reads
// the file in pieces of 1024 bytes; the rest of a longer line would be read
// as a line of its own, so a long comment could smuggle in a host entry.
const dnsmasqMaxComment = 512

// Dnsmasq writes a dnsmasq dhcp-hostsfile with one line per host in in
// that has a DHCP reservation and a MAC, IPv4 and IPv6 alike, sorted by
// address (IPv4 first):
//
//	# owner: …; room: Main / Room 303; description: …
//	aa:bb:cc:dd:ee:ff,10.0.0.5,pc1
//	aa:bb:cc:dd:ee:01,[2001:db8::5],pc2
//	aa:bb:cc:dd:ee:02,10.0.0.7
//
// Each host line has the MAC, the address (IPv6 in brackets) and, when
// there is one that dnsmasq reads as a name, the host name. dnsmasq reads
// a hostname field that looks like a lease time ("45m", "3600"), an
// address ("1.2.3.4") or the keyword "infinite" or "ignore" as that
// instead, so such names are left out (and named in the comment). Comment
// lines start with '#' and are at most 512 bytes long. dnsmasq.conf names
// the file, and dnsmasq reads it again on SIGHUP:
//
//	dhcp-hostsfile=/var/lib/ipdesk/dnsmasq.hosts
//
// It returns an ECONFLICT error when two hosts have the same address, for
// which dnsmasq would drop one of the lines.
func Dnsmasq(in *Input) ([]byte, error) {
	h4, err := reservations(in, v4)
	if err != nil {
		return nil, err
	}
	h6, err := reservations(in, v6)
	if err != nil {
		return nil, err
	}
	hs := append(h4, h6...)
	d := newDescriber(in)
	size := 128
	for _, h := range hs {
		size += 64 + len(h.a.Hostname) + min(d.describeLen(h.a), dnsmasqMaxComment)
	}
	b := make([]byte, 0, size)
	b = append(b, "# dnsmasq dhcp-hostsfile, written by ipdesk: "+count(len(hs), "host", "hosts")+".\n"...)
	b = append(b, "# Do not edit: ipdesk replaces this file.\n"...)
	for _, h := range hs {
		name := h.a.Hostname
		note := ""
		if name != "" && !validHostname(name) {
			note = hostnameNote(name)
		} else if name != "" && dnsmasqMisreads(name) {
			note = "host name " + quoteComment(name) + " is not sent: dnsmasq would read it as a lease time, address or keyword"
		}
		if note != "" {
			name = ""
		}
		start := len(b)
		b = append(b, "# "...)
		if b = d.appendDescription(b, h.a, note); len(b) == start+2 {
			b = b[:start]
		} else {
			b = append(clipLine(b, start, dnsmasqMaxComment), '\n')
		}
		b = appendMAC(b, h.a.MAC)
		b = append(b, ',')
		if h.addr.Is6() {
			b = append(b, '[')
			b = h.addr.AppendTo(b)
			b = append(b, ']')
		} else {
			b = h.addr.AppendTo(b)
		}
		if name != "" {
			b = append(b, ',')
			b = append(b, name...)
		}
		b = append(b, '\n')
	}
	return b, nil
}

// dnsmasqMisreads reports whether dnsmasq would take the valid host name s,
// in a dhcp-host field, for something else: a lease time (digits with an
// optional unit s, m, h, d or w), an IPv4 address (digits and dots), or one
// of the keywords "infinite" and "ignore".
func dnsmasqMisreads(s string) bool {
	if strings.EqualFold(s, "infinite") || strings.EqualFold(s, "ignore") {
		return true
	}
	digits := s
	if len(digits) > 1 && strings.IndexByte("smhdwSMHDW", digits[len(digits)-1]) >= 0 {
		digits = digits[:len(digits)-1]
	}
	if allBytesIn(digits, "0123456789") {
		return true
	}
	return allBytesIn(s, "0123456789.")
}

// allBytesIn reports whether s is not empty and has only bytes of set.
func allBytesIn(s, set string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}
