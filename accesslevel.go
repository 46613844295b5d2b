package ipdesk

import "context"

// MaxAccessLevel is the highest internet access level number.
const MaxAccessLevel = 99

// AccessLevel is a named internet access level. Hosts at level 0 reach
// nothing; the proxy's ACL lists are written per level.
type AccessLevel struct {
	Level       int    `json:"level"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     int64  `json:"version"`
	Timestamps
}

// DefaultAccessLevels are created with a new database.
var DefaultAccessLevels = []AccessLevel{
	{Level: 0, Name: "none", Description: "no internet access"},
	{Level: 1, Name: "restricted", Description: "allowed sites only"},
	{Level: 2, Name: "standard", Description: "the web, filtered"},
	{Level: 3, Name: "full", Description: "unrestricted internet access"},
}

// Validate checks the fields of l.
func (l *AccessLevel) Validate() error {
	if l.Level < 0 || l.Level > MaxAccessLevel {
		return FieldErrorf(EINVALID, "level", "level %d is outside 0..%d", l.Level, MaxAccessLevel)
	}
	if err := ValidateName("name", l.Name); err != nil {
		return err
	}
	return ValidateText("description", l.Description, MaxDescriptionLen)
}

// AccessLevelUpdate holds the fields to change; nil fields stay as they are.
type AccessLevelUpdate struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Version     *int64  `json:"-"`
}

// AccessLevelService manages access levels.
type AccessLevelService interface {
	FindAccessLevel(ctx context.Context, level int) (*AccessLevel, error)
	FindAccessLevels(ctx context.Context) ([]*AccessLevel, error)
	CreateAccessLevel(ctx context.Context, l *AccessLevel) error
	UpdateAccessLevel(ctx context.Context, level int, upd AccessLevelUpdate) (*AccessLevel, error)
	// DeleteAccessLevel removes a level no address uses.
	DeleteAccessLevel(ctx context.Context, level int, opts DeleteOptions) error
}
