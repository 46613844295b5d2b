package outputs

import (
	"slices"

	"ipdesk"
)

// Scopes returns the scopes of the DHCP outputs of specs, for the store's
// check of new reservations (see ipdesk.ReservationScopes). The error is
// that of Check.
func Scopes(specs []Spec) (ipdesk.ReservationScopes, error) {
	ts, err := expand(specs)
	if err != nil {
		return nil, err
	}
	var out dhcpScopes
	for _, t := range ts {
		if isDHCP(t.Kind) {
			out = append(out, t)
		}
	}
	return out, nil
}

// dhcpScopes are the DHCP outputs, in config order.
type dhcpScopes []*target

// SharedOutput implements ipdesk.ReservationScopes.
func (ds dhcpScopes) SharedOutput(x, y ipdesk.ReservationSite) string {
	for _, t := range ds {
		if t.carries(x) && t.carries(y) {
			return t.Name
		}
	}
	return ""
}

// carries tells whether a reservation at site is in the scope and the
// address family of t.
func (t *target) carries(site ipdesk.ReservationSite) bool {
	if !wantsFamily(t.Kind, site.Addr) {
		return false
	}
	if t.scope.spaces != nil && !slices.Contains(t.scope.spaces, site.SpaceName) {
		return false
	}
	if t.scope.prefixes == nil {
		return true
	}
	for _, p := range t.scope.prefixes {
		if p.Contains(site.Addr.Unmap()) {
			return true
		}
	}
	return false
}

// ReservationScopes returns the scopes of the service's DHCP outputs.
func (s *Service) ReservationScopes() ipdesk.ReservationScopes {
	var out dhcpScopes
	for _, t := range s.targets {
		if isDHCP(t.Kind) {
			out = append(out, t)
		}
	}
	return out
}
