// Package directory signs users in through a directory: an LDAP or Active
// Directory server (bind with the user's password) or an OpenID Connect
// provider (single sign-on). Both return an ipdesk.DirectoryIdentity with
// the directory's groups mapped to ipdesk groups; the web server keeps the
// local record with the store.
package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"ipdesk"
)

// LDAPConfig is the "ldap" section of the config file.
type LDAPConfig struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string `json:"url"`
	// StartTLS upgrades an ldap:// connection to TLS before anything is
	// sent; refused with ldaps://.
	StartTLS bool `json:"start_tls"`
	// CAFile is a PEM file of the CAs that sign the server's certificate;
	// "" uses the system's.
	CAFile string `json:"ca_file"`
	// InsecureSkipVerify accepts any server certificate (tests only).
	InsecureSkipVerify bool `json:"insecure_skip_verify"`
	// BindDN and BindPassword are the service account that searches for
	// users and groups; both "" search anonymously. BindPasswordFile
	// reads the password from a file instead.
	BindDN           string `json:"bind_dn"`
	BindPassword     string `json:"bind_password"`
	BindPasswordFile string `json:"bind_password_file"`
	// BaseDN is where users are searched (subtree).
	BaseDN string `json:"base_dn"`
	// UserFilter finds the user; {name} is replaced by the name typed at
	// sign-in, escaped. It should leave out disabled accounts, e.g. for
	// Active Directory
	// (&(objectClass=user)(sAMAccountName={name})(!(userAccountControl:1.2.840.113556.1.4.803:=2))).
	UserFilter string `json:"user_filter"`
	// NameAttribute is the attribute whose value becomes the ipdesk user
	// name (default uid; sAMAccountName for Active Directory);
	// FullNameAttribute the display name (default cn).
	NameAttribute     string `json:"name_attribute"`
	FullNameAttribute string `json:"full_name_attribute"`
	// GroupBaseDN and GroupFilter search the user's groups; {dn} is the
	// user's DN and {name} the user name, escaped. Without GroupFilter
	// the user's memberOf attribute names the groups.
	GroupBaseDN string `json:"group_base_dn"`
	GroupFilter string `json:"group_filter"`
	// Groups maps directory groups (by DN or by cn, case-insensitive) to
	// ipdesk groups.
	Groups map[string][]string `json:"groups"`
	// Timeout bounds each sign-in's talk with the server (default 5s).
	Timeout string `json:"timeout"`
}

// Enabled reports whether LDAP sign-in is configured.
func (c *LDAPConfig) Enabled() bool { return c.URL != "" }

// LDAP signs users in against an LDAP server. Create it with NewLDAP.
type LDAP struct {
	cfg      LDAPConfig
	tls      *tls.Config
	password string
	timeout  time.Duration
	mapping  groupMap
}

// DefaultLDAPTimeout bounds a sign-in's talk with the LDAP server.
const DefaultLDAPTimeout = 5 * time.Second

// NewLDAP checks c and returns the client. Errors name the key ("ldap.url")
// and the value.
func NewLDAP(c LDAPConfig) (*LDAP, error) {
	l := &LDAP{cfg: c, timeout: DefaultLDAPTimeout}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("ldap.url %q is not an ldap:// or ldaps:// URL such as \"ldaps://dc.example.org\"", c.URL)
	}
	if c.StartTLS && u.Scheme == "ldaps" {
		return nil, fmt.Errorf("ldap.start_tls is for ldap:// URLs; %q is TLS already", c.URL)
	}
	l.tls = &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: c.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap.ca_file %q holds no PEM certificate", c.CAFile)
		}
		l.tls.RootCAs = pool
	}
	if c.BaseDN == "" {
		return nil, errors.New("ldap.base_dn is empty; it says where users are searched, such as \"ou=people,dc=example,dc=org\"")
	}
	if _, err := ldap.ParseDN(c.BaseDN); err != nil {
		return nil, fmt.Errorf("ldap.base_dn %q is not a DN: %v", c.BaseDN, err)
	}
	if c.GroupBaseDN != "" {
		if _, err := ldap.ParseDN(c.GroupBaseDN); err != nil {
			return nil, fmt.Errorf("ldap.group_base_dn %q is not a DN: %v", c.GroupBaseDN, err)
		}
	}
	if err := checkFilter("ldap.user_filter", c.UserFilter, "{name}", true); err != nil {
		return nil, err
	}
	if err := checkFilter("ldap.group_filter", c.GroupFilter, "{dn}", false); err != nil {
		return nil, err
	}
	if c.BindPassword != "" && c.BindPasswordFile != "" {
		return nil, errors.New("ldap.bind_password and ldap.bind_password_file are both set; use one")
	}
	l.password = c.BindPassword
	if c.BindPasswordFile != "" {
		b, err := os.ReadFile(c.BindPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("ldap.bind_password_file: %w", err)
		}
		l.password = strings.TrimRight(string(b), "\r\n")
	}
	if (c.BindDN == "") != (l.password == "") {
		return nil, errors.New("ldap.bind_dn and ldap.bind_password go together: set both for a service account, or neither to search anonymously")
	}
	if l.cfg.NameAttribute == "" {
		l.cfg.NameAttribute = "uid"
	}
	if l.cfg.FullNameAttribute == "" {
		l.cfg.FullNameAttribute = "cn"
	}
	if c.Timeout != "" {
		d, err := time.ParseDuration(c.Timeout)
		if err != nil || d <= 0 || d > time.Minute {
			return nil, fmt.Errorf("ldap.timeout %q is not a duration up to a minute such as \"5s\"", c.Timeout)
		}
		l.timeout = d
	}
	if l.mapping, err = newGroupMap("ldap.groups", c.Groups); err != nil {
		return nil, err
	}
	return l, nil
}

