package directory

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/directory/ldaptest"
)

// testLDAPConfig is a config for the test slapd.
func testLDAPConfig(srv *ldaptest.Server) LDAPConfig {
	return LDAPConfig{
		URL: srv.URL, BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: ldaptest.PeopleDN, UserFilter: ldaptest.UserFilter,
		GroupBaseDN: ldaptest.GroupsDN, GroupFilter: ldaptest.GroupFilter,
		Groups: map[string][]string{
			ldaptest.TeachersDN: {"teachers"},
			"staff":             {"office", "helpdesk"},
		},
	}
}

func TestLDAPAuthenticate(t *testing.T) {
	srv := ldaptest.Start(t)
	ctx := context.Background()
	for _, variant := range []struct {
		name string
		mod  func(c *LDAPConfig)
	}{
		{"plain", func(c *LDAPConfig) {}},
		{"starttls", func(c *LDAPConfig) { c.StartTLS, c.CAFile = true, srv.CAFile }},
		{"ldaps", func(c *LDAPConfig) { c.URL, c.CAFile = srv.TLSURL, srv.CAFile }},
	} {
		t.Run(variant.name, func(t *testing.T) {
			cfg := testLDAPConfig(srv)
			variant.mod(&cfg)
			l, err := NewLDAP(cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := l.Authenticate(ctx, "anna", ldaptest.Password)
			if err != nil {
				t.Fatal(err)
			}
			if id.Name != "anna" || id.FullName != "Anna Lehrer" || id.Source != ipdesk.DirectoryLDAP ||
				!slices.Equal(id.Groups, []string{"teachers"}) || !slices.Equal(id.Managed, []string{"helpdesk", "office", "teachers"}) {
				t.Fatalf("anna: %+v", id)
			}
		})
	}
	l, err := NewLDAP(testLDAPConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	// Groups mapped by cn; a user in no group.
	if id, err := l.Authenticate(ctx, "ben", ldaptest.Password); err != nil || !slices.Equal(id.Groups, []string{"helpdesk", "office"}) {
		t.Fatalf("ben: %+v %v", id, err)
	}
	if id, err := l.Authenticate(ctx, "carl", ldaptest.Password); err != nil || len(id.Groups) != 0 {
		t.Fatalf("carl: %+v %v", id, err)
	}
	for _, tc := range []struct {
		name, password string
		unknown        bool
	}{
		{"anna", "wrong password", false},
		{"anna", "", false},
		{"nobody", ldaptest.Password, true},
		{"dora", ldaptest.Password, true}, // disabled
		{"an*", ldaptest.Password, true},  // escaped: no wildcard
		{"*", ldaptest.Password, true},
		{"anna)(uid=*", ldaptest.Password, true},
	} {
		_, err := l.Authenticate(ctx, tc.name, tc.password)
		if ipdesk.ErrorCode(err) != ipdesk.EUNAUTHORIZED {
			t.Errorf("%q/%q: %v, want unauthorized", tc.name, tc.password, err)
		}
		if errors.Is(err, ErrUnknownUser) != tc.unknown {
			t.Errorf("%q: unknown %v, want %v", tc.name, errors.Is(err, ErrUnknownUser), tc.unknown)
		}
	}
	// Without a group filter the memberOf attribute counts (none here).
	cfg := testLDAPConfig(srv)
	cfg.GroupFilter = ""
	l2, _ := NewLDAP(cfg)
	if id, err := l2.Authenticate(ctx, "anna", ldaptest.Password); err != nil || len(id.Groups) != 0 {
		t.Fatalf("memberOf: %+v %v", id, err)
	}
	// A wrong service password or a dead server is an internal error.
	cfg = testLDAPConfig(srv)
	cfg.BindPassword = "wrong"
	l3, _ := NewLDAP(cfg)
	if _, err := l3.Authenticate(ctx, "anna", ldaptest.Password); err == nil || ipdesk.ErrorCode(err) != ipdesk.EINTERNAL || !strings.Contains(err.Error(), "ldap.bind_dn") {
		t.Fatalf("bad service password: %v", err)
	}
	// TLS with a certificate the client does not trust fails.
	cfg = testLDAPConfig(srv)
	cfg.URL = srv.TLSURL
	l4, _ := NewLDAP(cfg)
	if _, err := l4.Authenticate(ctx, "anna", ldaptest.Password); ipdesk.ErrorCode(err) != ipdesk.EINTERNAL {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestLDAPConfigErrors(t *testing.T) {
	ok := LDAPConfig{URL: "ldap://dc.example.org", BaseDN: "dc=example,dc=org", UserFilter: "(uid={name})"}
	for _, tc := range []struct {
		mod  func(c *LDAPConfig)
		want string
	}{
		{func(c *LDAPConfig) { c.URL = "http://dc" }, `ldap.url "http://dc"`},
		{func(c *LDAPConfig) { c.URL = "ldaps://dc"; c.StartTLS = true }, "ldap.start_tls"},
		{func(c *LDAPConfig) { c.BaseDN = "" }, "ldap.base_dn is empty"},
		{func(c *LDAPConfig) { c.BaseDN = "not a dn" }, `ldap.base_dn "not a dn"`},
		{func(c *LDAPConfig) { c.UserFilter = "(uid=anna)" }, "ldap.user_filter \"(uid=anna)\" does not contain {name}"},
		{func(c *LDAPConfig) { c.UserFilter = "(uid={name}" }, "is not an LDAP filter"},
		{func(c *LDAPConfig) { c.GroupFilter = "(member=x)" }, "ldap.group_filter"},
		{func(c *LDAPConfig) { c.BindDN = "cn=x,dc=example,dc=org" }, "ldap.bind_dn and ldap.bind_password go together"},
		{func(c *LDAPConfig) { c.Timeout = "soon" }, `ldap.timeout "soon"`},
		{func(c *LDAPConfig) { c.Groups = map[string][]string{"teachers": {"bad\nname"}} }, "ldap.groups"},
		{func(c *LDAPConfig) { c.CAFile = "/nonexistent/ca.pem" }, "ldap.ca_file"},
	} {
		c := ok
		tc.mod(&c)
		if _, err := NewLDAP(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
	if _, err := NewLDAP(ok); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLDAPSignIn measures one LDAP sign-in (connect, search as the
// service account, bind as the user, search the groups) on the test
// slapd.
func BenchmarkLDAPSignIn(b *testing.B) {
	srv := ldaptest.Start(b)
	l, err := NewLDAP(testLDAPConfig(srv))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := l.Authenticate(ctx, "anna", ldaptest.Password); err != nil {
			b.Fatal(err)
		}
	}
}
