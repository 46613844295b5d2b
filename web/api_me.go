package web

import (
	"net/http"

	"ipdesk"
)

// getMe answers with the calling user.
func (s *Server) getMe(w http.ResponseWriter, r *http.Request) error {
	u := ipdesk.ActorFromContext(r.Context())
	if u == nil {
		return ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "authentication required")
	}
	writeObject(w, r, http.StatusOK, u.Version, u)
	return nil
}
