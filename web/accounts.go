package web

// The account actions that the API and the pages share: changing one's
// own password, the guard against locking oneself out, a new token's
// answer.

import (
	"context"

	"ipdesk"
)

// tokenResult answers POST /api/v1/me/tokens: the secret, shown once.
type tokenResult struct {
	*ipdesk.Token
	Secret string `json:"secret"`
}

// changePassword checks the current password of the actor of ctx, sets
// the new one and ends the user's other sessions (all of them for a
// request with an API token).
func (s *Server) changePassword(ctx context.Context, current, next string) error {
	me := ipdesk.ActorFromContext(ctx)
	if _, err := s.store.Authenticate(ctx, me.Name, current); err != nil {
		if ipdesk.ErrorCode(err) == ipdesk.EUNAUTHORIZED {
			return ipdesk.FieldErrorf(ipdesk.EINVALID, "current", "the current password is wrong")
		}
		return err
	}
	if err := s.store.SetPassword(ctx, me.ID, next); err != nil {
		if ipdesk.ErrorField(err) == "password" {
			return ipdesk.WithField(err, ipdesk.EINVALID, "new")
		}
		return err
	}
	var keep int64
	if st := authOf(ctx); st != nil && st.session != nil {
		keep = st.session.ID
	}
	return s.deleteUserSessions(ctx, me.ID, keep)
}

// checkSelfUpdate refuses a change by which the actor of ctx would take
// away their own administrator right or disable themselves: another
// administrator can, so that one always remains.
func checkSelfUpdate(ctx context.Context, id int64, upd ipdesk.UserUpdate) error {
	me := ipdesk.ActorFromContext(ctx)
	if me != nil && id == me.ID && ((upd.Admin != nil && !*upd.Admin) || (upd.Disabled != nil && *upd.Disabled)) {
		return ipdesk.Errorf(ipdesk.ECONFLICT, "you cannot take away your own administrator right or disable yourself; another administrator can")
	}
	return nil
}
