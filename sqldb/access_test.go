package sqldb_test

import (
	"slices"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestDirectoryUsers: a directory user is created without a local
// password, its mapped groups follow the directory, a local account is
// not taken over, and a user gone from the directory is disabled.
func TestDirectoryUsers(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		local := mustUser(t, db, "carl", false)
		for _, g := range []string{"teachers", "office", "manual"} {
			if err := db.CreateGroup(ctx, &ipdesk.Group{Name: g}); err != nil {
				t.Fatal(err)
			}
		}
		managed := []string{"office", "teachers"}
		id := ipdesk.DirectoryIdentity{Source: ipdesk.DirectoryLDAP, Name: "anna", FullName: "Anna L", Groups: []string{"teachers", "missing"}, Managed: append(managed, "missing")}
		u, missing, err := db.SyncDirectoryUser(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Directory != ipdesk.DirectoryLDAP || u.FullName != "Anna L" || !slices.Equal(missing, []string{"missing"}) {
			t.Fatalf("%+v %v", u, missing)
		}
		groupNames := func() []string {
			gs, err := db.FindUserGroups(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, g := range gs {
				out = append(out, g.Name)
			}
			slices.Sort(out)
			return out
		}
		if got := groupNames(); !slices.Equal(got, []string{"teachers"}) {
			t.Fatalf("groups %v", got)
		}
		// An administrator adds her to an unmapped group; the directory
		// moves her from teachers to office.
		g, _, _ := db.FindGroups(ctx, ipdesk.Page{})
		for _, gr := range g {
			if gr.Name == "manual" {
				members := append(gr.Members, u.ID)
				if _, err := db.UpdateGroup(ctx, gr.ID, ipdesk.GroupUpdate{Members: &members}); err != nil {
					t.Fatal(err)
				}
			}
		}
		id.Groups, id.FullName = []string{"office"}, "Anna Lehrer"
		if u, _, err = db.SyncDirectoryUser(ctx, id); err != nil || u.FullName != "Anna Lehrer" {
			t.Fatalf("%+v %v", u, err)
		}
		if got := groupNames(); !slices.Equal(got, []string{"manual", "office"}) {
			t.Fatalf("groups after the move %v", got)
		}
		if _, err := db.Authenticate(ctx, "anna", ""); ipdesk.ErrorCode(err) != ipdesk.EUNAUTHORIZED {
			t.Fatalf("empty password of a directory user: %v", err)
		}
		// No take-over of a local account, nor across directories.
		_, _, err = db.SyncDirectoryUser(ctx, ipdesk.DirectoryIdentity{Source: ipdesk.DirectoryLDAP, Name: "carl"})
		wantCode(t, err, ipdesk.ECONFLICT)
		_, _, err = db.SyncDirectoryUser(ctx, ipdesk.DirectoryIdentity{Source: ipdesk.DirectoryOIDC, Name: "anna"})
		wantCode(t, err, ipdesk.ECONFLICT)
		// Disabled: only directory users of that directory.
		if err := db.DisableDirectoryUser(ctx, ipdesk.DirectoryLDAP, "carl"); err != nil {
			t.Fatal(err)
		}
		if c, _ := db.FindUserByID(ctx, local.ID); c.Disabled {
			t.Fatal("a local account was disabled")
		}
		if err := db.DisableDirectoryUser(ctx, ipdesk.DirectoryLDAP, "anna"); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.FindUserByID(ctx, u.ID); !a.Disabled {
			t.Fatal("anna stays enabled")
		}
		if u, _, err = db.SyncDirectoryUser(ctx, id); err != nil || u.Disabled {
			t.Fatalf("back in the directory: %+v %v", u, err)
		}
	})
}

// TestTOTPSteps: two-factor is set and cleared for local accounts only, and
// a step is used once.
func TestTOTPSteps(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		anna := mustUser(t, db, "anna", false)
		if err := db.SetTOTP(ctx, anna.ID, "JBSWY3DPEHPK3PXP", 100); err != nil {
			t.Fatal(err)
		}
		s, last, err := db.FindTOTP(ctx, anna.ID)
		if err != nil || s != "JBSWY3DPEHPK3PXP" || last != 100 {
			t.Fatalf("%q %d %v", s, last, err)
		}
		wantCode(t, db.UseTOTPStep(ctx, anna.ID, 100), ipdesk.EUNAUTHORIZED)
		wantCode(t, db.UseTOTPStep(ctx, anna.ID, 99), ipdesk.EUNAUTHORIZED)
		if err := db.UseTOTPStep(ctx, anna.ID, 101); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.UseTOTPStep(ctx, anna.ID, 101), ipdesk.EUNAUTHORIZED)
		if err := db.SetTOTP(ctx, anna.ID, "", 0); err != nil {
			t.Fatal(err)
		}
		if s, _, _ := db.FindTOTP(ctx, anna.ID); s != "" {
			t.Fatal("still on")
		}
		dir, _, err := db.SyncDirectoryUser(ctx, ipdesk.DirectoryIdentity{Source: ipdesk.DirectoryOIDC, Name: "olga"})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.SetTOTP(ctx, dir.ID, "JBSWY3DPEHPK3PXP", 1), ipdesk.EINVALID)
	})
}

// TestScopedTokens: scope and expiry are stored and read back; an expired
// token finds no user.
func TestScopedTokens(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		anna := mustUser(t, db, "anna", false)
		at := time.Now().Add(time.Hour).Truncate(time.Microsecond)
		s, tok, err := db.CreateScopedToken(ctx, anna.ID, ipdesk.TokenSpec{Description: "grafana", Scope: ipdesk.ScopeRead, ExpiresAt: &at})
		if err != nil {
			t.Fatal(err)
		}
		u, err := db.FindUserByToken(ctx, s)
		if err != nil || u.Token == nil || u.Token.ID != tok.ID || u.Token.Scope != ipdesk.ScopeRead || !u.Token.ExpiresAt.Equal(at) {
			t.Fatalf("%+v %v", u, err)
		}
		list, _ := db.FindTokens(ctx, anna.ID)
		if list[0].Scope != ipdesk.ScopeRead || !list[0].ExpiresAt.Equal(at) {
			t.Fatalf("%+v", list[0])
		}
		_, _, err = db.CreateScopedToken(ctx, anna.ID, ipdesk.TokenSpec{Scope: "root"})
		wantCode(t, err, ipdesk.EINVALID)
		past := time.Now().Add(-time.Minute)
		_, _, err = db.CreateScopedToken(ctx, anna.ID, ipdesk.TokenSpec{ExpiresAt: &past})
		wantCode(t, err, ipdesk.EINVALID)
		db.Now = func() time.Time { return at }
		_, err = db.FindUserByToken(ctx, s)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
	})
}
