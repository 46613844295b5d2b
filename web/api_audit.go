package web

import (
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
