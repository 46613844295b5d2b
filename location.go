package ipdesk

import "context"

// LocationKind is the level of a location in the site → building → room tree.
type LocationKind string

// Location kinds, from the outside in.
const (
	LocationSite     LocationKind = "site"
	LocationBuilding LocationKind = "building"
	LocationRoom     LocationKind = "room"
)

// rank orders kinds from the outside in.
func (k LocationKind) rank() int {
	switch k {
	case LocationSite:
		return 1
	case LocationBuilding:
		return 2
	case LocationRoom:
		return 3
	}
	return 0
}

// CanContain reports whether a location of kind k may be the parent of one
// of kind child.
func (k LocationKind) CanContain(child LocationKind) bool {
	return k.rank() > 0 && child.rank() > k.rank()
}

// Location is a site, a building or a room.
type Location struct {
	ID       int64        `json:"id"`
	ParentID int64        `json:"parent_id"`
	Kind     LocationKind `json:"kind"`
	Name     string       `json:"name"`
	// Phones are the room's phone numbers (caller-ID matches them).
	Phones []string `json:"phones"`
	// HostnamePattern names the room's computers for proxies that match on
	// names, e.g. "z303c" for z303c1 … z303c20.
	HostnamePattern string `json:"hostname_pattern"`
	Description     string `json:"description"`
	Version         int64  `json:"version"`
	Timestamps
}

// MaxPhones is the number of phone numbers a location may have.
const MaxPhones = 20

// Validate checks the fields of l that need no stored data.
func (l *Location) Validate() error {
	if l.Kind.rank() == 0 {
		return FieldErrorf(EINVALID, "kind", "kind %q is not one of site, building, room", clip(string(l.Kind)))
	}
	if err := ValidateName("name", l.Name); err != nil {
		return err
	}
	if len(l.Phones) > MaxPhones {
		return FieldErrorf(EINVALID, "phones", "%d phone numbers given; at most %d are allowed", len(l.Phones), MaxPhones)
	}
	for _, p := range l.Phones {
		if err := ValidatePhone("phones", p); err != nil {
			return err
		}
	}
	if l.HostnamePattern != "" {
		if err := ValidateHostname(l.HostnamePattern); err != nil {
			return FieldErrorf(EINVALID, "hostname_pattern", "hostname_pattern %q: %s", clip(l.HostnamePattern), AsError(err))
		}
	}
	return ValidateText("description", l.Description, MaxDescriptionLen)
}

// LocationFilter selects locations. Nil fields do not filter.
type LocationFilter struct {
	ID *int64
	// IDs, if set, keeps only these locations (a batch lookup).
	IDs      *[]int64
	ParentID *int64 // 0 selects the top level
	Kind     *LocationKind
	Name     *string
	Query    string
	// Under, if set, keeps only these locations and the ones inside them:
	// what the user may see.
	Under *[]int64
	Page
}

// LocationUpdate holds the fields to change; nil fields stay as they are.
type LocationUpdate struct {
	ParentID        *int64    `json:"parent_id"`
	Name            *string   `json:"name"`
	Phones          *[]string `json:"phones"`
	HostnamePattern *string   `json:"hostname_pattern"`
	Description     *string   `json:"description"`
	Version         *int64    `json:"-"`
}

// LocationService manages locations.
type LocationService interface {
	FindLocationByID(ctx context.Context, id int64) (*Location, error)
	FindLocations(ctx context.Context, f LocationFilter) ([]*Location, int, error)
	CreateLocation(ctx context.Context, l *Location) error
	UpdateLocation(ctx context.Context, id int64, upd LocationUpdate) (*Location, error)
	// DeleteLocation removes a location without children; hosts in it
	// keep their records with no location.
	DeleteLocation(ctx context.Context, id int64, opts DeleteOptions) error
}
