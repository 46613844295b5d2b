package ipdesk

import (
	"context"
	"net/netip"
	"time"
)

// Config outputs: the files ipdesk writes for the daemons (DHCP servers,
// the proxy), the state of each, and the record of every apply. Which
// outputs exist is decided by the server's config file only, never through
// the web UI or the API.

// ApplyStatus is the outcome of an apply run.
type ApplyStatus string

// Apply run statuses. They are the statuses of package apply.
const (
	// ApplyUnchanged: the rendered file equals the live one; nothing was
	// written or reloaded.
	ApplyUnchanged ApplyStatus = "unchanged"
	// ApplyApplied: the new file is live and the daemon reloaded it.
	ApplyApplied ApplyStatus = "applied"
	// ApplyInvalid: the daemon's check refused the new file; the live file
	// is unchanged.
	ApplyInvalid ApplyStatus = "invalid"
	// ApplyReloadFailed: the reload failed and the previous file was put
	// back.
	ApplyReloadFailed ApplyStatus = "reload_failed"
	// ApplyRenderFailed: the data could not be read or rendered; nothing
	// was written.
	ApplyRenderFailed ApplyStatus = "render_failed"
	// ApplyError: another fault (a file could not be written, a command
	// could not run or timed out); the live file is unchanged.
	ApplyError ApplyStatus = "error"
)

// ApplyStatuses lists every apply status.
var ApplyStatuses = []ApplyStatus{ApplyUnchanged, ApplyApplied, ApplyInvalid, ApplyReloadFailed, ApplyRenderFailed, ApplyError}

// OK tells whether a run of this status left the daemon running the
// rendered file.
func (s ApplyStatus) OK() bool { return s == ApplyApplied || s == ApplyUnchanged }

