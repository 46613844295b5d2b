package web

import (
	"net/http"
	"strconv"
)

// getOpenAPI serves the OpenAPI document built from the route table.
func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.openAPI()
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
	return nil
}
