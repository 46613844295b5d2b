package render

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"

	"ipdesk"
)

// Kea's subnet identifiers are 32-bit; 0 asks Kea to pick one, which would
// not be stable, and 4294967295 is reserved.
const (
	minKeaSubnetID = 1
	maxKeaSubnetID = 4294967294
)

// keaSubnetHead is an element of Kea's "subnet4" or "subnet6" list without
// its "reservations", which are written one by one after it.
type keaSubnetHead struct {
	ID          int64       `json:"id"`
	Subnet      string      `json:"subnet"`
	OptionData  []keaOption `json:"option-data,omitempty"`
	UserContext keaContext  `json:"user-context,omitzero"`
}

// keaOption is one element of "option-data".
type keaOption struct {
	Name string `json:"name"`
	Data string `json:"data"`
}

// keaText is text that encoding/json writes as a JSON string, escaped like
// any string, through its MarshalText method. Unlike a string it can be a
// view of a reused buffer, so writing 100,000 reservations does not
// allocate 100,000 comment strings.
type keaText []byte

// MarshalText implements encoding.TextMarshaler.
func (t keaText) MarshalText() ([]byte, error) { return t, nil }

// keaContext is Kea's "user-context": data Kea keeps and shows (for
// example in config-get) but does not interpret. "comment" is the key Kea
// itself uses for comments.
type keaContext struct {
	Comment         keaText `json:"comment,omitempty"`
	IPDeskAddressID int64   `json:"ipdesk-address-id,omitempty"`
}

// IsZero reports whether c is empty, which omitzero leaves out. It has a
// pointer receiver so that encoding/json can call it without copying c.
func (c *keaContext) IsZero() bool { return len(c.Comment) == 0 && c.IPDeskAddressID == 0 }

// KeaDHCP4 writes the "subnet4" list of a Kea DHCPv4 configuration as a
// fragment for Kea's include directive: one subnet per IPv4 prefix in
// in.Subnets, with id equal to the ipdesk prefix ID (so that Kea's leases
// stay attached to their subnet across renders), the gateway as option
// routers, and a reservation for each IPv4 host that has a DHCP reservation
// and a MAC, with owner, room and description in the user context. The
// main kea-dhcp4.conf includes it inside "Dhcp4" and must not have a
// "subnet4" of its own:
//
//	{
//	  "Dhcp4": {
//	    "interfaces-config": { "interfaces": [ "eth0" ] },
//	    "lease-database": { "type": "memfile" },
//	    <?include "/var/lib/ipdesk/kea-subnet4.json"?>
//	  }
//	}
//
// Kea pastes the file's text where the directive stands, so the fragment is
// a bare member ("subnet4": [...]) without braces, and the directive takes
// the place of a member, commas included. The file is JSON, byte for byte what
// encoding/json writes (see keaWriter), one reservation per line so that a change to one host is
// a change to one line. The subnets have no pools: Kea gives their
// addresses to reserved hosts only. To serve a pool as well, write the
// subnet in kea-dhcp4.conf and include KeaReservations4 in it.
//
// A host belongs to the subnet whose ID is its PrefixID, or else to the
// longest prefix of in.Subnets that contains its address. It returns an
// error, and no file, for a host in none of the subnets, a prefix ID
// outside 1..4294967294, two subnets with the same prefix or ID, and two
// hosts in one subnet with the same address or MAC, all of which Kea
// refuses.
func KeaDHCP4(in *Input) ([]byte, error) {
	return keaSubnets(in, v4)
}

// KeaDHCP6 writes the "subnet6" list of a Kea DHCPv6 configuration, like
// KeaDHCP4 for the IPv6 prefixes and hosts, with the reserved address in
// "ip-addresses". kea-dhcp6 matches a reservation by hw-address when the
// client's DUID carries its MAC or a relay reports it. It is included inside
// "Dhcp6" of kea-dhcp6.conf.
func KeaDHCP6(in *Input) ([]byte, error) {
	return keaSubnets(in, v6)
}