// checkFilter checks a configured filter template: it must hold the
// placeholder (when required) and parse as an LDAP filter.
func checkFilter(key, f, placeholder string, required bool) error {
	if f == "" {
		if required {
			return fmt.Errorf("%s is empty; it finds the user, such as \"(&(objectClass=inetOrgPerson)(uid={name}))\"", key)
		}
		return nil
	}
	if !strings.Contains(f, placeholder) {
		return fmt.Errorf("%s %q does not contain %s", key, f, placeholder)
	}
	probe := strings.NewReplacer("{name}", "x", "{dn}", "cn=x").Replace(f)
	if _, err := ldap.CompileFilter(probe); err != nil {
		return fmt.Errorf("%s %q is not an LDAP filter: %v", key, f, err)
	}
	return nil
}

// Managed returns the ipdesk groups the mapping can grant.
func (l *LDAP) Managed() []string { return l.mapping.managed() }

// ErrUnknownUser is wrapped by Authenticate's error when the directory
// has no enabled user of the name: the caller may disable a local record.
var ErrUnknownUser = errors.New("the directory has no enabled user of this name")

// adDisabled is Active Directory's ACCOUNTDISABLE bit of
// userAccountControl.
const adDisabled = 0x2

// Authenticate finds the user by name with the service account, binds as
// the user with password, and reads their groups. A wrong password, an
// unknown or disabled user give EUNAUTHORIZED (for the last two wrapping
// ErrUnknownUser); an unreachable server gives an EINTERNAL error that
// says so.
func (l *LDAP) Authenticate(ctx context.Context, name, password string) (*ipdesk.DirectoryIdentity, error) {
	bad := ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "wrong user name or password")
	// An empty password would be an unauthenticated bind, which many
	// servers accept: never a sign-in.
	if name == "" || password == "" || len(password) > ipdesk.MaxPasswordLen || len(name) > ipdesk.MaxNameLen {
		return nil, bad
	}
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	conn, err := l.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if err := l.serviceBind(conn); err != nil {
		return nil, err
	}
	filter := strings.ReplaceAll(l.cfg.UserFilter, "{name}", ldap.EscapeFilter(name))
	attrs := []string{l.cfg.NameAttribute, l.cfg.FullNameAttribute, "memberOf", "userAccountControl"}
	res, err := conn.Search(ldap.NewSearchRequest(l.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, int(l.timeout/time.Second)+1, false, filter, attrs, nil))
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, unavailable("search the user", err)
	}
	switch {
	case len(res.Entries) == 0:
		return nil, fmt.Errorf("%w: %w", bad, ErrUnknownUser)
	case len(res.Entries) > 1:
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "ldap.user_filter finds more than one entry for %q; it must find one", name)
	}
	e := res.Entries[0]
	if uac, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64); err == nil && uac&adDisabled != 0 {
		return nil, fmt.Errorf("%w: %w", bad, ErrUnknownUser)
	}
	if err := conn.Bind(e.DN, password); err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			return nil, bad
		}
		return nil, unavailable("bind as the user", err)
	}
	id := &ipdesk.DirectoryIdentity{Source: ipdesk.DirectoryLDAP, Name: e.GetAttributeValue(l.cfg.NameAttribute),
		FullName: e.GetAttributeValue(l.cfg.FullNameAttribute), Managed: l.mapping.managed()}
	if id.Name == "" {
		return nil, ipdesk.Errorf(ipdesk.EUNAUTHORIZED, "the directory entry of %q has no %s", name, l.cfg.NameAttribute)
	}
	groups := e.GetAttributeValues("memberOf")
	if l.cfg.GroupFilter != "" {
		// Search the groups as the service account again: the user may
		// not be allowed to read them.
		if err := l.serviceBind(conn); err != nil {
			return nil, err
		}
		base := l.cfg.GroupBaseDN
		if base == "" {
			base = l.cfg.BaseDN
		}
		gf := strings.NewReplacer("{dn}", ldap.EscapeFilter(e.DN), "{name}", ldap.EscapeFilter(id.Name)).Replace(l.cfg.GroupFilter)
		gres, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 1000, int(l.timeout/time.Second)+1, false, gf, []string{"cn"}, nil))
		if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
			return nil, unavailable("search the user's groups", err)
		}
		for _, g := range gres.Entries {
			groups = append(groups, g.DN)
		}
	}
	id.Groups = l.mapping.lookup(groups)
	return id, nil
}

