package outputs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/render"
)

// A squid-rooms target writes the timetable's blocked rooms for squid, in
// up to two lists:
//
//	{"name": "rooms", "kind": "squid-rooms",
//	 "hosts_file": "/var/lib/ipdesk/squid/blocked-hosts.txt",
//	 "names_file": "/var/lib/ipdesk/squid/blocked-names.txt",
//	 "validate": ["/usr/sbin/squid", "-k", "parse", "-f", "{main}"],
//	 "main_config": "/etc/squid/squid.conf",
//	 "reload": ["/usr/sbin/squid", "-k", "reconfigure"]}
//
// hosts_file gets the addresses of the hosts located in blocked rooms (for
// an "acl … src" line), names_file the rooms' host name patterns (for an
// "acl … srcdom_regex -i" line, the seed's sperr.txt). Each list is an
// output of its own, NAME.hosts and NAME.names, checked, swapped and
// reloaded on its own, so a list that did not change is not reloaded; both
// share the target's commands and scope (the scope limits the hosts; the
// name patterns are those of every blocked room).

// Names of the lists of a squid-rooms target, appended to its name.
const (
	roomsHosts = "hosts"
	roomsNames = "names"
)

// RoomSource tells which rooms are blocked now; the timetable's switcher
// (schedule.Switcher) is one.
type RoomSource interface {
	BlockedRooms(ctx context.Context) ([]int64, error)
}

// RoomSourceFunc adapts a function to a RoomSource.
type RoomSourceFunc func(ctx context.Context) ([]int64, error)

// BlockedRooms calls f.
func (f RoomSourceFunc) BlockedRooms(ctx context.Context) ([]int64, error) { return f(ctx) }

// roomTargets checks a squid-rooms spec and returns its outputs.
func (sp *Spec) roomTargets(base apply.Target, sc scope) ([]*target, error) {
	name := sp.Name
	if sp.Path != "" {
		return nil, specError(name, "path", "kind %s writes two lists: give them in hosts_file and names_file, not in path", sp.Kind)
	}
	if len(sp.LevelFiles) > 0 {
		return nil, specError(name, "level_files", "level_files is only for kind %s", apply.KindSquidLevels)
	}
	if sp.HostsFile == "" && sp.NamesFile == "" {
		return nil, specError(name, "hosts_file", "kind %s needs hosts_file (the addresses of blocked rooms' hosts), names_file (their host name patterns) or both", sp.Kind)
	}
	var out []*target
	for _, l := range []struct{ list, field, path string }{{roomsHosts, "hosts_file", sp.HostsFile}, {roomsNames, "names_file", sp.NamesFile}} {
		if l.path == "" {
			continue
		}
		t := base
		t.Name = name + "." + l.list
		t.Path = l.path
		if err := t.Check(); err != nil {
			if ipdesk.ErrorField(err) == "path" {
				msg := strings.TrimPrefix(ipdesk.ErrorMessage(err), fmt.Sprintf("target %q: ", t.Name))
				return nil, specError(name, l.field, "%s", strings.Replace(msg, "path", l.field, 1))
			}
			return nil, err
		}
		out = append(out, &target{Target: t, group: name, list: l.list, scope: sc})
	}
	return out, nil
}

// HasRooms tells whether a squid-rooms target is configured.
func (s *Service) HasRooms() bool {
	for _, t := range s.targets {
		if t.Kind == apply.KindSquidRooms {
			return true
		}
	}
	return false
}

// ApplyRooms applies every squid-rooms output now and returns the runs,
// in config order; see ApplyNow. The timetable's switcher calls it when
// the set of blocked rooms changes.
func (s *Service) ApplyRooms(ctx context.Context) ([]*ipdesk.ApplyRun, error) {
	var groups []string
	for _, t := range s.targets {
		if t.Kind == apply.KindSquidRooms && (len(groups) == 0 || groups[len(groups)-1] != t.group) {
			groups = append(groups, t.group)
		}
	}
	var runs []*ipdesk.ApplyRun
	var errs []error
	for _, g := range groups {
		rs, err := s.ApplyNow(ctx, g)
		runs = append(runs, rs...)
		errs = append(errs, err)
	}
	return runs, errors.Join(errs...)
}

// renderRooms renders a list of a squid-rooms output from in and the
// blocked rooms.
func (s *Service) renderRooms(ctx context.Context, t *target, in *render.Input) ([]byte, error) {
	if s.rooms == nil {
		return nil, errors.New("the timetable is not running, so the blocked rooms are unknown")
	}
	blocked, err := s.rooms.BlockedRooms(ctx)
	if err != nil {
		return nil, readable(err, "cannot compute the blocked rooms")
	}
	if t.list == roomsNames {
		return render.SquidBlockedNames(in, blocked), nil
	}
	return render.SquidBlockedHosts(in, blocked), nil
}
