package sqldb_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

func mustUser(t *testing.T, db *sqldb.DB, name string, admin bool) *ipdesk.User {
	t.Helper()
	u := &ipdesk.User{Name: name, Admin: admin}
	if err := db.CreateUser(ctx, u, "correct horse battery"); err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func mustGroup(t *testing.T, db *sqldb.DB, g *ipdesk.Group) *ipdesk.Group {
	t.Helper()
	if err := db.CreateGroup(ctx, g); err != nil {
		t.Fatalf("CreateGroup(%q): %v", g.Name, err)
	}
	return g
}

func mustGrant(t *testing.T, db *sqldb.DB, group int64, typ string, id int64, r ipdesk.Right) *ipdesk.Grant {
	t.Helper()
	g := &ipdesk.Grant{GroupID: group, ObjectType: typ, ObjectID: id, Right: r}
	if err := db.CreateGrant(ctx, g); err != nil {
		t.Fatalf("CreateGrant(%s %d %s): %v", typ, id, r, err)
	}
	return g
}

func TestGroups(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		anna := mustUser(t, db, "anna", false)
		bert := mustUser(t, db, "bert", false)
		g := mustGroup(t, db, &ipdesk.Group{Name: "Netz-Team", Members: []int64{bert.ID, anna.ID, anna.ID}, Helpdesk: true})
		if want := []int64{anna.ID, bert.ID}; !slices.Equal(g.Members, want) {
			t.Fatalf("members %v, want %v (sorted, once each)", g.Members, want)
		}
		got, err := db.FindGroupByID(ctx, g.ID)
		if err != nil || !slices.Equal(got.Members, g.Members) || !got.Helpdesk || got.Version != 1 {
			t.Fatalf("FindGroupByID = %+v, %v", got, err)
		}

		// Bad input names the field and changes nothing.
		before := auditCount(t, db)
		for _, bad := range []struct {
			g     ipdesk.Group
			field string
		}{
			{ipdesk.Group{Name: ""}, "name"},
			{ipdesk.Group{Name: "a\nb"}, "name"},
			{ipdesk.Group{Name: "Netz-Team"}, "name"},
			{ipdesk.Group{Name: "x", Members: []int64{999}}, "members"},
			{ipdesk.Group{Name: "x", Members: []int64{-1}}, "members"},
		} {
			err := db.CreateGroup(ctx, &bad.g)
			if err == nil || ipdesk.ErrorField(err) != bad.field {
				t.Errorf("CreateGroup(%+v) = %v, want an error about %s", bad.g, err, bad.field)
			}
		}
		if n := auditCount(t, db); n != before {
			t.Fatalf("refused changes wrote %d audit entries", n-before)
		}

		// Members are replaced; stale versions are refused.
		v := int64(1)
		upd, err := db.UpdateGroup(ctx, g.ID, ipdesk.GroupUpdate{Members: &[]int64{bert.ID}, Version: &v})
		if err != nil || !slices.Equal(upd.Members, []int64{bert.ID}) || upd.Version != 2 {
			t.Fatalf("UpdateGroup = %+v, %v", upd, err)
		}
		_, err = db.UpdateGroup(ctx, g.ID, ipdesk.GroupUpdate{Members: &[]int64{}, Version: &v})
		wantCode(t, err, ipdesk.EPRECONDITION)

		gs, err := db.FindUserGroups(ctx, bert.ID)
		if err != nil || len(gs) != 1 || gs[0].ID != g.ID {
			t.Fatalf("FindUserGroups(bert) = %v, %v", gs, err)
		}
		gs, err = db.FindUserGroups(ctx, anna.ID)
		if err != nil || len(gs) != 0 {
			t.Fatalf("FindUserGroups(anna) = %v, %v", gs, err)
		}

		// A group with grants is deleted only with cascade, which removes
		// the grants too.
		s := mustSpace(t, db, "school")
		mustGrant(t, db, g.ID, ipdesk.ObjectSpace, s.ID, ipdesk.RightView)
		wantCode(t, db.DeleteGroup(ctx, g.ID, ipdesk.DeleteOptions{}), ipdesk.ECONFLICT)
		if err := db.DeleteGroup(ctx, g.ID, ipdesk.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := db.FindGrants(ctx, ipdesk.GrantFilter{}); n != 0 {
			t.Fatalf("%d grants left after the group was deleted", n)
		}
	})
}

