package web

import (
	"net/http"

	"ipdesk"
	"ipdesk/i18n"
)

// errorText returns err's message in the language of r: the message's
// English format is its key in the catalogue's error texts. Errors that are
// not an *ipdesk.Error are internal and get a generic text.
func (s *Server) errorText(r *http.Request, err error) string {
	return localError(s.catalog(r), err)
}

// localError returns err's message in cat's language.
func localError(cat *i18n.Catalog, err error) string {
	e := ipdesk.AsError(err)
	if e == nil {
		return ipdesk.ErrorMessage(err)
	}
	return localMessage(cat, e)
}

// localMessage translates e, and the errors among its arguments.
func localMessage(cat *i18n.Catalog, e *ipdesk.Error) string {
	if e.Format == "" {
		return e.Message
	}
	args := e.Args
	for i, a := range e.Args {
		if inner, ok := a.(*ipdesk.Error); ok && inner != nil {
			if &args[0] == &e.Args[0] {
				args = append([]any(nil), e.Args...)
			}
			args[i] = localMessage(cat, inner)
		}
	}
	return cat.Errorf(e.Format, args...)
}