// ApplyRun is the record of one apply of one output.
type ApplyRun struct {
	ID     int64  `json:"id"`
	Target string `json:"target"`
	Kind   string `json:"kind"`
	Path   string `json:"path"`
	// Started is when the run began; Duration is how long it took, in
	// nanoseconds.
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Status   ApplyStatus   `json:"status"`
	// Message tells what happened, with the daemon's own output on failure.
	Message string `json:"message"`
	// Bytes is the size of the rendered file; Added and Removed count the
	// lines it adds to and removes from the live file.
	Bytes   int `json:"bytes"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Actor is the user who asked for the run, or "system" for runs after
	// a change.
	Actor string `json:"actor"`
}

// ApplyRunFilter selects apply runs, newest first. Nil fields do not
// filter.
type ApplyRunFilter struct {
	Target *string
	Status *ApplyStatus
	// Failed selects the runs that did (true) or did not (false) fail.
	Failed *bool
	Since  *time.Time
	Until  *time.Time
	Page
}

// ApplyRunService keeps the history of apply runs.
type ApplyRunService interface {
	// RecordApplyRun stores r and sets its ID; the actor is taken from
	// ctx (see ActorName).
	RecordApplyRun(ctx context.Context, r *ApplyRun) error
	// FindApplyRuns returns runs, newest first, and their total.
	FindApplyRuns(ctx context.Context, f ApplyRunFilter) ([]*ApplyRun, int, error)
}

// HostFilter selects the hosts a config output is rendered from. Nil
// fields do not filter.
type HostFilter struct {
	SpaceID *int64
	// Within selects the addresses inside a prefix.
	Within *netip.Prefix
	// Statuses selects addresses of these statuses; empty selects all.
	Statuses []AddressStatus
	// DHCP selects the addresses with a DHCP reservation and a MAC.
	DHCP bool
	// AccessLevel selects the addresses at this internet access level.
	AccessLevel *int
	// IDs selects the addresses with these IDs.
	IDs []int64
}

// HostScanner reads the hosts of a config output without paging: the
// renderers need every host of a scope at once, 100,000 of them in a large
// plan.
type HostScanner interface {
	// ScanHosts calls fn with each address that f selects, in no
	// particular order, all read by one statement (a consistent view).
	// Only the fields the outputs use are set: ID, SpaceID, PrefixID,
	// Addr, Status, MAC, Hostname, Description, Owner, LocationID,
	// AccessLevel and DHCPReservation. fn must not use the store; an
	// error from fn ends the scan and is returned.
	ScanHosts(ctx context.Context, f HostFilter, fn func(*Address) error) error
}

// ChangeLog tells, from the audit log, which kinds of objects changed:
// a server learns so of changes committed by other processes (the command
// line, other instances on the same database).
type ChangeLog interface {
	// ChangesSince returns, for each object type of the audit entries
	// newer than the entry with ID after, the ID of its newest entry, and
	// the ID of the newest entry of all (after itself when there is none
	// newer). With after < 0 it returns only the ID of the newest entry (0
	// for an empty log).
	ChangesSince(ctx context.Context, after int64) (newestByType map[string]int64, newest int64, err error)
	// ObjectChanges returns the objects that the audit entries after the
	// entry with ID after and up to the entry upto are about, each once.
	// It reads at most limit entries; complete is false when there are
	// more, and objs then holds none.
	ObjectChanges(ctx context.Context, after, upto int64, limit int) (objs []ChangedObject, complete bool, err error)
}

// ChangedObject is an object an audit entry is about.
type ChangedObject struct {
	Type string
	ID   int64
}

// Output is one config output, as the UI and the API show it.
type Output struct {
	Name string `json:"name"`
	// Group is the name of the configured target the output belongs to:
	// a squid-levels target is one output per level, named GROUP.levelN.
	// For other kinds it is the output's name.
	Group string `json:"group"`
	Kind  string `json:"kind"`
	Path  string `json:"path"`
	// Dirty tells that a change awaits its apply; DirtySince is the first
	// such change.
	Dirty      bool       `json:"dirty"`
	DirtySince *time.Time `json:"dirty_since"`
	// Running tells that an apply is in progress.
	Running bool `json:"running"`
	// PendingReload tells that the daemon may not have loaded the live
	// file (a reload failed or was interrupted); the next apply reloads.
	PendingReload bool `json:"pending_reload"`
	// LastRun is the latest recorded run, or nil.
	LastRun *ApplyRun `json:"last_run"`
	// Failing tells that the latest apply failed (its check refused the
	// file, the reload failed, the render or a command failed): the live
	// file may differ from what ipdesk would write. RetryAt is when the
	// next try starts by itself, unless a change comes first.
	Failing bool       `json:"failing"`
	RetryAt *time.Time `json:"retry_at"`
	// LeftOut are the records the latest render left out of this output
	// because its daemon cannot carry them (see LeftOut), narrowed to
	// what the reader may see; LeftOutHidden counts the others.
	LeftOut       []LeftOut `json:"left_out"`
	LeftOutHidden int       `json:"left_out_hidden"`
	// Diff is what the next apply would change, when asked for.
	Diff *OutputDiff `json:"diff"`
}

// OutputDiff is what the next apply of an output would change: the output
// rendered now compared with its live file.
type OutputDiff struct {
	// Changed tells that the rendered file differs from the live one.
	Changed bool `json:"changed"`
	// Bytes is the size of the rendered file.
	Bytes int `json:"bytes"`
	// Added and Removed count lines that only the rendered file or only
	// the live file has.
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Text is a unified-style line diff from the live file to the
	// rendered one (at most a few hundred changed lines are shown).
	Text string `json:"text"`
	// Error tells why no diff could be made (the data could not be read
	// or rendered, the live file could not be read); "" otherwise.
	Error string `json:"error"`
}

// LeftOutReason tells why a record was left out of an output.
type LeftOutReason string

// Reasons for leaving a record out of a DHCP output. A record that an
// output cannot carry is left out of that output only; everything else is
// written. Of two records that want the same thing, the older one (the
// lower record ID) keeps its place and the newer one is left out, so a
// reservation that works goes on working when someone adds a clashing
// one.
const (
	// LeftOutAddressTwice: another reservation in the output's scope,
	// an older record, has the same IP address.
	LeftOutAddressTwice LeftOutReason = "address_twice"
	// LeftOutMACTwice: another reservation in the same subnet (the same
	// prefix, in any space of the scope), an older record, has the same
	// MAC.
	LeftOutMACTwice LeftOutReason = "mac_twice"
	// LeftOutMACMulticast: the MAC is a multicast or broadcast address,
	// which no DHCP client sends.
	LeftOutMACMulticast LeftOutReason = "mac_multicast"
	// LeftOutSubnetTwice: another subnet with DHCP on, an older record,
	// has the same prefix (in another space); Kea serves a prefix in one
	// subnet only, so the hosts of both are written in the older one.
	LeftOutSubnetTwice LeftOutReason = "subnet_twice"
	// LeftOutSubnetUnusable: Kea cannot use the subnet (its record ID is
	// outside Kea's subnet id range).
	LeftOutSubnetUnusable LeftOutReason = "subnet_unusable"
	// LeftOutNoSubnet: the address lies in no subnet that Kea serves.
	LeftOutNoSubnet LeftOutReason = "no_subnet"
)

// LeftOutReasons lists every reason.
var LeftOutReasons = []LeftOutReason{LeftOutAddressTwice, LeftOutMACTwice, LeftOutMACMulticast, LeftOutSubnetTwice, LeftOutSubnetUnusable, LeftOutNoSubnet}

// LeftOut is a record that an output leaves out, with the reason.
type LeftOut struct {
	// Object is ObjectAddress (a host) or ObjectPrefix (a Kea subnet).
	Object  string `json:"object"`
	ID      int64  `json:"id"`
	SpaceID int64  `json:"space_id"`
	// Address is the host's IP address or the subnet's prefix.
	Address  string        `json:"address"`
	MAC      string        `json:"mac,omitempty"`
	Hostname string        `json:"hostname,omitempty"`
	Reason   LeftOutReason `json:"reason"`
	// OtherID is the record that keeps its place (address_twice,
	// mac_twice, subnet_twice); 0 when there is none or the reader may
	// not see it.
	OtherID int64 `json:"other_id,omitempty"`
	// Message says the same in English, without naming the other record.
	Message string `json:"message"`
	// URL and OtherURL are the pages of the record and of the other
	// record, set for the reader by the web server.
	URL      string `json:"url,omitempty"`
	OtherURL string `json:"other_url,omitempty"`
}

// ReservationSite is where a DHCP reservation lives, as the scopes of the
// config outputs see it.
type ReservationSite struct {
	SpaceName string
	Addr      netip.Addr
}

// ReservationScopes tells which DHCP outputs carry reservations together.
// Package outputs implements it from the targets of the server's config
// file; the store asks it before it stores a DHCP reservation whose
// address, or MAC in the same subnet, another space reserves already.
type ReservationScopes interface {
	// SharedOutput returns the name of a DHCP output that would write
	// reservations at both sites, or "" when none would.
	SharedOutput(x, y ReservationSite) string
}