func TestGrantsAndPermissions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		u := mustUser(t, db, "lehrer", false)
		school := mustSpace(t, db, "school")
		office := mustSpace(t, db, "office")
		g1 := mustGroup(t, db, &ipdesk.Group{Name: "Raum 303", Members: []int64{u.ID}})
		g2 := mustGroup(t, db, &ipdesk.Group{Name: "Hotline", Members: []int64{u.ID}, Helpdesk: true, CreateSpaces: true})
		mustPrefix(t, db, school.ID, "10.20.0.0/16", ipdesk.PrefixContainer)
		lab := mustPrefix(t, db, school.ID, "10.20.3.0/24", ipdesk.PrefixSubnet)
		mustPrefix(t, db, school.ID, "10.20.4.0/24", ipdesk.PrefixSubnet)
		site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
		if err := db.CreateLocation(ctx, site); err != nil {
			t.Fatal(err)
		}
		room := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "303", ParentID: site.ID}
		if err := db.CreateLocation(ctx, room); err != nil {
			t.Fatal(err)
		}

		mustGrant(t, db, g1.ID, ipdesk.ObjectPrefix, lab.ID, ipdesk.RightEdit)
		mustGrant(t, db, g1.ID, ipdesk.ObjectLocation, room.ID, ipdesk.RightOverride)
		mustGrant(t, db, g2.ID, ipdesk.ObjectSpace, office.ID, ipdesk.RightView)
		// A second grant of the same group on the same object replaces it.
		mustGrant(t, db, g2.ID, ipdesk.ObjectSpace, office.ID, ipdesk.RightEdit)
		if _, n, _ := db.FindGrants(ctx, ipdesk.GrantFilter{GroupID: &g2.ID}); n != 1 {
			t.Fatalf("group %d has %d grants, want 1", g2.ID, n)
		}
		for _, bad := range []ipdesk.Grant{
			{GroupID: g1.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: 999, Right: ipdesk.RightView},
			{GroupID: 999, ObjectType: ipdesk.ObjectSpace, ObjectID: school.ID, Right: ipdesk.RightView},
			{GroupID: g1.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: school.ID, Right: ipdesk.RightOverride},
			{GroupID: g1.ID, ObjectType: "user", ObjectID: u.ID, Right: ipdesk.RightEdit},
			{GroupID: g1.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: school.ID, Right: "admin"},
		} {
			if err := db.CreateGrant(ctx, &bad); ipdesk.ErrorCode(err) != ipdesk.EINVALID {
				t.Errorf("CreateGrant(%+v) = %v, want invalid", bad, err)
			}
		}

		p, err := db.FindPermissions(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if p.Admin || p.ViewAll || !p.Helpdesk || !p.CreateSpaces || len(p.GroupIDs) != 2 {
			t.Fatalf("flags of %+v", p)
		}
		in := netip.MustParseAddr("10.20.3.7")
		out := netip.MustParseAddr("10.20.4.7")
		checks := []struct {
			name string
			ok   bool
			want bool
		}{
			{"edit an address in the granted subnet", p.CanAddress(school.ID, in, ipdesk.RightEdit), true},
			{"view an address of the next subnet", p.CanAddress(school.ID, out, ipdesk.RightView), false},
			{"the same address in another space", p.CanAddress(office.ID+100, in, ipdesk.RightView), false},
			{"edit the granted subnet", p.CanPrefix(school.ID, lab.Prefix, ipdesk.RightEdit), true},
			{"view the container above it", p.CanPrefix(school.ID, netip.MustParsePrefix("10.20.0.0/16"), ipdesk.RightView), false},
			{"know the space of the subnet", p.KnowsSpace(school.ID), true},
			{"rename the space of the subnet", p.CanSpace(school.ID, ipdesk.RightEdit), false},
			{"edit the granted space", p.CanSpace(office.ID, ipdesk.RightEdit), true},
			{"override the granted room", p.CanLocation(room.ID, []int64{site.ID}, ipdesk.RightOverride), true},
			{"edit the granted room", p.CanLocation(room.ID, []int64{site.ID}, ipdesk.RightEdit), false},
			{"override the site", p.CanLocation(site.ID, nil, ipdesk.RightOverride), false},
		}
		for _, c := range checks {
			if c.ok != c.want {
				t.Errorf("%s: %v, want %v", c.name, c.ok, c.want)
			}
		}

		// The scope filters lists in the database.
		mustAddr(t, db, school.ID, "10.20.3.7", nil)
		mustAddr(t, db, school.ID, "10.20.4.7", nil)
		scope := p.ScopeFor(ipdesk.RightView)
		addrs, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Scope: &scope})
		if err != nil || n != 1 || addrs[0].Addr != in {
			t.Fatalf("FindAddresses in scope = %v (%d), %v; want only %s", addrs, n, err, in)
		}
		addrs, n, err = db.FindAddresses(ctx, ipdesk.AddressFilter{Scope: &scope, Query: "10.20"})
		if err != nil || n != 1 {
			t.Fatalf("search in scope = %v (%d), %v", addrs, n, err)
		}
		prefixes, n, err := db.FindPrefixes(ctx, ipdesk.PrefixFilter{Scope: &scope})
		if err != nil || n != 1 || prefixes[0].ID != lab.ID {
			t.Fatalf("FindPrefixes in scope = %v (%d), %v", prefixes, n, err)
		}
		spaces, n, err := db.FindSpaces(ctx, ipdesk.SpaceFilter{Scope: &scope})
		if err != nil || n != 2 {
			t.Fatalf("FindSpaces in scope = %v (%d), %v; want school and office", spaces, n, err)
		}
		empty := ipdesk.Scope{}
		if _, n, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{Scope: &empty}); n != 0 {
			t.Fatalf("an empty scope shows %d addresses", n)
		}
		roots, _ := p.LocationScope(ipdesk.RightView)
		locs, n, err := db.FindLocations(ctx, ipdesk.LocationFilter{Under: &roots})
		if err != nil || n != 1 || locs[0].ID != room.ID {
			t.Fatalf("FindLocations under %v = %v (%d), %v", roots, locs, n, err)
		}
		siteOnly := []int64{site.ID}
		if _, n, _ := db.FindLocations(ctx, ipdesk.LocationFilter{Under: &siteOnly}); n != 2 {
			t.Fatalf("FindLocations under the site = %d, want the site and its room", n)
		}

		// Grants go with the objects they are on.
		if err := db.DeletePrefix(ctx, lab.ID, ipdesk.DeleteOptions{Cascade: true}); err != nil {
			t.Fatal(err)
		}
		if _, n, _ := db.FindGrants(ctx, ipdesk.GrantFilter{GroupID: &g1.ID}); n != 1 {
			t.Fatalf("group %d has %d grants after its prefix was deleted, want 1 (the room)", g1.ID, n)
		}

		// A space created by a member of a create_spaces group is granted
		// to that group.
		uctx := ipdesk.NewContextWithActor(ctx, u)
		mine := &ipdesk.Space{Name: "mine"}
		if err := db.CreateSpace(uctx, mine); err != nil {
			t.Fatal(err)
		}
		p, err = db.FindPermissions(ctx, u)
		if err != nil || !p.CanSpace(mine.ID, ipdesk.RightEdit) {
			t.Fatalf("the creator's group cannot edit its new space: %+v, %v", p, err)
		}

		// A disabled user has no rights at all.
		u.Disabled = true
		p, _ = db.FindPermissions(ctx, u)
		if p.CanSpace(office.ID, ipdesk.RightView) || p.Helpdesk {
			t.Fatalf("a disabled user keeps rights: %+v", p)
		}
	})
}

