package outputs

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"ipdesk"
)

// hostCache keeps the hosts (the addresses of hostStatuses, of every
// space) in memory between renders, and brings them up to date from the
// audit log before a render: only the addresses that audit entries name
// since the last look are read again. A render of a large plan used to
// read every host (500,000 took seconds of CPU), and the scheduler renders
// after every burst of changes; now a render reads what changed, and
// renders at the same time share one look.
//
// Every change of an address is audited with its ID, by this process and
// by every other one sharing the database, and the audit entries become
// visible in the order of their IDs, so the cursor misses none. The whole
// set is read again when the audit log is behind the cursor (a restored
// backup), when more changed than a read of them is worth, and every
// fullReloadEvery as a safety net.
type hostCache struct {
	mu     sync.Mutex
	cursor int64 // every change up to this audit entry is in hosts; -1: not loaded
	loaded time.Time
	hosts  map[int64]*ipdesk.Address
	list   []*ipdesk.Address // the hosts as a slice; nil when it must be made anew
	// minReads is minChangedReads unless set (by tests).
	minReads int
}

const (
	// fullReloadEvery is how long the cache goes at most without
	// reading every host.
	fullReloadEvery = 10 * time.Minute
	// minChangedReads and changedReadShare bound the audit entries read
	// for the changed hosts: at least minChangedReads, or one in
	// changedReadShare of the cached hosts when that is more (a host read
	// by its ID costs a few times one of a scan); beyond it, every host is
	// read. So a steady stream of changes to a large plan (at 500,000
	// hosts 35,000 creates between two applies) is followed, not read
	// whole each time.
	minChangedReads  = 20000
	changedReadShare = 4
	// idsPerScan bounds the IDs of one statement reading changed hosts.
	idsPerScan = 1000
)

// current returns every host as of at least the audit entry since (the
// newest the caller knows of; math.MaxInt64 when unknown), and the audit
// entry up to which the hosts hold every change (-1 when unknown). The
// hosts are shared: callers only read them, and the cache replaces a
// changed host with a new value rather than changing it.
func (c *hostCache) current(ctx context.Context, store Store, since int64) ([]*ipdesk.Address, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hosts != nil && since != math.MaxInt64 && c.cursor >= since {
		return c.snapshot(), c.cursor, nil
	}
	_, newest, err := store.ChangesSince(ctx, -1)
	if err != nil {
		return nil, -1, err
	}
	if c.hosts == nil || newest < c.cursor || time.Since(c.loaded) > fullReloadEvery {
		return c.reload(ctx, store, newest)
	}
	if newest == c.cursor {
		return c.snapshot(), c.cursor, nil
	}
	minReads := c.minReads
	if minReads == 0 {
		minReads = minChangedReads
	}
	objs, complete, err := store.ObjectChanges(ctx, c.cursor, newest, max(minReads, len(c.hosts)/changedReadShare))
	if err != nil {
		return nil, -1, err
	}
	if !complete {
		return c.reload(ctx, store, newest)
	}
	var ids []int64
	for _, o := range objs {
		if o.Type == ipdesk.ObjectAddress {
			ids = append(ids, o.ID)
		}
	}
	fresh := make(map[int64]*ipdesk.Address, len(ids))
	for chunk := range slices.Chunk(ids, idsPerScan) {
		err := store.ScanHosts(ctx, ipdesk.HostFilter{IDs: chunk}, func(a *ipdesk.Address) error {
			fresh[a.ID] = a
			return nil
		})
		if err != nil {
			return nil, -1, err
		}
	}
	for _, id := range ids {
		if a := fresh[id]; a != nil && slices.Contains(hostStatuses, a.Status) {
			c.hosts[id] = a
		} else {
			delete(c.hosts, id) // deleted, or no longer a host
		}
	}
	if len(ids) > 0 {
		c.list = nil
	}
	c.cursor = newest
	return c.snapshot(), c.cursor, nil
}

// reload reads every host; newest is the newest audit entry, read before.
func (c *hostCache) reload(ctx context.Context, store Store, newest int64) ([]*ipdesk.Address, int64, error) {
	hosts := make(map[int64]*ipdesk.Address, len(c.hosts))
	err := store.ScanHosts(ctx, ipdesk.HostFilter{Statuses: hostStatuses}, func(a *ipdesk.Address) error {
		hosts[a.ID] = a
		return nil
	})
	if err != nil {
		return nil, -1, err
	}
	c.hosts, c.list, c.cursor, c.loaded = hosts, nil, newest, time.Now()
	return c.snapshot(), c.cursor, nil
}

// snapshot returns the hosts as a slice, made anew after a change. The
// caller holds c.mu.
func (c *hostCache) snapshot() []*ipdesk.Address {
	if c.list == nil {
		c.list = make([]*ipdesk.Address, 0, len(c.hosts))
		for _, a := range c.hosts {
			c.list = append(c.list, a)
		}
	}
	return c.list
}

// inScope tells whether host a is in the part of the scope filter f
// selects (a space, a prefix, or both).
func inScope(a *ipdesk.Address, f ipdesk.HostFilter) bool {
	if f.SpaceID != nil && a.SpaceID != *f.SpaceID {
		return false
	}
	return f.Within == nil || f.Within.Contains(a.Addr.Unmap())
}