// dial connects to the server, with StartTLS when configured.
func (l *LDAP) dial(ctx context.Context) (*ldap.Conn, error) {
	d := &net.Dialer{}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	conn, err := ldap.DialURL(l.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(l.tls))
	if err != nil {
		return nil, unavailable("connect", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetTimeout(time.Until(dl))
	}
	if l.cfg.StartTLS {
		if err := conn.StartTLS(l.tls); err != nil {
			conn.Close()
			return nil, unavailable("start TLS", err)
		}
	}
	return conn, nil
}

// serviceBind binds as the service account, if one is configured.
func (l *LDAP) serviceBind(conn *ldap.Conn) error {
	if l.cfg.BindDN == "" {
		return nil
	}
	if err := conn.Bind(l.cfg.BindDN, l.password); err != nil {
		return unavailable("bind as ldap.bind_dn", err)
	}
	return nil
}

// unavailable is the error of a directory that does not work as
// configured: an internal error whose message the log shows.
func unavailable(step string, err error) error {
	return fmt.Errorf("the directory server did not answer as configured (%s): %w", step, err)
}

// groupMap maps directory groups (by DN or cn, lower case) to ipdesk
// groups.
type groupMap map[string][]string

func newGroupMap(key string, m map[string][]string) (groupMap, error) {
	out := groupMap{}
	for dir, groups := range m {
		if strings.TrimSpace(dir) == "" {
			return nil, fmt.Errorf("%s has an empty directory group name", key)
		}
		for _, g := range groups {
			if err := ipdesk.ValidateName(key, g); err != nil {
				return nil, fmt.Errorf("%s %q: ipdesk group %q: %s", key, dir, g, ipdesk.ErrorMessage(err))
			}
		}
		k := normGroup(dir)
		out[k] = append(out[k], groups...)
	}
	return out, nil
}

// normGroup is the key of a directory group: its DN in lower case, as
// parsed (so spacing does not matter), or the name as given.
func normGroup(s string) string {
	if dn, err := ldap.ParseDN(s); err == nil && len(dn.RDNs) > 1 {
		return strings.ToLower(dn.String())
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// lookup returns the ipdesk groups of the directory groups (DNs or
// names), sorted, each once.
func (m groupMap) lookup(dirGroups []string) []string {
	var out []string
	for _, g := range dirGroups {
		out = append(out, m[normGroup(g)]...)
		// A DN's first cn also matches a mapping by name.
		if dn, err := ldap.ParseDN(g); err == nil && len(dn.RDNs) > 0 {
			for _, a := range dn.RDNs[0].Attributes {
				if strings.EqualFold(a.Type, "cn") {
					out = append(out, m[strings.ToLower(a.Value)]...)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// managed returns every ipdesk group of the mapping, sorted, each once.
func (m groupMap) managed() []string {
	var out []string
	for _, gs := range m {
		out = append(out, gs...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
