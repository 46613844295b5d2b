package web

import (
	"context"
	"net/http"
	"strconv"

	"ipdesk"
)

// locationResult is a location as answered to a change, with its warnings.
type locationResult struct {
	*ipdesk.Location
	Warnings []ipdesk.Warning `json:"warnings"`
}

func locationURL(id int64) string { return "/api/v1/locations/" + strconv.FormatInt(id, 10) }

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.LocationFilter{ParentID: p.int64("parent"), Name: p.str("name"), Page: p.page}
	if k := p.enum("kind"); k != nil {
		kind := ipdesk.LocationKind(*k)
		f.Kind = &kind
	}
	if q := p.str("q"); q != nil {
		f.Query = *q
	}
	under, err := s.locationScope(r.Context())
	if err != nil {
		return err
	}
	f.Under = under
	locs, n, err := s.store.FindLocations(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, locs)
	return nil
}

func (s *Server) createLocation(w http.ResponseWriter, r *http.Request) error {
	var l ipdesk.Location
	if err := s.decodeBody(w, r, &l); err != nil {
		return err
	}
	if l.Phones == nil {
		l.Phones = []string{}
	}
	if err := s.mayPlaceLocation(r.Context(), l.ParentID); err != nil {
		return err
	}
	if err := s.store.CreateLocation(r.Context(), &l); err != nil {
		return err
	}
	writeCreated(w, r, locationURL(l.ID), l.Version, locationResult{Location: &l, Warnings: warningsOrEmpty(nil)})
	return nil
}

func (s *Server) getLocation(w http.ResponseWriter, r *http.Request) error {
	l, err := s.store.FindLocationByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, l.Version, l)
	return nil
}

func (s *Server) updateLocation(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.LocationUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	upd.Version = version
	if upd.ParentID != nil {
		if err := s.mayPlaceLocation(r.Context(), *upd.ParentID); err != nil {
			return err
		}
	}
	l, err := s.store.UpdateLocation(r.Context(), paramsOf(r).id("id"), upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, l.Version, locationResult{Location: l, Warnings: warningsOrEmpty(nil)})
	return nil
}

func (s *Server) deleteLocation(w http.ResponseWriter, r *http.Request) error {
	id := paramsOf(r).id("id")
	return deleteObject(w, r, false, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteLocation(ctx, id, opts)
	})
}
