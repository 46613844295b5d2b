package web

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/directory"
	"ipdesk/directory/ldaptest"
	"ipdesk/sqldb"
)

// newLDAPEnv is a server whose users without a local account sign in
// through the test slapd; the directory's Teachers are the ipdesk group
// "teachers", which may override the timetable of a room.
func newLDAPEnv(t *testing.T, srv *ldaptest.Server) (*testEnv, int64, int64) {
	t.Helper()
	l, err := directory.NewLDAP(directory.LDAPConfig{
		URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
		BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: ldaptest.PeopleDN, UserFilter: ldaptest.UserFilter,
		GroupBaseDN: ldaptest.GroupsDN, GroupFilter: ldaptest.GroupFilter,
		Groups: map[string][]string{ldaptest.TeachersDN: {"teachers"}, "Staff": {"office", "no-such-group"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, filepath.Join(t.TempDir(), "t.db"), nil, func(_ *sqldb.DB, o *Options) { o.LDAP = l })
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "admin", Admin: true})
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	if err := e.db.CreateLocation(ctx, site); err != nil {
		t.Fatal(err)
	}
	room := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: "R101", ParentID: site.ID}
	if err := e.db.CreateLocation(ctx, room); err != nil {
		t.Fatal(err)
	}
	g := &ipdesk.Group{Name: "teachers"}
	if err := e.db.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateGrant(ctx, &ipdesk.Grant{GroupID: g.ID, ObjectType: ipdesk.ObjectLocation, ObjectID: room.ID, Right: ipdesk.RightOverride}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.CreateGroup(ctx, &ipdesk.Group{Name: "office"}); err != nil {
		t.Fatal(err)
	}
	return e, site.ID, room.ID
}

// TestLDAPSignIn: a teacher signs in with the directory password and gets
// a local record (a directory user, no local password) in the mapped group
// with the room-override right; the directory's changes of groups and of
// the account follow at the next sign-in; local accounts stay local.
func TestLDAPSignIn(t *testing.T) {
	srv := ldaptest.Start(t)
	e, site, room := newLDAPEnv(t, srv)
	ctx := context.Background()

	cookie := e.login("anna", ldaptest.Password)
	anna, err := e.db.FindUserByName(ctx, "anna")
	if err != nil {
		t.Fatal(err)
	}
	if anna.Directory != ipdesk.DirectoryLDAP || anna.FullName != "Anna Lehrer" || anna.Admin || anna.Disabled {
		t.Fatalf("anna: %+v", anna)
	}
	mayOverride := func() bool {
		t.Helper()
		p, err := e.db.FindPermissions(ctx, anna)
		if err != nil {
			t.Fatal(err)
		}
		return p.LocationRightOf(room, []int64{site}).Allows(ipdesk.RightOverride)
	}
	if !mayOverride() {
		t.Fatal("anna, a teacher, may not override the room")
	}
	if r := e.page("/settings", cookie); r.code != http.StatusOK || strings.Contains(string(r.body), `action="/settings/password"`) ||
		!strings.Contains(string(r.body), "You sign in through the directory") {
		t.Fatalf("settings of a directory user: %d", r.code)
	}
	// No local password: neither the stored hash nor a new one.
	if _, err := e.db.Authenticate(ctx, "anna", ldaptest.Password); ipdesk.ErrorCode(err) != ipdesk.EUNAUTHORIZED {
		t.Fatalf("local password check of a directory user: %v", err)
	}
	if err := e.db.SetPassword(ctx, anna.ID, "a new local password"); ipdesk.ErrorCode(err) != ipdesk.EINVALID {
		t.Fatalf("set password of a directory user: %v", err)
	}
	// Wrong directory password, unknown user, escaped filter values.
	for _, name := range []string{"anna", "nobody", "an*"} {
		pw := ldaptest.Password
		if name == "anna" {
			pw = "wrong password"
		}
		if r := e.form("POST", "/login", nil, url.Values{"name": {name}, "password": {pw}}); r.code != http.StatusUnauthorized {
			t.Errorf("sign-in as %q: %d", name, r.code)
		}
	}

	// Out of the Teachers group: out of "teachers" at the next sign-in.
	srv.Modify(t, "dn: "+ldaptest.TeachersDN+"\nchangetype: modify\ndelete: member\nmember: uid=anna,"+ldaptest.PeopleDN+"\n")
	e.login("anna", ldaptest.Password)
	if mayOverride() {
		t.Fatal("anna left Teachers but may still override")
	}
	// Disabled in the directory: refused, the local record disabled and
	// the session ended.
	srv.Modify(t, "dn: uid=anna,"+ldaptest.PeopleDN+"\nchangetype: modify\nadd: employeeType\nemployeeType: disabled\n")
	if r := e.form("POST", "/login", nil, url.Values{"name": {"anna"}, "password": {ldaptest.Password}}); r.code != http.StatusUnauthorized {
		t.Fatalf("disabled anna: %d", r.code)
	}
	if u, _ := e.db.FindUserByName(ctx, "anna"); !u.Disabled {
		t.Fatal("the local record of a disabled directory user stays enabled")
	}
	if r := e.page("/settings", cookie); r.code == http.StatusOK {
		t.Fatal("the session of a disabled directory user still works")
	}
	// Enabled again: enabled again.
	srv.Modify(t, "dn: uid=anna,"+ldaptest.PeopleDN+"\nchangetype: modify\ndelete: employeeType\n")
	e.login("anna", ldaptest.Password)

	// A mapped group that does not exist is skipped.
	e.login("ben", ldaptest.Password)
	if !strings.Contains(e.logs.String(), "no-such-group") {
		t.Error("the missing group is not logged")
	}
	// Local accounts sign in with their local password, not the
	// directory's.
	e.login("admin", "password123")
}

// TestLDAPLocalNameClash: a directory user whose name a local account has
// is refused, and the local account is untouched.
func TestLDAPLocalNameClash(t *testing.T) {
	srv := ldaptest.Start(t)
	e, _, _ := newLDAPEnv(t, srv)
	e.makeUser("carl", false)
	if r := e.form("POST", "/login", nil, url.Values{"name": {"carl"}, "password": {ldaptest.Password}}); r.code != http.StatusUnauthorized {
		t.Fatalf("carl with the directory password: %d", r.code)
	}
	if u, _ := e.db.FindUserByName(context.Background(), "carl"); u.Directory != "" {
		t.Fatalf("carl taken over: %+v", u)
	}
}

// TestLDAPDown: an unreachable directory gets a message on the sign-in
// page (503), not a wrong-password answer.
func TestLDAPDown(t *testing.T) {
	l, err := directory.NewLDAP(directory.LDAPConfig{URL: "ldap://127.0.0.1:1", BaseDN: "dc=x,dc=test", UserFilter: "(uid={name})"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, filepath.Join(t.TempDir(), "t.db"), nil, func(_ *sqldb.DB, o *Options) { o.LDAP = l })
	r := e.form("POST", "/login", nil, url.Values{"name": {"anna"}, "password": {"whatever it is"}})
	if r.code != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "directory server cannot be reached") {
		t.Fatalf("%d %s", r.code, r.body)
	}
}

// BenchmarkLDAPSignInPage measures a whole sign-in through the form with
// the directory: LDAP search and bind, the local record and groups kept,
// the session started.
func BenchmarkLDAPSignInPage(b *testing.B) {
	srv := ldaptest.Start(b)
	l, err := directory.NewLDAP(directory.LDAPConfig{
		URL: srv.URL, BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: ldaptest.PeopleDN, UserFilter: ldaptest.UserFilter,
		GroupBaseDN: ldaptest.GroupsDN, GroupFilter: ldaptest.GroupFilter,
		Groups: map[string][]string{ldaptest.TeachersDN: {"teachers"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	e := newEnvWith(b, filepath.Join(b.TempDir(), "t.db"), nil, func(_ *sqldb.DB, o *Options) { o.LDAP = l })
	for b.Loop() {
		e.login("anna", ldaptest.Password)
	}
}