func TestSessions(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		u := mustUser(t, db, "anna", false)
		limits := ipdesk.SessionLimits{Idle: time.Hour, Absolute: 8 * time.Hour}
		sec, err := db.CreateSession(ctx, &ipdesk.Session{UserID: u.ID, Remote: "192.0.2.1\n", UserAgent: "Firefox"}, limits)
		if err != nil || len(sec) < 40 {
			t.Fatalf("CreateSession = %q, %v", sec, err)
		}
		s, got, err := db.FindSession(ctx, sec, limits)
		if err != nil || got.ID != u.ID || s.Remote != "192.0.2.1?" {
			t.Fatalf("FindSession = %+v %+v, %v", s, got, err)
		}
		_, _, err = db.FindSession(ctx, sec+"x", limits)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)

		// Used within the idle timeout, the session lives on until the
		// absolute timeout.
		for i := 0; i < 8; i++ {
			now = now.Add(59 * time.Minute)
			if _, _, err := db.FindSession(ctx, sec, limits); err != nil {
				t.Fatalf("after %d hours of use: %v", i+1, err)
			}
		}
		now = now.Add(59 * time.Minute)
		_, _, err = db.FindSession(ctx, sec, limits)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)

		// Idle for too long.
		sec, _ = db.CreateSession(ctx, &ipdesk.Session{UserID: u.ID}, limits)
		now = now.Add(61 * time.Minute)
		_, _, err = db.FindSession(ctx, sec, limits)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)

		// Sign-out, and the end of the other sessions.
		a, _ := db.CreateSession(ctx, &ipdesk.Session{UserID: u.ID}, limits)
		b, _ := db.CreateSession(ctx, &ipdesk.Session{UserID: u.ID}, limits)
		if err := db.DeleteSession(ctx, a); err != nil {
			t.Fatal(err)
		}
		_, _, err = db.FindSession(ctx, a, limits)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
		sb, _, err := db.FindSession(ctx, b, limits)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := db.CreateSession(ctx, &ipdesk.Session{UserID: u.ID}, limits)
		if err := db.DeleteUserSessions(ctx, u.ID, sb.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.FindSession(ctx, b, limits); err != nil {
			t.Fatalf("the kept session ended: %v", err)
		}
		_, _, err = db.FindSession(ctx, c, limits)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)

		// Disabling a user ends its sessions at once.
		disabled := true
		if _, err := db.UpdateUser(ctx, u.ID, ipdesk.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		_, _, err = db.FindSession(ctx, b, limits)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
	})
}
