package web

// Ending the live streams of a user at once when the user is disabled or
// a session ends; what the stream of GET /api/v1/events carries is in
// api_events.go.

import (
	"context"
	"strconv"
)

// Labels of the live streams, by which endStreams ends them.
func userStreams(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

func userSessionStreams(id int64) string { return "user-sessions:" + strconv.FormatInt(id, 10) }

func sessionStream(id int64) string { return "session:" + strconv.FormatInt(id, 10) }

// streamLabels returns the labels of a stream opened with st: those of
// its session, if it has one.
func streamLabels(st *authState) []string {
	if st == nil || st.session == nil {
		return nil
	}
	return []string{userSessionStreams(st.user.ID), sessionStream(st.session.ID)}
}

// endStreams ends at once the open streams labelled label, but those
// labelled keep ("" keeps none): the streams of a disabled user, of an
// ended session, of the sessions a password change ends.
func (s *Server) endStreams(label, keep string) {
	if s.events != nil {
		s.events.End(label, keep)
	}
}

// deleteUserSessions ends the sessions of user id but keep (0: all), and
// their open streams.
func (s *Server) deleteUserSessions(ctx context.Context, id, keep int64) error {
	if err := s.store.DeleteUserSessions(ctx, id, keep); err != nil {
		return err
	}
	k := ""
	if keep != 0 {
		k = sessionStream(keep)
	}
	s.endStreams(userSessionStreams(id), k)
	return nil
}

// userChanged ends the streams of a user who was just disabled.
func (s *Server) userChanged(id int64, disabled bool) {
	if disabled {
		s.endStreams(userStreams(id), "")
	}
}