// KeaReservations4 writes a bare "reservations" list of the IPv4 hosts in
// in that have a DHCP reservation and a MAC, for an operator who writes the
// subnet (with its pools and options) in kea-dhcp4.conf:
//
//	"subnet4": [ {
//	  "id": 1, "subnet": "10.0.0.0/24",
//	  "pools": [ { "pool": "10.0.0.100 - 10.0.0.199" } ],
//	  <?include "/var/lib/ipdesk/kea-reservations-10.0.0.0.json"?>
//	} ]
//
// The caller passes only the hosts of that subnet. Included directly inside
// "Dhcp4" instead, the list holds global reservations, which subnets use
// when they set "reservations-global": true. It returns an error for two
// hosts with the same address or MAC.
func KeaReservations4(in *Input) ([]byte, error) {
	return keaReservations(in, v4)
}

// KeaReservations6 writes a bare "reservations" list of the IPv6 hosts in
// in that have a DHCP reservation and a MAC, like KeaReservations4, for a
// subnet6 written in kea-dhcp6.conf or as global reservations.
func KeaReservations6(in *Input) ([]byte, error) {
	return keaReservations(in, v6)
}

func keaSubnets(in *Input, f family) ([]byte, error) {
	hs, err := reservations(in, f)
	if err != nil {
		return nil, err
	}
	subnets, err := keaSubnetList(in, f)
	if err != nil {
		return nil, err
	}
	// Each host's subnet, then the hosts grouped by subnet (a counting
	// sort, which keeps them sorted by address within a subnet).
	byID := make(map[int64]int, len(subnets))
	for i, s := range subnets {
		byID[s.ID] = i
	}
	where := make([]int32, len(hs))
	starts := make([]int, len(subnets)+1)
	for j, h := range hs {
		i, ok := byID[h.a.PrefixID]
		if !ok || !subnets[i].Prefix.Contains(h.addr) {
			i = longestContaining(subnets, h.addr)
		}
		if i < 0 {
			return nil, ipdesk.Errorf(ipdesk.EINVALID,
				"address %s (address record %d) is in none of the %d %s subnets given; Kea needs a subnet for every reservation",
				h.addr, h.a.ID, len(subnets), f)
		}
		where[j] = int32(i)
		starts[i+1]++
	}
	for i := range subnets {
		starts[i+1] += starts[i]
	}
	grouped := make([]host, len(hs))
	next := slices.Clone(starts[:len(subnets)])
	for j, h := range hs {
		grouped[next[where[j]]] = h
		next[where[j]]++
	}

	d := newDescriber(in)
	w := newKeaWriter(d, hs)
	w.raw("// Kea DHCPv" + f.digit() + " subnets, written by ipdesk: " +
		count(len(subnets), "subnet", "subnets") + ", " + count(len(hs), "reservation", "reservations") + ".\n" +
		"// Do not edit: ipdesk replaces this file. Include it inside \"Dhcp" + f.digit() +
		"\" of kea-dhcp" + f.digit() + ".conf.\n")
	w.value("subnet" + f.digit())
	w.raw(": [")
	for i, s := range subnets {
		if i > 0 {
			w.raw(",")
		}
		head := keaSubnetHead{ID: s.ID, Subnet: s.Prefix.String(), UserContext: keaContext{Comment: keaText(cleanText(s.Description))}}
		if f == v4 && s.Gateway.IsValid() {
			head.OptionData = []keaOption{{Name: "routers", Data: s.Gateway.String()}}
		}
		w.raw("\n  ")
		w.openObject(head)
		w.raw(",")
		w.value("reservations")
		w.raw(":")
		if err := w.reservations(grouped[starts[i]:starts[i+1]], f, "subnet "+s.Prefix.String(), "    "); err != nil {
			return nil, err
		}
		w.raw("}")
	}
	if len(subnets) > 0 {
		w.raw("\n")
	}
	w.raw("]\n")
	return w.bytes()
}

func keaReservations(in *Input, f family) ([]byte, error) {
	hs, err := reservations(in, f)
	if err != nil {
		return nil, err
	}
	w := newKeaWriter(newDescriber(in), hs)
	w.raw("// Kea DHCPv" + f.digit() + " host reservations, written by ipdesk: " +
		count(len(hs), "reservation", "reservations") + ".\n" +
		"// Do not edit: ipdesk replaces this file. Include it inside a subnet" + f.digit() +
		" element, or inside \"Dhcp" + f.digit() + "\" for global reservations.\n")
	w.value("reservations")
	w.raw(": ")
	if err := w.reservations(hs, f, "the list", "  "); err != nil {
		return nil, err
	}
	w.raw("\n")
	return w.bytes()
}

