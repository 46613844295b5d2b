package render

import (
	"net/netip"
	"strconv"
)

// ISCDHCP writes the ISC dhcpd (DHCPv4) host declarations of the IPv4
// hosts in in that have a DHCP reservation and a MAC, sorted by address:
//
//	# owner: …; room: Main / Room 303; description: …
//	host pc1-10-0-0-5 {
//	  hardware ethernet aa:bb:cc:dd:ee:ff;
//	  fixed-address 10.0.0.5;
//	  option host-name "pc1";
//	}
//
// The file is meant for an include statement in dhcpd.conf, outside any
// subnet declaration:
//
//	include "/var/lib/ipdesk/dhcpd.hosts";
//
// Declaration names are made of the host name and the address, so they are
// unique even when host names repeat or are empty ("host-10-0-0-5"). The
// host-name option is written only for valid host names. It returns an
// ECONFLICT error when two hosts have the same address.
func ISCDHCP(in *Input) ([]byte, error) {
	return iscDHCP(in, v4)
}

// ISCDHCP6 writes the host declarations for ISC dhcpd in DHCPv6 mode
// (dhcpd -6) of the IPv6 hosts in in that have a DHCP reservation and a
// MAC, like ISCDHCP but with fixed-address6:
//
//	host pc1-2001-db8-0-0-0-0-0-5 {
//	  hardware ethernet aa:bb:cc:dd:ee:ff;
//	  fixed-address6 2001:db8::5;
//	}
//
// dhcpd matches a DHCPv6 client by hardware ethernet when the client's DUID
// carries its MAC (DUID-LL or DUID-LLT) or a relay reports it. DHCPv6 has
// no host-name option, so the name appears only in the declaration name.
func ISCDHCP6(in *Input) ([]byte, error) {
	return iscDHCP(in, v6)
}

func iscDHCP(in *Input, f family) ([]byte, error) {
	hs, err := reservations(in, f)
	if err != nil {
		return nil, err
	}
	d := newDescriber(in)
	size := 128
	for _, h := range hs {
		size += 128 + 2*len(h.a.Hostname) + d.describeLen(h.a)
	}
	b := make([]byte, 0, size)
	b = append(b, "# ISC dhcpd host declarations ("...)
	b = append(b, f.String()...)
	b = append(b, "), written by ipdesk: "+count(len(hs), "host", "hosts")+".\n"...)
	b = append(b, "# Do not edit: ipdesk replaces this file.\n"...)

	// Declaration names are unique without a check, because addresses are
	// and the address is always the last fields of a name (see
	// appendISCHostName).
	for _, h := range hs {
		valid := validHostname(h.a.Hostname)
		b = append(b, '\n')
		note := ""
		if !valid {
			note = hostnameNote(h.a.Hostname)
		}
		start := len(b)
		b = append(b, "# "...)
		if b = d.appendDescription(b, h.a, note); len(b) == start+2 {
			b = b[:start]
		} else {
			b = append(b, '\n')
		}
		b = append(b, "host "...)
		b = appendISCHostName(b, h.a.Hostname, valid, h.addr)
		b = append(b, " {\n  hardware ethernet "...)
		b = appendMAC(b, h.a.MAC)
		if f == v4 {
			b = append(b, ";\n  fixed-address "...)
		} else {
			b = append(b, ";\n  fixed-address6 "...)
		}
		b = h.addr.AppendTo(b)
		b = append(b, ";\n"...)
		if f == v4 && valid {
			b = append(b, "  option host-name "...)
			b = appendISCString(b, h.a.Hostname)
			b = append(b, ";\n"...)
		}
		b = append(b, "}\n"...)
	}
	return b, nil
}

// iscHostName returns the declaration name of a host: its host name (when
// valid, in lower case, dots as hyphens) or "host", then the address as
// hyphen-separated fields: the four numbers of an IPv4 address, or the
// eight groups of an IPv6 address in hexadecimal without leading zeros.
// The result has only the characters dhcpd reads as one name token: a-z,
// 0-9 and '-'. As the number of address fields is fixed, the last four (or
// eight) fields of a name give back the address, so hosts with distinct
// addresses get distinct names whatever their host names.
func iscHostName(hostname string, addr netip.Addr) string {
	return string(appendISCHostName(nil, hostname, validHostname(hostname), addr))
}

// appendISCHostName appends iscHostName(hostname, addr); valid tells
// whether hostname is a valid host name.
func appendISCHostName(b []byte, hostname string, valid bool, addr netip.Addr) []byte {
	if valid {
		for i := 0; i < len(hostname); i++ {
			c := hostname[i]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == '.':
				c = '-'
			}
			b = append(b, c)
		}
	} else {
		b = append(b, "host"...)
	}
	if addr.Is4() {
		for _, x := range addr.As4() {
			b = append(b, '-')
			b = strconv.AppendUint(b, uint64(x), 10)
		}
		return b
	}
	a := addr.As16()
	for i := 0; i < 16; i += 2 {
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(a[i])<<8|uint64(a[i+1]), 16)
	}
	return b
}

// appendISCString appends s as a dhcpd quoted string. The dhcpd lexer
// takes a backslash as an escape, so '"' and '\' are escaped, and bytes
// below 0x20 and DEL are written as three-digit octal escapes; other bytes
// (UTF-8 included) stand for themselves.
func appendISCString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
