package ipdesk

import (
	"context"
	"math"
	"math/big"
	"net/netip"
)

// PrefixKind tells whether a prefix holds other prefixes or addresses.
type PrefixKind string

// Prefix kinds.
const (
	// PrefixContainer holds other prefixes (IPplan's area and range).
	PrefixContainer PrefixKind = "container"
	// PrefixSubnet is an assignable subnet that holds addresses. Subnets
	// are leaves: they contain no other prefix and overlap no other subnet
	// of their space.
	PrefixSubnet PrefixKind = "subnet"
)

// Prefix is a CIDR prefix in a space. Nesting is computed from containment:
// ParentID is the smallest prefix of the space that contains it.
type Prefix struct {
	ID          int64        `json:"id"`
	SpaceID     int64        `json:"space_id"`
	Prefix      netip.Prefix `json:"prefix"`
	Kind        PrefixKind   `json:"kind"`
	Description string       `json:"description"`
	// Gateway is the subnet's router address; zero when none.
	Gateway netip.Addr `json:"gateway"`
	// DHCP tells whether the subnet is served by the DHCP server.
	DHCP bool `json:"dhcp"`
	// VLAN is the 802.1Q VLAN id, 0 when none.
	VLAN     int   `json:"vlan"`
	ParentID int64 `json:"parent_id"`
	Version  int64 `json:"version"`
	Timestamps
}

// Validate checks the fields of p that need no stored data and masks the
// prefix. A prefix given with host bits set ("10.1.2.3/24") is refused
// rather than silently changed, since it is most likely a typo.
func (p *Prefix) Validate() error {
	if !p.Prefix.IsValid() {
		return FieldErrorf(EINVALID, "prefix", "prefix is required (for example 10.1.0.0/24 or 2001:db8::/64)")
	}
	if p.Prefix.Addr().Is4In6() {
		return FieldErrorf(EINVALID, "prefix", "prefix %q is an IPv4-mapped IPv6 prefix; write the IPv4 prefix instead", p.Prefix)
	}
	if p.Prefix.Addr().Zone() != "" {
		return FieldErrorf(EINVALID, "prefix", "prefix %q has a zone, which prefixes cannot have", p.Prefix)
	}
	if m := p.Prefix.Masked(); m != p.Prefix {
		return FieldErrorf(EINVALID, "prefix", "prefix %q has host bits set; did you mean %s?", p.Prefix, m)
	}
	switch p.Kind {
	case PrefixContainer, PrefixSubnet:
	case "":
		p.Kind = PrefixSubnet
	default:
		return FieldErrorf(EINVALID, "kind", "kind %q is not one of container, subnet", clip(string(p.Kind)))
	}
	if err := ValidateText("description", p.Description, MaxDescriptionLen); err != nil {
		return err
	}
	if p.VLAN < 0 || p.VLAN > 4094 {
		return FieldErrorf(EINVALID, "vlan", "vlan %d is outside 0..4094 (0 means none)", p.VLAN)
	}
	if p.Gateway.IsValid() {
		if p.Kind != PrefixSubnet {
			return FieldErrorf(EINVALID, "gateway", "gateway %s is set on a container; only subnets have a gateway", p.Gateway)
		}
		if !p.Prefix.Contains(p.Gateway) {
			return FieldErrorf(EINVALID, "gateway", "gateway %s is not inside %s", p.Gateway, p.Prefix)
		}
		if IsReservedInSubnet(p.Prefix, p.Gateway) {
			return FieldErrorf(EINVALID, "gateway", "gateway %s is the network or broadcast address of %s", p.Gateway, p.Prefix)
		}
	}
	if p.DHCP && p.Kind != PrefixSubnet {
		return FieldErrorf(EINVALID, "dhcp", "dhcp is on for a container; only subnets are served by DHCP")
	}
	return nil
}

// IsReservedInSubnet reports whether a is the network or broadcast address
// of an IPv4 subnet shorter than /31, which no host may have.
func IsReservedInSubnet(p netip.Prefix, a netip.Addr) bool {
	if !p.Addr().Is4() || p.Bits() >= 31 {
		return false
	}
	return a == p.Masked().Addr() || a == LastAddr(p)
}

// LastAddr returns the last address of p.
func LastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		b[i/8] |= 1 << (7 - uint(i%8))
	}
	a := netip.AddrFrom16(b)
	if p.Addr().Is4() {
		return a.Unmap()
	}
	return a
}

// ParsePrefix parses a CIDR prefix for the named field, quoting the input
// on error.
func ParsePrefix(field, s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, FieldErrorf(EINVALID, field, "%s %q is not a CIDR prefix (for example 10.1.0.0/24 or 2001:db8::/64)", field, clip(s))
	}
	return p, nil
}

// ParseAddr parses an IP address for the named field, quoting the input on
// error. IPv4-mapped IPv6 addresses are turned into IPv4 addresses.
func ParseAddr(field, s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, FieldErrorf(EINVALID, field, "%s %q is not an IP address", field, clip(s))
	}
	return a.Unmap(), nil
}

// PrefixFilter selects prefixes. Nil fields do not filter.
type PrefixFilter struct {
	ID       *int64
	SpaceID  *int64
	ParentID *int64 // direct children of this prefix; 0 for top-level
	Kind     *PrefixKind
	// Contains selects the prefixes that contain this address.
	Contains *netip.Addr
	// Within selects prefixes equal to or inside this prefix.
	Within *netip.Prefix
	// Scope, if set, keeps only the prefixes inside it: what the user may
	// see.
	Scope *Scope
	// Query matches the prefix text, description or VLAN.
	Query string
	Page
}