// keaWriter writes a Kea fragment. Every text that users typed (comments,
// subnet descriptions) and every value of a subnet goes through
// encoding/json. A reservation's other members have a fixed form that
// needs no escaping (a MAC in hex, an IP address, a host name of letters,
// digits, '-' and '.', a number), so the writer appends them itself,
// without reflection, which makes 100,000 reservations fit in the time a
// render may take; TestKeaReservationsAsEncodingJSON and FuzzKea check that
// every reservation equals what encoding/json makes of it.
//
// HTML escaping is off: Kea's parser reads only \u00XX escapes, and the
// text was cleaned of what encoding/json would escape otherwise (control
// characters, U+2028, U+2029, invalid UTF-8), so the only escapes left are
// \" and \\.
type keaWriter struct {
	b       []byte
	enc     *json.Encoder
	err     error
	d       *describer
	scratch []byte  // the comment of the current reservation
	text    keaText // what encoding/json is handed, a view of scratch
}

func newKeaWriter(d *describer, hs []host) *keaWriter {
	// An estimate a little above the size (keys, MAC, address, name, and
	// the comment with room for escapes), so that the buffer need not grow
	// (and copy) near the end.
	size := 512
	for _, h := range hs {
		size += 160 + len(h.a.Hostname) + d.describeLen(h.a)*17/16
	}
	w := &keaWriter{d: d, b: make([]byte, 0, size)}
	w.enc = json.NewEncoder(w)
	w.enc.SetEscapeHTML(false)
	return w
}

