package web

// pageRoutes returns the pages of the UI besides the sign-in: the start
// page, and those that each area of the UI lists in a function of its own
// file.
func (s *Server) pageRoutes() []pageRoute {
	out := []pageRoute{{pattern: "GET /{$}", act: actRead, object: objectMe, h: s.dashboard}}
	for _, area := range []func() []pageRoute{
		s.adminPages,
		s.hostPages,
		s.locationPages,
		s.planPages,
		s.roomsPages,
		s.callPages,
		s.leasePages,
	} {
		out = append(out, area()...)
	}
	return out
}
