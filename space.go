package ipdesk

import "context"

// Space is an independent address space (a customer, a VRF, a site's
// network). Prefixes may not overlap inside one space; they may overlap
// across spaces, which is reported as a warning.
type Space struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     int64  `json:"version"`
	Timestamps
}

// Validate checks the fields of s that need no stored data.
func (s *Space) Validate() error {
	if err := ValidateName("name", s.Name); err != nil {
		return err
	}
	return ValidateText("description", s.Description, MaxDescriptionLen)
}

// SpaceFilter selects spaces. Nil fields do not filter.
type SpaceFilter struct {
	ID   *int64
	Name *string
	// Scope, if set, keeps only the spaces it reaches into: what the user
	// may know of.
	Scope *Scope
	Page
}

// SpaceUpdate holds the fields to change; nil fields stay as they are.
// A non-nil Version makes the update conditional on the stored version.
type SpaceUpdate struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Version     *int64  `json:"-"`
}

// SpaceService manages spaces.
type SpaceService interface {
	FindSpaceByID(ctx context.Context, id int64) (*Space, error)
	FindSpaces(ctx context.Context, f SpaceFilter) ([]*Space, int, error)
	CreateSpace(ctx context.Context, s *Space) error
	UpdateSpace(ctx context.Context, id int64, upd SpaceUpdate) (*Space, error)
	// DeleteSpace removes an empty space; with Cascade it removes its
	// prefixes and addresses too.
	DeleteSpace(ctx context.Context, id int64, opts DeleteOptions) error
}
