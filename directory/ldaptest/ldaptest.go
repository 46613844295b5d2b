// Package ldaptest starts a real OpenLDAP slapd for tests: on loopback
// ports, with its own configuration, database and TLS certificate in a
// temporary directory, loaded with fixture users and groups by ldapadd.
// Without slapd or ldapadd the test is skipped, and fails under CI=true.
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fixture names: the base DN, the service account and its password.
const (
	BaseDN          = "dc=school,dc=test"
	PeopleDN        = "ou=people," + BaseDN
	GroupsDN        = "ou=groups," + BaseDN
	ServiceDN       = "cn=ipdesk,ou=services," + BaseDN
	ServicePassword = "service-secret"
	// TeachersDN and StaffDN are groups (groupOfNames).
	TeachersDN = "cn=Teachers," + GroupsDN
	StaffDN    = "cn=Staff," + GroupsDN
	// Password is the password of every fixture user.
	Password = "correct horse battery"
)

// Fixture users: anna (teacher), ben (staff), carl (in no group),
// dora (disabled: employeeType disabled, left out by UserFilter) and
// "eve*)(uid=*" whose name tests filter escaping.
const UserFilter = "(&(objectClass=inetOrgPerson)(uid={name})(!(employeeType=disabled)))"

// GroupFilter finds the groups that list the user as member.
const GroupFilter = "(&(objectClass=groupOfNames)(member={dn}))"

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:PORT; TLSURL ldaps://127.0.0.1:PORT.
	URL    string
	TLSURL string
	// CAFile is the PEM file of the self-signed certificate the server
	// presents (for 127.0.0.1 and localhost).
	CAFile string
	dir    string
	conf   string
}

// need finds a program or fails (CI) or skips the test.
func need(t testing.TB, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if _, err := os.Stat(n); err == nil {
			return n
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (Debian packages slapd, ldap-utils)", names[0])
	}
	t.Skipf("%s is not installed (Debian packages slapd, ldap-utils)", names[0])
	return ""
}

// Start runs slapd until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	slapd := need(t, "slapd", "/usr/sbin/slapd")
	ldapadd := need(t, "ldapadd")
	dir := t.TempDir()
	s := &Server{dir: dir, conf: filepath.Join(dir, "slapd.conf"), CAFile: filepath.Join(dir, "cert.pem")}
	keyFile := filepath.Join(dir, "key.pem")
	writeCert(t, s.CAFile, keyFile)
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	moduleDir := "/usr/lib/ldap"
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile %[1]s/slapd.pid
modulepath %[2]s
moduleload back_mdb
TLSCertificateFile %[3]s
TLSCertificateKeyFile %[4]s
database mdb
maxsize 10485760
suffix "%[5]s"
rootdn "cn=admin,%[5]s"
rootpw admin-secret
directory %[1]s/db
access to attrs=userPassword by anonymous auth by self write by * none
access to * by users read by * none
`, dir, moduleDir, s.CAFile, keyFile, BaseDN)
	if err := os.WriteFile(s.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	port, tlsPort := freePort(t), freePort(t)
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	s.TLSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort)
	var logs bytes.Buffer
	cmd := exec.Command(slapd, "-d", "0", "-f", s.conf, "-h", s.URL+"/ "+s.TLSURL+"/")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	// Wait until slapd accepts connections (or has died).
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("slapd ended: %s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	add := exec.Command(ldapadd, "-x", "-H", s.URL, "-D", "cn=admin,"+BaseDN, "-w", "admin-secret")
	add.Stdin = strings.NewReader(fixture())
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ldapadd: %v\n%s", err, out)
	}
	return s
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeCert writes a self-signed certificate for 127.0.0.1 and localhost.
func writeCert(t testing.TB, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fixture is the LDIF of the test directory.
func fixture() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: %s\nobjectClass: dcObject\nobjectClass: organization\no: School\ndc: school\n\n", BaseDN)
	for _, ou := range []string{"people", "groups", "services"} {
		fmt.Fprintf(&b, "dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n", ou, BaseDN, ou)
	}
	fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\ncn: ipdesk\nsn: service\nuserPassword: %s\n\n", ServiceDN, ServicePassword)
	for _, u := range []struct{ uid, cn, extra string }{
		{"anna", "Anna Lehrer", ""},
		{"ben", "Ben Verwaltung", ""},
		{"carl", "Carl Gast", ""},
		{"dora", "Dora Weg", "employeeType: disabled\n"},
		{"eve", "Eve", ""},
	} {
		fmt.Fprintf(&b, "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nuserPassword: %s\n%s\n", u.uid, PeopleDN, u.uid, u.cn, u.uid, Password, u.extra)
	}
	fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: Teachers\nmember: uid=anna,%s\nmember: uid=dora,%s\n\n", TeachersDN, PeopleDN, PeopleDN)
	fmt.Fprintf(&b, "dn: %s\nobjectClass: groupOfNames\ncn: Staff\nmember: uid=ben,%s\n\n", StaffDN, PeopleDN)
	return b.String()
}

// Modify runs an LDIF change (ldapmodify) as the directory's admin.
func (s *Server) Modify(t testing.TB, ldif string) {
	t.Helper()
	cmd := exec.Command(need(t, "ldapmodify"), "-x", "-H", s.URL, "-D", "cn=admin,"+BaseDN, "-w", "admin-secret")
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldapmodify: %v\n%s", err, out)
	}
}
