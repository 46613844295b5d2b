package web

// pageRoutes returns the pages of the UI besides the sign-in and the
// start page. Each area of the UI lists its pages in a function of its
// own file.
func (s *Server) pageRoutes() []pageRoute {
	var out []pageRoute
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