// Write appends p; the encoder writes each value through it.
func (w *keaWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// raw writes punctuation, blanks or a comment.
func (w *keaWriter) raw(s string) { w.b = append(w.b, s...) }

// value writes v as compact JSON.
func (w *keaWriter) value(v any) {
	if w.err != nil {
		return
	}
	if w.err = w.enc.Encode(v); w.err == nil {
		w.b = w.b[:len(w.b)-1] // the newline Encode adds
	}
}

// openObject writes the struct v as a JSON object without its closing
// brace, so that more members can follow. encoding/json ends every object
// it writes with '}'.
func (w *keaWriter) openObject(v any) {
	w.value(v)
	if w.err == nil {
		w.b = w.b[:len(w.b)-1]
	}
}

// reservations writes hs (sorted by address, addresses distinct) as a JSON
// array, one reservation per line indented by indent. Kea refuses two
// reservations for one MAC in the same subnet (or in the global list), so
// that is an error naming where.
func (w *keaWriter) reservations(hs []host, f family, where, indent string) error {
	seen := make(map[ipdesk.MAC]int, len(hs))
	sep := "\n" + indent
	w.raw("[")
	for i, h := range hs {
		if j, dup := seen[h.a.MAC]; dup {
			return ipdesk.Errorf(ipdesk.ECONFLICT,
				"MAC %s is reserved twice in %s (addresses %s and %s); Kea allows one reservation per MAC in a subnet",
				h.a.MAC, where, hs[j].addr, h.addr)
		}
		seen[h.a.MAC] = i

		note, hostname := "", ""
		if validHostname(h.a.Hostname) {
			hostname = h.a.Hostname
		} else {
			note = hostnameNote(h.a.Hostname)
		}
		w.scratch = w.d.appendDescription(w.scratch[:0], h.a, note)
		if i > 0 {
			w.raw(",")
		}
		w.raw(sep)
		w.reservation(h, f, hostname)
	}
	if len(hs) > 0 {
		w.raw("\n" + indent[:len(indent)-2])
	}
	w.raw("]")
	return w.err
}

// reservation writes one reservation object of h, with the host name
// hostname (valid or "") and the comment in w.scratch, in the member order
// and form of encoding/json:
//
//	{"hw-address":"…","ip-address":"…","hostname":"…","user-context":{"comment":"…","ipdesk-address-id":N}}
//
// An IPv6 reservation has "ip-addresses":["…"] instead of "ip-address".
// Empty members are left out, and "user-context" when both of its are.
func (w *keaWriter) reservation(h host, f family, hostname string) {
	b := append(w.b, `{"hw-address":"`...)
	b = appendMAC(b, h.a.MAC)
	if f == v4 {
		b = append(b, `","ip-address":"`...)
		b = h.addr.AppendTo(b)
		b = append(b, '"')
	} else {
		b = append(b, `","ip-addresses":["`...)
		b = h.addr.AppendTo(b)
		b = append(b, `"]`...)
	}
	if hostname != "" {
		b = append(b, `,"hostname":"`...)
		b = append(b, hostname...)
		b = append(b, '"')
	}
	comment, id := len(w.scratch) > 0, h.a.ID != 0
	if comment || id {
		b = append(b, `,"user-context":{`...)
		if comment {
			b = append(b, `"comment":`...)
			w.b = b
			w.string(w.scratch)
			b = w.b
			if id {
				b = append(b, ',')
			}
		}
		if id {
			b = append(b, `"ipdesk-address-id":`...)
			b = strconv.AppendInt(b, h.a.ID, 10)
		}
		b = append(b, '}')
	}
	w.b = append(b, '}')
}

// string writes the cleaned text s as a JSON string with encoding/json.
// Cleaned text has nothing that encoding/json escapes but '"' and '\\', so
// text without these two is its own JSON string between quotes, and is
// copied as it is.
func (w *keaWriter) string(s []byte) {
	if bytes.IndexByte(s, '"') < 0 && bytes.IndexByte(s, '\\') < 0 {
		w.b = append(w.b, '"')
		w.b = append(w.b, s...)
		w.b = append(w.b, '"')
		return
	}
	w.text = keaText(s)
	w.value(&w.text) // a pointer: boxing it allocates nothing
}

func (w *keaWriter) bytes() ([]byte, error) {
	if w.err != nil {
		return nil, w.err
	}
	return w.b, nil
}

// keaSubnetList returns the prefixes of family f in in.Subnets, sorted by
// prefix, after checking what Kea would refuse.
func keaSubnetList(in *Input, f family) ([]*ipdesk.Prefix, error) {
	var subnets []*ipdesk.Prefix
	for _, p := range in.Subnets {
		if p == nil || !p.Prefix.IsValid() || !f.has(p.Prefix.Addr()) {
			continue
		}
		if p.Prefix.Addr().Is4In6() || p.Prefix.Addr().Zone() != "" || p.Prefix.Masked() != p.Prefix {
			return nil, ipdesk.Errorf(ipdesk.EINVALID, "prefix %s (prefix record %d) is not a plain network prefix; Kea needs one like 10.1.0.0/24", p.Prefix, p.ID)
		}
		if p.ID < minKeaSubnetID || p.ID > maxKeaSubnetID {
			return nil, ipdesk.Errorf(ipdesk.EINVALID, "prefix %s has the record ID %d, which Kea cannot use as a subnet id (1..%d)", p.Prefix, p.ID, maxKeaSubnetID)
		}
		subnets = append(subnets, p)
	}
	slices.SortFunc(subnets, compareSubnets)
	ids := make(map[int64]netip.Prefix, len(subnets))
	for i, s := range subnets {
		if i > 0 && subnets[i-1].Prefix == s.Prefix {
			return nil, ipdesk.Errorf(ipdesk.ECONFLICT, "prefix %s is given twice (prefix records %d and %d); Kea serves a prefix in one subnet only", s.Prefix, subnets[i-1].ID, s.ID)
		}
		if other, dup := ids[s.ID]; dup {
			return nil, ipdesk.Errorf(ipdesk.ECONFLICT, "prefixes %s and %s have the same record ID %d; Kea needs a distinct subnet id for each", other, s.Prefix, s.ID)
		}
		ids[s.ID] = s.Prefix
	}
	return subnets, nil
}

// compareSubnets orders subnets by prefix, and one prefix's records by
// ID, older first.
func compareSubnets(x, y *ipdesk.Prefix) int {
	if c := x.Prefix.Addr().Compare(y.Prefix.Addr()); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Prefix.Bits(), y.Prefix.Bits()); c != 0 {
		return c
	}
	return cmp.Compare(x.ID, y.ID)
}

// longestContaining returns the index of the longest prefix in subnets that
// contains addr, or -1.
func longestContaining(subnets []*ipdesk.Prefix, addr netip.Addr) int {
	best := -1
	for i, s := range subnets {
		if s.Prefix.Contains(addr) && (best < 0 || s.Prefix.Bits() > subnets[best].Prefix.Bits()) {
			best = i
		}
	}
	return best
}
