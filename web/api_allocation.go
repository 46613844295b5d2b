package web

import (
	"encoding/binary"
	"math/bits"
	"net/http"
	"net/netip"

	"ipdesk"
	"ipdesk/ipam"
)

// freeAddress is one free address of a subnet.
type freeAddress struct {
	Address netip.Addr `json:"address"`
}

// freeRange is an unused range of a prefix.
type freeRange struct {
	From netip.Addr `json:"from"`
	To   netip.Addr `json:"to"`
	// Size is the number of addresses, saturated at 2^64-1.
	Size uint64 `json:"size"`
}

// freePrefix is a free aligned prefix inside a container.
type freePrefix struct {
	Prefix netip.Prefix `json:"prefix"`
}

// allocateAddressRequest is the body of POST …/available-addresses: where
// to start looking and the host fields of the new address.
type allocateAddressRequest struct {
	// From makes the search start at this address instead of the
	// subnet's first one.
	From netip.Addr `json:"from"`
	ipdesk.Address
}

// allocatePrefixRequest is the body of POST …/available-prefixes: the
// length of the child and its other fields.
type allocatePrefixRequest struct {
	PrefixLength int `json:"prefix_length"`
	ipdesk.Prefix
}

// freeRangePage is how many ranges are read from the store at a time when
// free addresses are listed.
const freeRangePage = ipdesk.MaxLimit

// listAvailableAddresses lists free addresses of a subnet in order,
// skipping ?offset= of them.
func (s *Server) listAvailableAddresses(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	id := p.id("id")
	pfx, err := s.store.FindPrefixByID(r.Context(), id)
	if err != nil {
		return err
	}
	if pfx.Kind != ipdesk.PrefixSubnet {
		return ipdesk.Errorf(ipdesk.EINVALID, "prefix %s is a container; addresses live in subnets (see free-ranges and available-prefixes)", pfx.Prefix)
	}
	skip := uint64(p.page.Offset)
	out := make([]freeAddress, 0, p.page.Limit)
	for start := 0; len(out) < p.page.Limit; start += freeRangePage {
		ranges, err := s.store.FreeRanges(r.Context(), id, ipdesk.Page{Offset: start, Limit: freeRangePage})
		if err != nil {
			return err
		}
		for _, rg := range ranges {
			size := ipam.RangeSize(rg.From, rg.To)
			if skip >= size {
				skip -= size
				continue
			}
			a := addToAddr(rg.From, skip)
			skip = 0
			for len(out) < p.page.Limit {
				out = append(out, freeAddress{Address: a})
				if a == rg.To {
					break
				}
				a = a.Next()
			}
			if len(out) == p.page.Limit {
				break
			}
		}
		if len(ranges) < freeRangePage {
			break
		}
	}
	writeWindow(w, p.page, out)
	return nil
}

// addToAddr returns the address n after a; the caller keeps the result
// inside a's family.
func addToAddr(a netip.Addr, n uint64) netip.Addr {
	b := a.As16()
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	lo, carry := bits.Add64(lo, n, 0)
	hi += carry
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	out := netip.AddrFrom16(b)
	if a.Is4() {
		return out.Unmap()
	}
	return out
}

// allocateAddress takes the first free address of a subnet and stores the
// host given in the body there.
func (s *Server) allocateAddress(w http.ResponseWriter, r *http.Request) error {
	var req allocateAddressRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	a := req.Address
	if err := s.mayUseLocation(r.Context(), a.LocationID); err != nil {
		return err
	}
	warnings, err := s.store.AllocateAddress(r.Context(), paramsOf(r).id("id"), req.From, &a)
	if err != nil {
		return err
	}
	writeCreated(w, r, addressURL(a.ID), a.Version, addressResult{Address: &a, Warnings: s.visibleWarnings(r, warnings)})
	return nil
}

func (s *Server) listFreeRanges(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	ranges, err := s.store.FreeRanges(r.Context(), p.id("id"), p.page)
	if err != nil {
		return err
	}
	out := make([]freeRange, len(ranges))
	for i, rg := range ranges {
		out[i] = freeRange{From: rg.From, To: rg.To, Size: ipam.RangeSize(rg.From, rg.To)}
	}
	writeWindow(w, p.page, out)
	return nil
}

func (s *Server) listAvailablePrefixes(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	prefixes, err := s.store.AvailablePrefixes(r.Context(), p.id("id"), p.page)
	if err != nil {
		return err
	}
	out := make([]freePrefix, len(prefixes))
	for i, x := range prefixes {
		out[i] = freePrefix{Prefix: x}
	}
	writeWindow(w, p.page, out)
	return nil
}

// allocatePrefix takes the first free child of the requested length inside
// a container and stores it with the other fields of the body.
func (s *Server) allocatePrefix(w http.ResponseWriter, r *http.Request) error {
	var req allocatePrefixRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	tmpl := req.Prefix
	warnings, err := s.store.AllocatePrefix(r.Context(), paramsOf(r).id("id"), req.PrefixLength, &tmpl)
	if err != nil {
		return err
	}
	v, err := s.viewPrefix(r.Context(), &tmpl)
	if err != nil {
		return err
	}
	writeCreated(w, r, prefixURL(tmpl.ID), tmpl.Version, prefixResult{prefixView: v, Warnings: s.visibleWarnings(r, warnings)})
	return nil
}
