package web

import (
	"context"
	"net/http"
	"strconv"

	"ipdesk"
)

// spaceResult is a space as answered to a change, with its warnings.
type spaceResult struct {
	*ipdesk.Space
	Warnings []ipdesk.Warning `json:"warnings"`
}

func spaceURL(id int64) string { return "/api/v1/spaces/" + strconv.FormatInt(id, 10) }

func (s *Server) listSpaces(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	scope, err := s.scope(r.Context(), ipdesk.RightView)
	if err != nil {
		return err
	}
	spaces, n, err := s.store.FindSpaces(r.Context(), ipdesk.SpaceFilter{Name: p.str("name"), Scope: scope, Page: p.page})
	if err != nil {
		return err
	}
	writeList(w, p.page, n, spaces)
	return nil
}

func (s *Server) createSpace(w http.ResponseWriter, r *http.Request) error {
	var sp ipdesk.Space
	if err := s.decodeBody(w, r, &sp); err != nil {
		return err
	}
	if err := s.store.CreateSpace(r.Context(), &sp); err != nil {
		return s.visibleSpaceConflict(r.Context(), err, sp.Name)
	}
	writeCreated(w, r, spaceURL(sp.ID), sp.Version, spaceResult{Space: &sp, Warnings: warningsOrEmpty(nil)})
	return nil
}

func (s *Server) getSpace(w http.ResponseWriter, r *http.Request) error {
	sp, err := s.store.FindSpaceByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, sp.Version, sp)
	return nil
}

func (s *Server) updateSpace(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.SpaceUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	upd.Version = version
	sp, err := s.store.UpdateSpace(r.Context(), paramsOf(r).id("id"), upd)
	if err != nil && upd.Name != nil {
		return s.visibleSpaceConflict(r.Context(), err, *upd.Name)
	} else if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, sp.Version, spaceResult{Space: sp, Warnings: warningsOrEmpty(nil)})
	return nil
}

func (s *Server) deleteSpace(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	id := p.id("id")
	cascade := p.bool("cascade")
	return deleteObject(w, r, cascade != nil && *cascade, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeleteSpace(ctx, id, opts)
	})
}
