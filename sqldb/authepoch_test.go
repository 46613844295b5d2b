package sqldb_test

import (
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestAuthEpoch: every change of users, groups, memberships, grants,
// tokens and the end of a session moves the epoch on, seen at once through
// another handle on the database; the use of a token or session and a
// change of the address plan do not.
func TestAuthEpoch(t *testing.T) {
	sqldbtest.EachPair(t, func(t *testing.T, db, other *sqldb.DB) {
		last, err := other.AuthEpoch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		check := func(what string, moves bool) {
			t.Helper()
			e, err := other.AuthEpoch(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if moved := e != last; moved != moves {
				t.Errorf("%s: epoch %d → %d, want moved=%v", what, last, e, moves)
			}
			last = e
		}
		anna := mustUser(t, db, "anna", false)
		check("a new user", false)
		tok, tt, err := db.CreateToken(ctx, anna.ID, "script")
		if err != nil {
			t.Fatal(err)
		}
		check("a new token", false)
		if _, err := db.FindUserByToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		check("the use of a token", false)
		limits := ipdesk.SessionLimits{Idle: 1 << 40, Absolute: 1 << 41}
		sec, err := db.CreateSession(ctx, &ipdesk.Session{UserID: anna.ID}, limits)
		if err != nil {
			t.Fatal(err)
		}
		check("a new session", false)
		if _, _, err := db.FindSession(ctx, sec, limits); err != nil {
			t.Fatal(err)
		}
		check("the use of a session", false)
		sp := &ipdesk.Space{Name: "s"}
		if err := db.CreateSpace(ctx, sp); err != nil {
			t.Fatal(err)
		}
		check("a new space", false)
		g := &ipdesk.Group{Name: "g", Members: []int64{anna.ID}}
		if err := db.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		check("a new group with a member", true)
		gr := &ipdesk.Grant{GroupID: g.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: sp.ID, Right: ipdesk.RightView}
		if err := db.CreateGrant(ctx, gr); err != nil {
			t.Fatal(err)
		}
		check("a grant", true)
		if err := db.DeleteGrant(ctx, gr.ID); err != nil {
			t.Fatal(err)
		}
		check("a revoked grant", true)
		if _, err := db.UpdateGroup(ctx, g.ID, ipdesk.GroupUpdate{ViewAll: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		check("a changed group", true)
		if err := db.DeleteToken(ctx, anna.ID, tt.ID); err != nil {
			t.Fatal(err)
		}
		check("a revoked token", true)
		if err := db.DeleteSession(ctx, sec); err != nil {
			t.Fatal(err)
		}
		check("a sign-out", true)
		if _, err := db.UpdateUser(ctx, anna.ID, ipdesk.UserUpdate{Disabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		check("a disabled user", true)
	})
}
