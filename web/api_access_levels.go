package web

import (
	"context"
	"net/http"
	"strconv"

	"ipdesk"
)

// accessLevelResult is an access level as answered to a change, with its
// warnings.
type accessLevelResult struct {
	*ipdesk.AccessLevel
	Warnings []ipdesk.Warning `json:"warnings"`
}

func accessLevelURL(level int) string { return "/api/v1/access-levels/" + strconv.Itoa(level) }

// level returns the {level} path parameter. Numbers past the highest
// level name no level.
func level(r *http.Request) (int, error) {
	n := paramsOf(r).id("level")
	if n > ipdesk.MaxAccessLevel {
		return 0, ipdesk.Errorf(ipdesk.ENOTFOUND, "access level %d does not exist (levels are 0..%d)", n, ipdesk.MaxAccessLevel)
	}
	return int(n), nil
}

func (s *Server) listAccessLevels(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	levels, err := s.store.FindAccessLevels(r.Context())
	if err != nil {
		return err
	}
	// The store returns every level (there are at most 100); page here.
	n := len(levels)
	from := min(p.page.Offset, n)
	to := min(from+p.page.Limit, n)
	writeList(w, p.page, n, levels[from:to])
	return nil
}

func (s *Server) createAccessLevel(w http.ResponseWriter, r *http.Request) error {
	var l ipdesk.AccessLevel
	if err := s.decodeBody(w, r, &l); err != nil {
		return err
	}
	if err := s.store.CreateAccessLevel(r.Context(), &l); err != nil {
		return err
	}
	writeCreated(w, r, accessLevelURL(l.Level), l.Version, accessLevelResult{AccessLevel: &l, Warnings: warningsOrEmpty(nil)})
	return nil
}

func (s *Server) getAccessLevel(w http.ResponseWriter, r *http.Request) error {
	lv, err := level(r)
	if err != nil {
		return err
	}
	l, err := s.store.FindAccessLevel(r.Context(), lv)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, l.Version, l)
	return nil
}

func (s *Server) updateAccessLevel(w http.ResponseWriter, r *http.Request) error {
	lv, err := level(r)
	if err != nil {
		return err
	}
	var upd ipdesk.AccessLevelUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	upd.Version = version
	l, err := s.store.UpdateAccessLevel(r.Context(), lv, upd)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, l.Version, accessLevelResult{AccessLevel: l, Warnings: warningsOrEmpty(nil)})
	return nil
}

func (s *Server) deleteAccessLevel(w http.ResponseWriter, r *http.Request) error {
	id, err := level(r)
	if err != nil {
		return err
	}
	return deleteObject(w, r, false, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteAccessLevel(ctx, id, opts)
	})
}
