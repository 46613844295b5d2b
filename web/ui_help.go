package web

import (
	"net/http"
	"time"

	"ipdesk"
	"ipdesk/i18n"
)

// helpData is the data of the help page: the figures the text tells are
// taken from the code, so that it stays true to it.
type helpData struct {
	page
	MinPassword     int
	SessionIdle     string
	SessionAbsolute string
	FreeFailures    int
	MaxLoginDelay   string
	LoginForget     string
	MaxTokens       int
	MaxLevel        int
	DefaultLevels   []ipdesk.AccessLevel
}

// helpPage shows the user documentation in the user's language.
func (s *Server) helpPage(w http.ResponseWriter, r *http.Request) error {
	cat := s.catalog(r)
	d := helpData{
		page:            s.base(w, r, cat.T("help.title"), "help"),
		MinPassword:     ipdesk.MinPasswordLen,
		SessionIdle:     spell(cat, s.sessionLimits.Idle),
		SessionAbsolute: spell(cat, s.sessionLimits.Absolute),
		FreeFailures:    loginFreeFailures,
		MaxLoginDelay:   spell(cat, loginMaxDelay),
		LoginForget:     spell(cat, loginForget),
		MaxTokens:       ipdesk.MaxTokensPerUser,
		MaxLevel:        ipdesk.MaxAccessLevel,
		DefaultLevels:   ipdesk.DefaultAccessLevels,
	}
	s.render(w, r, http.StatusOK, "help", d)
	return nil
}

// spell tells a duration in whole hours, or else whole minutes, in the
// catalogue's language.
func spell(c *i18n.Catalog, d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		return c.Plural("help.hours", int(d/time.Hour))
	}
	return c.Plural("help.minutes", int(d/time.Minute))
}
