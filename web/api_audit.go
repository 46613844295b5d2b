package web

import (
	"context"
	"net/http"

	"ipdesk"
)

func (s *Server) listAuditEntries(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.AuditFilter{
		Actor:      p.str("actor"),
		ObjectType: p.enum("object_type"),
		ObjectID:   p.int64("object_id"),
		Since:      p.time("since"),
		Until:      p.time("until"),
		Page:       p.page,
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "until", "until %s is not after since %s", f.Until.Format("2006-01-02T15:04:05Z07:00"), f.Since.Format("2006-01-02T15:04:05Z07:00"))
	}
	if err := s.mayReadAudit(r.Context(), f); err != nil {
		return err
	}
	entries, n, err := s.store.FindAuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, entries)
	return nil
}

// mayReadAudit checks that the actor of ctx may read the audit entries f
// selects: the whole log is for administrators and groups that see
// everything; others may read the history of one object they may see.
func (s *Server) mayReadAudit(ctx context.Context, f ipdesk.AuditFilter) error {
	p, err := s.permissions(ctx)
	if err != nil {
		return err
	}
	if p.Admin || p.ViewAll {
		return nil
	}
	if f.ObjectType != nil && f.ObjectID != nil {
		switch *f.ObjectType {
		case ipdesk.ObjectSpace, ipdesk.ObjectPrefix, ipdesk.ObjectAddress, ipdesk.ObjectLocation:
			return s.authorize(ctx, actRead, object{Type: *f.ObjectType, ID: *f.ObjectID})
		}
	}
	return forbidden(ipdesk.ActorFromContext(ctx), actRead, "the whole audit log; ask for the history of one object (object_type and object_id) you may see")
}
