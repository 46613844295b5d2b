package ipdesk

import (
	"context"
	"encoding/json"
	"time"
)

// Audit actions.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
)

// Object types named in the audit log.
const (
	ObjectSpace       = "space"
	ObjectPrefix      = "prefix"
	ObjectAddress     = "address"
	ObjectLocation    = "location"
	ObjectAccessLevel = "access_level"
	ObjectUser        = "user"
	ObjectToken       = "token"
	ObjectGroup       = "group"
	ObjectGrant       = "grant"
	// The timetable (see timetable.go).
	ObjectPeriod      = "period"
	ObjectHoliday     = "holiday"
	ObjectLesson      = "lesson"
	ObjectOverride    = "override"
	ObjectNowOverride = "now_override"
	ObjectRoomPolicy  = "room_policy"
	ObjectCall        = "call"
)

// AuditEntry records one change: who made it, when, to what, and the object
// before and after (JSON; null for a create's before and a delete's after).
// It is written in the same transaction as the change.
type AuditEntry struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   int64           `json:"object_id"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
}

// AuditFilter selects audit entries, newest first. Nil fields do not filter.
type AuditFilter struct {
	Actor      *string
	ObjectType *string
	ObjectID   *int64
	Since      *time.Time
	Until      *time.Time
	Page
}

// AuditService reads the audit log; entries are written by the other
// services.
type AuditService interface {
	FindAuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, int, error)
}