// PrefixUpdate holds the fields to change; nil fields stay as they are.
// The prefix itself cannot be changed: create a new one and move the hosts.
type PrefixUpdate struct {
	Kind        *PrefixKind `json:"kind"`
	Description *string     `json:"description"`
	Gateway     *netip.Addr `json:"gateway"`
	DHCP        *bool       `json:"dhcp"`
	VLAN        *int        `json:"vlan"`
	Version     *int64      `json:"-"`
}

// Usage tells how much of a prefix is taken. Size and Used are
// saturated at 2^64-1 (an IPv6 /32 has 2^96 addresses); NewUsage keeps
// the exact counts too, which Counts, Percent and the pages use.
type Usage struct {
	// Size is the number of addresses in the prefix.
	Size uint64 `json:"size"`
	// Used is the number of addresses covered by child prefixes (for a
	// container) or stored addresses (for a subnet).
	Used uint64 `json:"used"`
	// size and used are the exact counts in decimal when one does not
	// fit Size or Used, else "" (so that Usage stays comparable).
	size, used string
}

// NewUsage returns the usage of a prefix of size addresses of which used
// are taken.
func NewUsage(size, used *big.Int) Usage {
	var u Usage
	u.Size, u.size = saturate(size)
	u.Used, u.used = saturate(used)
	return u
}

// saturate returns n as a uint64, saturated, and its decimal text when it
// does not fit.
func saturate(n *big.Int) (uint64, string) {
	if n.IsUint64() {
		return n.Uint64(), ""
	}
	if n.Sign() < 0 {
		return 0, ""
	}
	return math.MaxUint64, n.String()
}

// Counts returns the exact size and use.
func (u Usage) Counts() (size, used *big.Int) {
	exact := func(n uint64, text string) *big.Int {
		if text != "" {
			if b, ok := new(big.Int).SetString(text, 10); ok {
				return b
			}
		}
		return new(big.Int).SetUint64(n)
	}
	return exact(u.Size, u.size), exact(u.Used, u.used)
}

// Percent returns the used share of the prefix in percent, computed from
// the exact counts.
func (u Usage) Percent() float64 {
	if u.size == "" && u.used == "" {
		if u.Size == 0 {
			return 0
		}
		return float64(u.Used) * 100 / float64(u.Size)
	}
	size, used := u.Counts()
	if size.Sign() == 0 {
		return 0
	}
	f, _ := new(big.Rat).SetFrac(used.Mul(used, big.NewInt(100)), size).Float64()
	return f
}

// BlockSize is the number of addresses in a block of a subnet: the unit in
// which address use is counted and the address grid is paged.
const BlockSize = 256

// BlockUse tells how many stored addresses one block of a subnet holds.
type BlockUse struct {
	// Start is the block's first address (for a subnet smaller than a
	// block, it may lie before the subnet's first address).
	Start netip.Addr `json:"start"`
	Used  int        `json:"used"`
}

// PrefixService manages prefixes and allocates child prefixes.
type PrefixService interface {
	FindPrefixByID(ctx context.Context, id int64) (*Prefix, error)
	FindPrefixes(ctx context.Context, f PrefixFilter) ([]*Prefix, int, error)
	// CreatePrefix stores p and returns warnings about overlaps with other
	// spaces.
	CreatePrefix(ctx context.Context, p *Prefix) ([]Warning, error)
	UpdatePrefix(ctx context.Context, id int64, upd PrefixUpdate) (*Prefix, error)
	// DeletePrefix removes a prefix. One that still holds addresses or
	// child prefixes is refused unless Cascade is set, which removes them
	// too.
	DeletePrefix(ctx context.Context, id int64, opts DeleteOptions) error
	// PrefixUsage returns the size and use of a prefix.
	PrefixUsage(ctx context.Context, id int64) (Usage, error)
	// PrefixUsages returns the usage of several prefixes at once, by id,
	// for lists and trees; ids that do not exist are left out.
	PrefixUsages(ctx context.Context, ids []int64) (map[int64]Usage, error)
	// BlockUsage returns the blocks of a subnet (aligned runs of
	// BlockSize addresses) that lie in within and hold stored addresses,
	// in address order, with the number each holds. An invalid within
	// means the whole subnet.
	BlockUsage(ctx context.Context, id int64, within netip.Prefix, page Page) ([]BlockUse, error)
	// FreeRanges returns the unused address ranges of a prefix: for a
	// subnet, addresses without a record (network, broadcast and gateway
	// excluded); for a container, space not covered by child prefixes.
	FreeRanges(ctx context.Context, id int64, page Page) ([]AddrRange, error)
	// AvailablePrefixes returns the largest aligned free prefixes inside a
	// container.
	AvailablePrefixes(ctx context.Context, id int64, page Page) ([]netip.Prefix, error)
	// NextFreePrefix returns the first free aligned child of the given
	// length inside a container.
	NextFreePrefix(ctx context.Context, parentID int64, bits int) (netip.Prefix, error)
	// AllocatePrefix atomically takes the first free child of the given
	// length and stores it with the other fields of tmpl.
	AllocatePrefix(ctx context.Context, parentID int64, bits int, tmpl *Prefix) ([]Warning, error)
}
