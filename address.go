package ipdesk

import (
	"context"
	"net/netip"
)

// AddressStatus is the state of an address record.
type AddressStatus string

// Address statuses.
const (
	StatusActive     AddressStatus = "active"     // in use by a host
	StatusReserved   AddressStatus = "reserved"   // kept free for a purpose
	StatusDeprecated AddressStatus = "deprecated" // being retired
)

// Address is one used address in a subnet together with the host that has
// it. Only addresses that carry data are stored (IPplan's sparse table).
type Address struct {
	ID       int64         `json:"id"`
	SpaceID  int64         `json:"space_id"`
	PrefixID int64         `json:"prefix_id"`
	Addr     netip.Addr    `json:"address"`
	Status   AddressStatus `json:"status"`
	MAC      MAC           `json:"mac"`
	Hostname string        `json:"hostname"`
	// Description, Owner and Phone are free text.
	Description string `json:"description"`
	Owner       string `json:"owner"`
	Phone       string `json:"phone"`
	// LocationID is the room (or other location) of the host, 0 when unknown.
	LocationID int64 `json:"location_id"`
	// AccessLevel is the host's internet access level (see AccessLevel).
	AccessLevel int `json:"access_level"`
	// DHCPReservation tells whether the MAC ↔ address binding is written
	// to the DHCP servers' reservations.
	DHCPReservation bool  `json:"dhcp_reservation"`
	Version         int64 `json:"version"`
	Timestamps
}

// Validate checks the fields of a that need no stored data and fills in
// defaults.
func (a *Address) Validate() error {
	if !a.Addr.IsValid() {
		return FieldErrorf(EINVALID, "address", "address is required")
	}
	if a.Addr.Zone() != "" {
		return FieldErrorf(EINVALID, "address", "address %q has a zone, which stored addresses cannot have", a.Addr)
	}
	a.Addr = a.Addr.Unmap()
	switch a.Status {
	case StatusActive, StatusReserved, StatusDeprecated:
	case "":
		a.Status = StatusActive
	default:
		return FieldErrorf(EINVALID, "status", "status %q is not one of active, reserved, deprecated", clip(string(a.Status)))
	}
	if err := ValidateHostname(a.Hostname); err != nil {
		return err
	}
	if err := ValidateText("description", a.Description, MaxDescriptionLen); err != nil {
		return err
	}
	if err := ValidateText("owner", a.Owner, MaxOwnerLen); err != nil {
		return err
	}
	if err := ValidatePhone("phone", a.Phone); err != nil {
		return err
	}
	if a.AccessLevel < 0 || a.AccessLevel > MaxAccessLevel {
		return FieldErrorf(EINVALID, "access_level", "access_level %d is outside 0..%d", a.AccessLevel, MaxAccessLevel)
	}
	if a.DHCPReservation && a.MAC.IsZero() {
		return FieldErrorf(EINVALID, "mac", "a DHCP reservation needs a MAC address")
	}
	if a.DHCPReservation && a.MAC.IsMulticast() {
		return FieldErrorf(EINVALID, "mac", "mac %s is a multicast or broadcast address, which no DHCP client has; a DHCP reservation needs the MAC of a network card", a.MAC)
	}
	return nil
}

// AddressFilter selects addresses. Nil fields do not filter.
type AddressFilter struct {
	ID          *int64
	SpaceID     *int64
	PrefixID    *int64
	LocationID  *int64
	AccessLevel *int
	Addr        *netip.Addr
	MAC         *MAC
	Hostname    *string // exact, case-insensitive
	DHCP        *bool   // DHCP reservation on or off
	// Within selects the addresses inside a prefix.
	Within *netip.Prefix
	// Scope, if set, keeps only the addresses inside it: what the user
	// may see.
	Scope *Scope
	// Query matches the IP (or its beginning), a MAC in any accepted form,
	// and substrings of the hostname, owner, phone and description.
	Query string
	// Sort is a field name (address, hostname, mac, owner, updated_at),
	// optionally prefixed with "-" for descending order. Default: address.
	Sort string
	Page
}

