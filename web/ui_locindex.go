package web

import (
	"context"
	"slices"
	"strings"

	"ipdesk"
	"ipdesk/importer"
)

// locIndex holds locations by id, for their names and paths on pages.
type locIndex map[int64]*ipdesk.Location

// maxLocationDepth bounds walks up the location tree (site, building,
// room: three levels; a little more in case of odd data).
const maxLocationDepth = 8

// path returns the names of id and its parents as far as idx holds them,
// outermost first: "Main site > Building A > 303", the form host lists use.
func (idx locIndex) path(id int64) string {
	var parts []string
	for l, n := idx[id], 0; l != nil && n < maxLocationDepth; l, n = idx[l.ParentID], n+1 {
		parts = append(parts, l.Name)
	}
	slices.Reverse(parts)
	return strings.Join(parts, importer.PathSeparator)
}

// ancestors returns the parents of id that idx holds, nearest first.
func (idx locIndex) ancestors(id int64) []int64 {
	var out []int64
	l := idx[id]
	for n := 0; l != nil && l.ParentID != 0 && n < maxLocationDepth; n++ {
		out = append(out, l.ParentID)
		l = idx[l.ParentID]
	}
	return out
}

// locOption is a location offered in a select, named by its path.
type locOption struct {
	ID   int64
	Path string
	Kind ipdesk.LocationKind
}

// options returns the locations of idx that keep passes (all when keep
// is nil) as choices sorted by path.
func (idx locIndex) options(keep func(*ipdesk.Location) bool) []locOption {
	out := make([]locOption, 0, len(idx))
	for id, l := range idx {
		if keep == nil || keep(l) {
			out = append(out, locOption{ID: id, Path: idx.path(id), Kind: l.Kind})
		}
	}
	slices.SortFunc(out, func(a, b locOption) int {
		if c := strings.Compare(strings.ToLower(a.Path), strings.ToLower(b.Path)); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out
}

// visibleLocations returns every location the actor of ctx may see.
func (s *Server) visibleLocations(ctx context.Context) (locIndex, error) {
	under, err := s.locationScope(ctx)
	if err != nil {
		return nil, err
	}
	idx := locIndex{}
	for off := 0; ; off += ipdesk.MaxLimit {
		locs, total, err := s.store.FindLocations(ctx, ipdesk.LocationFilter{Under: under, Page: ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}})
		if err != nil {
			return nil, err
		}
		for _, l := range locs {
			idx[l.ID] = l
		}
		if off+ipdesk.MaxLimit >= total {
			return idx, nil
		}
	}
}

// completeLocations adds to idx the locations ids and their parents that
// it lacks, with one query per level of the tree. They name the rooms of
// hosts the user may see, whose rooms may be outside the user's
// locations: a host's room is shown as part of the host.
func (s *Server) completeLocations(ctx context.Context, idx locIndex, ids []int64) error {
	tried := map[int64]bool{}
	for depth := 0; depth < maxLocationDepth; depth++ {
		var missing []int64
		for _, id := range ids {
			if id != 0 && idx[id] == nil && !tried[id] {
				tried[id] = true
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		var parents []int64
		for len(missing) > 0 {
			batch := missing[:min(len(missing), ipdesk.MaxLimit)]
			missing = missing[len(batch):]
			locs, _, err := s.store.FindLocations(ctx, ipdesk.LocationFilter{IDs: &batch, Page: ipdesk.Page{Limit: ipdesk.MaxLimit}})
			if err != nil {
				return err
			}
			for _, l := range locs {
				idx[l.ID] = l
				parents = append(parents, l.ParentID)
			}
		}
		ids = parents
	}
	return nil
}
