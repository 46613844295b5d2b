package web

import (
	"context"
	"math"
	"net/http"
	"strconv"

	"ipdesk"
)

// usageView tells how much of a prefix is taken.
type usageView struct {
	Size    uint64  `json:"size"`
	Used    uint64  `json:"used"`
	Percent float64 `json:"percent"`
}

// prefixView is a prefix with its usage, as single-prefix answers show it.
type prefixView struct {
	*ipdesk.Prefix
	Usage usageView `json:"usage"`
}

// prefixResult is a prefix as answered to a change, with its warnings.
type prefixResult struct {
	prefixView
	Warnings []ipdesk.Warning `json:"warnings"`
}

func prefixURL(id int64) string { return "/api/v1/prefixes/" + strconv.FormatInt(id, 10) }

// viewPrefix adds the usage to a prefix.
func (s *Server) viewPrefix(ctx context.Context, p *ipdesk.Prefix) (prefixView, error) {
	u, err := s.store.PrefixUsage(ctx, p.ID)
	if err != nil {
		return prefixView{}, err
	}
	return prefixView{Prefix: p, Usage: usageView{
		Size:    u.Size,
		Used:    u.Used,
		Percent: math.Round(u.Percent()*100) / 100,
	}}, nil
}

func (s *Server) listPrefixes(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.PrefixFilter{
		SpaceID:  p.int64("space"),
		ParentID: p.int64("parent"),
		Contains: p.addr("contains"),
		Within:   p.prefix("within"),
		Page:     p.page,
	}
	if k := p.enum("kind"); k != nil {
		kind := ipdesk.PrefixKind(*k)
		f.Kind = &kind
	}
	if q := p.str("q"); q != nil {
		f.Query = *q
	}
	scope, err := s.scope(r.Context(), ipdesk.RightView)
	if err != nil {
		return err
	}
	f.Scope = scope
	prefixes, n, err := s.store.FindPrefixes(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, prefixes)
	return nil
}

func (s *Server) createPrefix(w http.ResponseWriter, r *http.Request) error {
	var pfx ipdesk.Prefix
	if err := s.decodeBody(w, r, &pfx); err != nil {
		return err
	}
	if pfx.Prefix.IsValid() {
		if err := s.mayPrefix(r.Context(), pfx.SpaceID, pfx.Prefix.Masked(), ipdesk.RightEdit); err != nil {
			return err
		}
	}
	warnings, err := s.store.CreatePrefix(r.Context(), &pfx)
	if err != nil {
		return err
	}
	v, err := s.viewPrefix(r.Context(), &pfx)
	if err != nil {
		return err
	}
	writeCreated(w, r, prefixURL(pfx.ID), pfx.Version, prefixResult{prefixView: v, Warnings: s.visibleWarnings(r, warnings)})
	return nil
}

func (s *Server) getPrefix(w http.ResponseWriter, r *http.Request) error {
	pfx, err := s.store.FindPrefixByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	v, err := s.viewPrefix(r.Context(), pfx)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, pfx.Version, v)
	return nil
}

func (s *Server) updatePrefix(w http.ResponseWriter, r *http.Request) error {
	var upd ipdesk.PrefixUpdate
	if err := s.decodeBody(w, r, &upd); err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	upd.Version = version
	pfx, err := s.store.UpdatePrefix(r.Context(), paramsOf(r).id("id"), upd)
	if err != nil {
		return err
	}
	v, err := s.viewPrefix(r.Context(), pfx)
	if err != nil {
		return err
	}
	writeObject(w, r, http.StatusOK, pfx.Version, prefixResult{prefixView: v, Warnings: warningsOrEmpty(nil)})
	return nil
}

func (s *Server) deletePrefix(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	id := p.id("id")
	cascade := p.bool("cascade")
	return deleteObject(w, r, cascade != nil && *cascade, func(ctx context.Context, opts ipdesk.DeleteOptions) error {
		return s.store.DeletePrefix(ctx, id, opts)
	})
}