// AddressUpdate holds the fields to change; nil fields stay as they are.
type AddressUpdate struct {
	Addr            *netip.Addr    `json:"address"`
	Status          *AddressStatus `json:"status"`
	MAC             *MAC           `json:"mac"`
	Hostname        *string        `json:"hostname"`
	Description     *string        `json:"description"`
	Owner           *string        `json:"owner"`
	Phone           *string        `json:"phone"`
	LocationID      *int64         `json:"location_id"`
	AccessLevel     *int           `json:"access_level"`
	DHCPReservation *bool          `json:"dhcp_reservation"`
	Version         *int64         `json:"-"`
}

// Apply copies the set fields of upd into a.
func (upd AddressUpdate) Apply(a *Address) {
	if upd.Addr != nil {
		a.Addr = *upd.Addr
	}
	if upd.Status != nil {
		a.Status = *upd.Status
	}
	if upd.MAC != nil {
		a.MAC = *upd.MAC
	}
	if upd.Hostname != nil {
		a.Hostname = *upd.Hostname
	}
	if upd.Description != nil {
		a.Description = *upd.Description
	}
	if upd.Owner != nil {
		a.Owner = *upd.Owner
	}
	if upd.Phone != nil {
		a.Phone = *upd.Phone
	}
	if upd.LocationID != nil {
		a.LocationID = *upd.LocationID
	}
	if upd.AccessLevel != nil {
		a.AccessLevel = *upd.AccessLevel
	}
	if upd.DHCPReservation != nil {
		a.DHCPReservation = *upd.DHCPReservation
	}
}

// AddressRef names an address record for a change of several at once;
// a Version other than 0 makes the change conditional on the stored
// version (optimistic concurrency).
type AddressRef struct {
	ID      int64
	Version int64
}

// MaxBulk is the number of addresses one UpdateAddresses call may change.
const MaxBulk = MaxLimit

// ImportResult tells what an import did, or, when Problems is not empty,
// why it did nothing.
type ImportResult struct {
	Created  int          `json:"created"`
	Updated  int          `json:"updated"`
	Warnings []RowWarning `json:"warnings,omitempty"`
	Problems []RowError   `json:"problems,omitempty"`
}

// RowError is the problem of one input row; Row counts from 1 in the order
// the rows were given (importers translate it to line numbers).
type RowError struct {
	Row   int    `json:"row"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// RowWarning is a warning about one input row.
type RowWarning struct {
	Row int `json:"row"`
	Warning
}

// AddressService manages addresses and allocates free ones.
type AddressService interface {
	FindAddressByID(ctx context.Context, id int64) (*Address, error)
	FindAddresses(ctx context.Context, f AddressFilter) ([]*Address, int, error)
	// CreateAddress stores a in the subnet of its space that contains it
	// and returns warnings such as a repeated hostname.
	CreateAddress(ctx context.Context, a *Address) ([]Warning, error)
	UpdateAddress(ctx context.Context, id int64, upd AddressUpdate) (*Address, []Warning, error)
	DeleteAddress(ctx context.Context, id int64, opts DeleteOptions) error
	// UpdateAddresses applies upd (which may not set the address) to
	// every record of refs in one transaction: all of them change, or,
	// if one cannot, none; the error names the record.
	UpdateAddresses(ctx context.Context, refs []AddressRef, upd AddressUpdate) ([]*Address, error)
	// SubnetAddresses returns up to limit stored addresses of subnet id,
	// at or after from (the subnet's start when from is invalid), in
	// address order and without counting them all: a walk through a
	// large subnet that costs the same at its end as at its start.
	SubnetAddresses(ctx context.Context, id int64, from netip.Addr, limit int) ([]*Address, error)
	// FirstFreeAddress returns the first address of a subnet, at or after
	// from when from is valid, that has no record and is neither the
	// network, broadcast nor gateway address.
	FirstFreeAddress(ctx context.Context, prefixID int64, from netip.Addr) (netip.Addr, error)
	// AllocateAddress atomically takes the first free address (at or after
	// from) and stores tmpl there. A full subnet gives ECONFLICT.
	AllocateAddress(ctx context.Context, prefixID int64, from netip.Addr, tmpl *Address) ([]Warning, error)
	// ImportAddresses creates or updates (matched by space and address)
	// all rows in one transaction, or, if any row is bad, none.
	ImportAddresses(ctx context.Context, rows []*Address, dryRun bool) (ImportResult, error)
}
