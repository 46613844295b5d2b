package ipdesk

import (
	"context"
	"slices"
	"strings"
)

// Group is a set of users that rights are granted to: users get rights
// only through their groups (IPplan's model), except administrators, who
// may do everything.
type Group struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// CreateSpaces lets the members create address spaces; a space made
	// by a member is granted (edit) to the member's groups that have this
	// flag.
	CreateSpaces bool `json:"create_spaces"`
	// ViewAll lets the members see everything (not change it).
	ViewAll bool `json:"view_all"`
	// Helpdesk lets the members see caller-ID calls as they come in and
	// the call log.
	Helpdesk bool `json:"helpdesk"`
	// Members are the IDs of the users in the group, sorted.
	Members []int64 `json:"members"`
	Version int64   `json:"version"`
	Timestamps
}

// MaxGroupMembers bounds the member list of one group.
const MaxGroupMembers = 10000

// Validate checks the fields of g that need no stored data and sorts its
// members.
func (g *Group) Validate() error {
	if err := ValidateName("name", g.Name); err != nil {
		return err
	}
	if err := ValidateText("description", g.Description, MaxDescriptionLen); err != nil {
		return err
	}
	if len(g.Members) > MaxGroupMembers {
		return FieldErrorf(EINVALID, "members", "%d members given; at most %d are allowed", len(g.Members), MaxGroupMembers)
	}
	slices.Sort(g.Members)
	g.Members = slices.Compact(g.Members)
	for _, id := range g.Members {
		if id <= 0 {
			return FieldErrorf(EINVALID, "members", "member %d is not a user id", id)
		}
	}
	return nil
}

// GroupUpdate holds the fields to change; nil fields stay as they are.
type GroupUpdate struct {
	Name         *string  `json:"name"`
	Description  *string  `json:"description"`
	CreateSpaces *bool    `json:"create_spaces"`
	ViewAll      *bool    `json:"view_all"`
	Helpdesk     *bool    `json:"helpdesk"`
	Members      *[]int64 `json:"members"`
	Version      *int64   `json:"-"`
}

// Apply copies the set fields of upd into g.
func (upd GroupUpdate) Apply(g *Group) {
	if upd.Name != nil {
		g.Name = *upd.Name
	}
	if upd.Description != nil {
		g.Description = *upd.Description
	}
	if upd.CreateSpaces != nil {
		g.CreateSpaces = *upd.CreateSpaces
	}
	if upd.ViewAll != nil {
		g.ViewAll = *upd.ViewAll
	}
	if upd.Helpdesk != nil {
		g.Helpdesk = *upd.Helpdesk
	}
	if upd.Members != nil {
		g.Members = slices.Clone(*upd.Members)
	}
}

// Right is what a grant allows on its object.
type Right string

// Rights, from the least to the most.
const (
	// RightView shows the object and what is inside it.
	RightView Right = "view"
	// RightEdit also allows changing, creating and deleting inside it.
	RightEdit Right = "edit"
	// RightOverride, on a location, lets the members override the
	// timetable of its rooms (the room-override role); it implies view.
	RightOverride Right = "override"
)

// Rights lists the rights a grant may give.
var Rights = []Right{RightView, RightEdit, RightOverride}

// GrantObjects lists the object types rights are granted on.
var GrantObjects = []string{ObjectSpace, ObjectPrefix, ObjectLocation}

// Grant gives a group a right on a space, a prefix or a location, and on
// everything inside it: a space's prefixes and addresses, the prefixes
// and addresses inside a prefix, the buildings and rooms of a site.
type Grant struct {
	ID         int64  `json:"id"`
	GroupID    int64  `json:"group_id"`
	ObjectType string `json:"object_type"`
	ObjectID   int64  `json:"object_id"`
	Right      Right  `json:"right"`
	Timestamps
}

// Validate checks the fields of g that need no stored data.
func (g *Grant) Validate() error {
	if g.GroupID <= 0 {
		return FieldErrorf(EINVALID, "group_id", "group_id is required")
	}
	if !slices.Contains(GrantObjects, g.ObjectType) {
		return FieldErrorf(EINVALID, "object_type", "object_type %q is not one of %s", clip(g.ObjectType), strings.Join(GrantObjects, ", "))
	}
	if g.ObjectID <= 0 {
		return FieldErrorf(EINVALID, "object_id", "object_id is required")
	}
	if !slices.Contains(Rights, g.Right) {
		return FieldErrorf(EINVALID, "right", "right %q is not one of view, edit, override", clip(string(g.Right)))
	}
	if g.Right == RightOverride && g.ObjectType != ObjectLocation {
		return FieldErrorf(EINVALID, "right", "right override is granted on locations (rooms, or buildings and sites for all their rooms), not on a %s", g.ObjectType)
	}
	return nil
}

// GrantFilter selects grants. Nil fields do not filter.
type GrantFilter struct {
	GroupID    *int64
	ObjectType *string
	ObjectID   *int64
	Page
}

// GroupService manages groups, their members and their grants.
type GroupService interface {
	FindGroupByID(ctx context.Context, id int64) (*Group, error)
	FindGroups(ctx context.Context, p Page) ([]*Group, int, error)
	// FindUserGroups returns the groups user userID is a member of.
	FindUserGroups(ctx context.Context, userID int64) ([]*Group, error)
	CreateGroup(ctx context.Context, g *Group) error
	UpdateGroup(ctx context.Context, id int64, upd GroupUpdate) (*Group, error)
	// DeleteGroup removes a group with its grants.
	DeleteGroup(ctx context.Context, id int64, opts DeleteOptions) error

	FindGrants(ctx context.Context, f GrantFilter) ([]*Grant, int, error)
	// CreateGrant stores g; a grant of the same group on the same object
	// is replaced (a group has one right per object).
	CreateGrant(ctx context.Context, g *Grant) error
	DeleteGrant(ctx context.Context, id int64) error

	// FindPermissions returns what user u may do, from its groups and
	// their grants, read in one consistent view.
	FindPermissions(ctx context.Context, u *User) (*Permissions, error)
}
