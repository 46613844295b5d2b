package importer

import (
	"context"
	"fmt"
	"strings"

	"ipdesk"
)

// PathSeparator joins the names of a location's path in host lists:
// "Main site > Building A > 303".
const PathSeparator = " > "

// names maps spaces and locations between ids and the names host lists use.
type names struct {
	spaceID   map[string]int64
	spaceName map[int64]string
	locID     map[string]int64
	locPath   map[int64]string
}

func loadNames(ctx context.Context, store ipdesk.Store) (*names, error) {
	n := &names{spaceID: map[string]int64{}, spaceName: map[int64]string{}, locID: map[string]int64{}, locPath: map[int64]string{}}
	for off := 0; ; off += ipdesk.MaxLimit {
		spaces, total, err := store.FindSpaces(ctx, ipdesk.SpaceFilter{Page: ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}})
		if err != nil {
			return nil, err
		}
		for _, s := range spaces {
			n.spaceID[s.Name], n.spaceName[s.ID] = s.ID, s.Name
		}
		if off+ipdesk.MaxLimit >= total {
			break
		}
	}
	all := map[int64]*ipdesk.Location{}
	for off := 0; ; off += ipdesk.MaxLimit {
		locs, total, err := store.FindLocations(ctx, ipdesk.LocationFilter{Page: ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}})
		if err != nil {
			return nil, err
		}
		for _, l := range locs {
			all[l.ID] = l
		}
		if off+ipdesk.MaxLimit >= total {
			break
		}
	}
	for id := range all {
		var parts []string
		for l, depth := all[id], 0; l != nil && depth < 10; l, depth = all[l.ParentID], depth+1 {
			parts = append([]string{l.Name}, parts...)
		}
		p := strings.Join(parts, PathSeparator)
		n.locPath[id], n.locID[p] = p, id
	}
	return n, nil
}

// ToAddresses turns hosts into addresses, looking up spaces by name and
// locations by path. Unknown names are reported per line; lines[i] is the
// input line of the i-th address.
func ToAddresses(ctx context.Context, store ipdesk.Store, hosts []Host) (addrs []*ipdesk.Address, lines []int, problems []LineError, err error) {
	n, err := loadNames(ctx, store)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, h := range hosts {
		sid, ok := n.spaceID[h.Space]
		if !ok {
			problems = append(problems, LineError{Line: h.Line, Field: "space", Err: fmt.Sprintf("space %q does not exist", h.Space)})
			continue
		}
		var lid int64
		if h.Location != "" {
			if lid, ok = n.locID[h.Location]; !ok {
				problems = append(problems, LineError{Line: h.Line, Field: "location", Err: fmt.Sprintf("location %q does not exist (write the path as Site%sBuilding%sRoom)", h.Location, PathSeparator, PathSeparator)})
				continue
			}
		}
		addrs = append(addrs, &ipdesk.Address{SpaceID: sid, Addr: h.Address, Status: h.Status, MAC: h.MAC, Hostname: h.Hostname,
			Description: h.Description, Owner: h.Owner, Phone: h.Phone, LocationID: lid, AccessLevel: h.AccessLevel, DHCPReservation: h.DHCPReservation})
		lines = append(lines, h.Line)
	}
	return addrs, lines, problems, nil
}

// ExportHosts returns every address matching f as a host list.
func ExportHosts(ctx context.Context, store ipdesk.Store, f ipdesk.AddressFilter) ([]Host, error) {
	n, err := loadNames(ctx, store)
	if err != nil {
		return nil, err
	}
	var out []Host
	for off := 0; ; off += ipdesk.MaxLimit {
		f.Page = ipdesk.Page{Offset: off, Limit: ipdesk.MaxLimit}
		addrs, total, err := store.FindAddresses(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			out = append(out, Host{Space: n.spaceName[a.SpaceID], Address: a.Addr, Status: a.Status, MAC: a.MAC, Hostname: a.Hostname,
				Description: a.Description, Owner: a.Owner, Phone: a.Phone, Location: n.locPath[a.LocationID], AccessLevel: a.AccessLevel, DHCPReservation: a.DHCPReservation})
		}
		if off+ipdesk.MaxLimit >= total {
			return out, nil
		}
	}
}
