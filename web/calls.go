package web

// The call log as the API and the pages read it: narrowed to what the
// user may see (see callViewer).

import (
	"context"
	"strings"

	"ipdesk"
)

// findCalls returns the calls of f as the actor of ctx may see them, and
// their total. The store searches every match of a call; for a user who
// may not see every host, a search must not find a call by a host the
// user may not see, so the calls the store finds are searched again as
// the user sees them, and paged here.
func (s *Server) findCalls(ctx context.Context, f ipdesk.CallFilter) ([]*ipdesk.Call, int, error) {
	v, err := s.callViewer(ctx)
	if err != nil {
		return nil, 0, err
	}
	q := strings.ToLower(strings.TrimSpace(f.Query))
	if v == nil || q == "" {
		calls, n, err := s.store.FindCalls(ctx, f)
		for i, c := range calls {
			calls[i] = v.call(c)
		}
		return calls, n, err
	}
	page := f.Page.Normalize()
	f.Page = ipdesk.Page{Limit: ipdesk.MaxLimit}
	var out []*ipdesk.Call
	total := 0
	for {
		calls, n, err := s.store.FindCalls(ctx, f)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range calls {
			c = v.call(c)
			if !strings.Contains(c.SearchText(), q) {
				continue
			}
			if total >= page.Offset && len(out) < page.Limit {
				out = append(out, c)
			}
			total++
		}
		f.Offset += len(calls)
		if len(calls) == 0 || f.Offset >= n {
			return out, total, nil
		}
	}
}

// findCallByID returns the call id as the actor of ctx may see it.
func (s *Server) findCallByID(ctx context.Context, id int64) (*ipdesk.Call, error) {
	v, err := s.callViewer(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.store.FindCallByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return v.call(c), nil
}
