package web

import (
	"context"
	"net/http"
	"strconv"

	"ipdesk"
)

// addressResult is an address as answered to a change, with its warnings.
type addressResult struct {
	*ipdesk.Address
	Warnings []ipdesk.Warning `json:"warnings"`
}

func addressURL(id int64) string { return "/api/v1/addresses/" + strconv.FormatInt(id, 10) }

func (s *Server) listAddresses(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.AddressFilter{
		SpaceID:     p.int64("space"),
		LocationID:  p.int64("location"),
		AccessLevel: p.int("access_level"),
		DHCP:        p.bool("dhcp"),
		MAC:         p.mac("mac"),
		Addr:        p.addr("address"),
		Hostname:    p.str("hostname"),
		Page:        p.page,
	}
	f.PrefixID, f.Within = p.prefixRef("prefix")
	if q := p.str("q"); q != nil {
		f.Query = *q
	}
	if sort := p.enum("sort"); sort != nil {
		f.Sort = *sort
	}
	scope, err := s.scope(r.Context(), ipdesk.RightView)
	if err != nil {
		return err
	}
	f.Scope = scope
	addrs, n, err := s.store.FindAddresses(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, addrs)
	return nil
}

// createAddress stores a host at an address. The subnet is the one of the
// given space that contains the address; a client that knows the subnet may
// name it with prefix_id instead of the space.
func (s *Server) createAddress(w http.ResponseWriter, r *http.Request) error {
	var a ipdesk.Address
	if err := s.decodeBody(w, r, &a); err != nil {
		return err
	}
	if a.PrefixID != 0 {
		pfx, err := s.store.FindPrefixByID(r.Context(), a.PrefixID)
		if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix_id", "prefix_id %d: no such prefix", a.PrefixID)
		} else if err != nil {
			return err
		}
		switch {
		case a.SpaceID != 0 && a.SpaceID != pfx.SpaceID:
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix_id", "prefix %s (prefix_id %d) is in space %d, not in space_id %d", pfx.Prefix, pfx.ID, pfx.SpaceID, a.SpaceID)
		case pfx.Kind != ipdesk.PrefixSubnet:
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "prefix_id", "prefix %s (prefix_id %d) is a container; addresses live in subnets", pfx.Prefix, pfx.ID)
		case a.Addr.IsValid() && !pfx.Prefix.Contains(a.Addr.Unmap()):
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "address", "address %s is not inside %s (prefix_id %d)", a.Addr, pfx.Prefix, pfx.ID)
		}
		a.SpaceID = pfx.SpaceID
	}
	if a.SpaceID == 0 {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "space_id", "space_id is required (or prefix_id, the subnet the address lies in)")
	}
	if err := s.mayPlaceHost(r.Context(), &a); err != nil {
		return err
	}
	warnings, err := s.store.CreateAddress(r.Context(), &a)
	if err != nil {
		return err
	}
	writeCreated(w, r, addressURL(a.ID), a.Version, addressResult{Address: &a, Warnings: s.visibleWarnings(r, warnings)})
	return nil
}

func (s *Server) getAddress(w http.ResponseWriter, r *http.Request) error {
	id := paramsOf(r).id("id")
	a := authorizedAddress(r.Context(), id) // read once for the rights
	if a == nil {
		var err error
		if a, err = s.store.FindAddressByID(r.Context(), id); err != nil {
			return err
		}
	}
	seen, server, err := s.lastSeen(r.Context(), a)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, a.Version, addressView{Address: a, LastSeen: optTime(seen), LastSeenServer: server})
	return nil
}

func (s *Server) updateAddress(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.AddressUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	upd.Version = version
	id := paramsOf(r).id("id")
	if err := s.mayUpdateHost(r.Context(), id, upd); err != nil {
		return err
	}
	a, warnings, err := s.store.UpdateAddress(r.Context(), id, upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, a.Version, addressResult{Address: a, Warnings: s.visibleWarnings(r, warnings)})
	return nil
}

func (s *Server) deleteAddress(w http.ResponseWriter, r *http.Request) error {
	id := paramsOf(r).id("id")
	return deleteObject(w, r, false, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteAddress(ctx, id, opts)
	})
}
