package ipdesk

import (
	"net/netip"
	"slices"
)

// Permissions is what one user may do: the union of the rights of the
// user's groups (a flag of one group counts for all, as in IPplan). It is
// computed by GroupService.FindPermissions and consulted by the one
// authorization layer of the web package; its methods are pure.
type Permissions struct {
	UserID int64
	// Admin may do everything, including managing users, groups and
	// grants, access levels and the config outputs.
	Admin bool
	// ViewAll sees everything; CreateSpaces may create address spaces;
	// Helpdesk sees the caller-ID calls.
	ViewAll      bool
	CreateSpaces bool
	Helpdesk     bool
	// GroupIDs are the user's groups, sorted.
	GroupIDs []int64
	// Spaces, Prefixes and Locations are the granted rights; a right on
	// an object covers everything inside it.
	Spaces    map[int64]Right
	Prefixes  []PrefixRight
	Locations map[int64]Right
}

// PrefixRight is a right granted on a prefix of a space.
type PrefixRight struct {
	SpaceID int64
	Prefix  netip.Prefix
	Right   Right
}

// rank orders rights: no right, view, override (a location's timetable),
// edit (which includes override).
func rank(r Right) int {
	switch r {
	case RightView:
		return 1
	case RightOverride:
		return 2
	case RightEdit:
		return 3
	}
	return 0
}

// Allows reports whether having right r allows what want needs.
func (r Right) Allows(want Right) bool {
	return rank(want) > 0 && rank(r) >= rank(want)
}

// max returns the greater of two rights.
func maxRight(a, b Right) Right {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// all reports whether p covers everything for want: administrators
// always, view-all users for viewing.
func (p *Permissions) all(want Right) bool {
	return p.Admin || (p.ViewAll && want == RightView)
}

// SpaceRight returns the right granted on the space as a whole.
func (p *Permissions) SpaceRight(spaceID int64) Right {
	if p.Admin {
		return RightEdit
	}
	r := p.Spaces[spaceID]
	if p.ViewAll {
		r = maxRight(r, RightView)
	}
	return r
}

// CanSpace reports whether p may do want to the space as a whole (rename
// it, delete it, see all of it).
func (p *Permissions) CanSpace(spaceID int64, want Right) bool {
	return p.SpaceRight(spaceID).Allows(want)
}

// KnowsSpace reports whether the space is visible to p at all: with a
// right on the space or on a prefix in it.
func (p *Permissions) KnowsSpace(spaceID int64) bool {
	if p.CanSpace(spaceID, RightView) {
		return true
	}
	for _, g := range p.Prefixes {
		if g.SpaceID == spaceID {
			return true
		}
	}
	return false
}

// PrefixRightOf returns p's right on a prefix of a space: the right on the
// space, or on the prefix or a prefix that contains it.
func (p *Permissions) PrefixRightOf(spaceID int64, prefix netip.Prefix) Right {
	r := p.SpaceRight(spaceID)
	for _, g := range p.Prefixes {
		if g.SpaceID == spaceID && g.Prefix.Bits() <= prefix.Bits() && g.Prefix.Contains(prefix.Addr()) {
			r = maxRight(r, g.Right)
		}
	}
	return r
}

// CanPrefix reports whether p may do want to the prefix and what is in it.
func (p *Permissions) CanPrefix(spaceID int64, prefix netip.Prefix, want Right) bool {
	return p.PrefixRightOf(spaceID, prefix).Allows(want)
}

// AddressRightOf returns p's right on an address of a space: the right on
// the space or on a prefix that contains the address.
func (p *Permissions) AddressRightOf(spaceID int64, addr netip.Addr) Right {
	r := p.SpaceRight(spaceID)
	for _, g := range p.Prefixes {
		if g.SpaceID == spaceID && g.Prefix.Contains(addr) {
			r = maxRight(r, g.Right)
		}
	}
	return r
}

// CanAddress reports whether p may do want to the address record at addr
// in the space.
func (p *Permissions) CanAddress(spaceID int64, addr netip.Addr, want Right) bool {
	return p.AddressRightOf(spaceID, addr).Allows(want)
}

// LocationRightOf returns p's right on a location whose ancestors (parent
// first) are given: the best right on it or on one of them.
func (p *Permissions) LocationRightOf(id int64, ancestors []int64) Right {
	if p.Admin {
		return RightEdit
	}
	r := p.Locations[id]
	for _, a := range ancestors {
		r = maxRight(r, p.Locations[a])
	}
	if p.ViewAll {
		r = maxRight(r, RightView)
	}
	return r
}

// CanLocation reports whether p may do want to the location (and, for
// RightOverride, to the timetable of its rooms).
func (p *Permissions) CanLocation(id int64, ancestors []int64, want Right) bool {
	return p.LocationRightOf(id, ancestors).Allows(want)
}

// Scope is the part of the address plan a user may see, for filtering
// lists in the database: everything, or whole spaces and prefixes inside
// spaces.
type Scope struct {
	All      bool
	Spaces   []int64
	Prefixes []PrefixRight
}

// Empty reports whether the scope covers nothing.
func (s Scope) Empty() bool { return !s.All && len(s.Spaces) == 0 && len(s.Prefixes) == 0 }

// ScopeFor returns the part of the address plan where p has at least
// want, with prefixes that lie inside a space of the scope left out.
func (p *Permissions) ScopeFor(want Right) Scope {
	if p.all(want) {
		return Scope{All: true}
	}
	var s Scope
	for id, r := range p.Spaces {
		if r.Allows(want) {
			s.Spaces = append(s.Spaces, id)
		}
	}
	slices.Sort(s.Spaces)
	for _, g := range p.Prefixes {
		if g.Right.Allows(want) && !slices.Contains(s.Spaces, g.SpaceID) {
			s.Prefixes = append(s.Prefixes, g)
		}
	}
	return s
}

// LocationScope returns the locations where p has at least want: nil
// with all true for every location, else the granted ones, whose
// descendants count too.
func (p *Permissions) LocationScope(want Right) (roots []int64, all bool) {
	if p.all(want) {
		return nil, true
	}
	for id, r := range p.Locations {
		if r.Allows(want) {
			roots = append(roots, id)
		}
	}
	slices.Sort(roots)
	return roots, false
}

// KnownSpaces returns the spaces visible to p, sorted; all is true when
// every space is.
func (p *Permissions) KnownSpaces() (ids []int64, all bool) {
	if p.all(RightView) {
		return nil, true
	}
	for id, r := range p.Spaces {
		if r.Allows(RightView) {
			ids = append(ids, id)
		}
	}
	for _, g := range p.Prefixes {
		ids = append(ids, g.SpaceID)
	}
	slices.Sort(ids)
	return slices.Compact(ids), false
}
