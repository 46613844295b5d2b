package web

import (
	"context"
	"net/http"
	"strings"

	"ipdesk"
)

// action is what a request does, as far as rights are concerned.
type action int

const (
	actPublic   action = iota // no credentials needed
	actRead                   // look at objects
	actWrite                  // create, change or delete objects
	actHelpdesk               // see and handle caller-ID calls: the helpdesk role
	actOverride               // override the timetable of the room obj.ID: the room-override right
)

func (a action) String() string {
	switch a {
	case actRead:
		return "read"
	case actWrite:
		return "write"
	case actHelpdesk:
		return "helpdesk"
	case actOverride:
		return "override"
	}
	return "public"
}

// object names what a request acts on: an audit object type such as
// ipdesk.ObjectPrefix, and the object's id when the request names one.
type object struct {
	Type string
	ID   int64
}

// maxTokenLen bounds the bearer token looked up in the store.
const maxTokenLen = 512

// authenticate returns the user of the request's bearer token. A missing,
// malformed or unknown token gives EUNAUTHORIZED.
func (s *Server) authenticate(r *http.Request) (*ipdesk.User, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "authentication required: send the header \"Authorization: Bearer <token>\"")
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the Authorization header must have the form \"Bearer <token>\"")
	}
	if len(token) > maxTokenLen {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the bearer token is not valid")
	}
	u, err := s.store.FindUserByToken(r.Context(), token)
	if err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.EUNAUTHORIZED {
			return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the bearer token is not valid")
		}
		return nil, err
	}
	if u.Disabled {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the bearer token is not valid")
	}
	return u, nil
}

// authorize decides whether the actor of ctx may do act to obj. It is the
// one place where rights are decided: today every authenticated user may
// read and administrators may write; group grants will be checked here.
func (s *Server) authorize(ctx context.Context, act action, obj object) error {
	if act == actPublic {
		return nil
	}
	u := ipdesk.ActorFromContext(ctx)
	if u == nil {
		return ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "authentication required")
	}
	switch {
	case u.Disabled:
		return ipdesk.Errorf(ipdesk.EFORBIDDEN, "user %q is disabled", u.Name)
	case act == actRead, u.Admin:
		return nil
	}
	return ipdesk.Errorf(ipdesk.EFORBIDDEN, "user %q may read but not change %s objects; changes need an administrator", u.Name, obj.Type)
}
