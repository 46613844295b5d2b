//go:build linux

package integration

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// squidFiles is the file system of a squid test: a directory that
// squid's user "proxy" can read, with lists/ for the ACL lists and logs/,
// owned by that user, for squid's logs.
type squidFiles struct {
	dir, lists, logs string
}

// newRoomLab checks for root, squid, curl and squid's user, and makes
// the directories. It calls t.Parallel once the checks passed.
func newRoomLab(t *testing.T) *squidFiles {
	t.Helper()
	requireRoot(t)
	l := newSquidFiles(t)
	t.Parallel()
	return l
}

// newSquidFiles checks for squid, curl and squid's user, and makes the
// directories.
func newSquidFiles(t *testing.T) *squidFiles {
	t.Helper()
	requireDaemon(t, squidPath)
	requireDaemon(t, curlPath)
	proxyUser, err := user.Lookup("proxy")
	if err != nil {
		skipOrFail(t, "squid's user \"proxy\" does not exist: %v", err)
	}
	uid, _ := strconv.Atoi(proxyUser.Uid)
	gid, _ := strconv.Atoi(proxyUser.Gid)

	// squid drops root for the user proxy, which must be able to read
	// squid.conf and the lists and to write its logs.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l := &squidFiles{dir: dir, lists: filepath.Join(dir, "lists"), logs: filepath.Join(dir, "logs")}
	for _, d := range []string{l.lists, l.logs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(l.logs, uid, gid); err != nil {
		t.Fatal(err)
	}
	return l
}

// conf returns the first lines of the test's squid.conf: squid listens on
// 10.77.0.1:3128, caches nothing, logs into the lab and asks no DNS server
// outside the test's namespaces.
func (l *squidFiles) conf() string {
	return fmt.Sprintf(`# The operator's squid.conf for the test: no cache, logs in the test's
# directory, no DNS or ICMP helpers.
http_port 10.77.0.1:3128
visible_hostname ipdesk-test-proxy
cache_effective_user proxy
pid_filename %[1]s/squid.pid
cache_log %[1]s/logs/cache.log
access_log stdio:%[1]s/logs/access.log
coredump_dir %[1]s/logs
cache deny all
cache_mem 8 MB
pinger_enable off
dns_nameservers 127.0.0.1
netdb_filename none
max_filedescriptors 1024
shutdown_lifetime 0 seconds
`, l.dir)
}

// startSquid starts squid with conf in the namespace proxy; when the test
// fails, its cache.log is logged.
func (l *squidFiles) startSquid(t *testing.T, proxy *netns, conf string) *process {
	t.Helper()
	squid := startDaemon(t, "squid", childEnv(), proxy.command(squidPath, "-N", "-f", conf)...)
	t.Cleanup(func() {
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(l.logs, "cache.log")); err == nil {
				t.Logf("squid's cache.log:\n%s", log)
			}
		}
	})
	return squid
}

// squidClient is a client namespace on the proxy's bridge.
type squidClient struct {
	role string // namespace role, e.g. "client0"
	port string // the bridge port in the proxy's namespace
	ip   string // the client's address in 10.77.0.0/24
}

// network makes the namespace "proxy" with a bridge br0 at 10.77.0.1/24,
// one namespace per client on that bridge, and the namespace "origin"
// behind the proxy (10.78.0.2, reached through 10.78.0.1), where an HTTP
// server (the returned process) answers every request with the returned
// body.
func (l *squidFiles) network(t *testing.T, clients ...squidClient) (proxy *netns, nss []*netns, orig *process, body string) {
	t.Helper()
	proxy = newNetns(t, "proxy")
	origin := newNetns(t, "origin")
	proxy.ip(t, "link", "add", "br0", "type", "bridge")
	proxy.addr(t, "10.77.0.1/24", "br0")
	proxy.ip(t, "link", "set", "br0", "up")
	for _, c := range clients {
		ns := newNetns(t, c.role)
		veth(t, proxy, c.port, ns, "eth0")
		proxy.ip(t, "link", "set", c.port, "master", "br0")
		ns.addr(t, c.ip+"/24", "eth0")
		nss = append(nss, ns)
	}
	veth(t, proxy, "up0", origin, "eth0")
	proxy.addr(t, "10.78.0.1/24", "up0")
	origin.addr(t, "10.78.0.2/24", "eth0")

	body = "ipdesk origin " + randomHex(8) + "\n"
	orig = startDaemon(t, "origin", childEnv(), origin.command(selfPath, helperFlag, "origin", "10.78.0.2:8080", body)...)
	if err := orig.waitOutput("origin listening", 1, startTimeout); err != nil {
		t.Fatal(err)
	}
	return proxy, nss, orig, body
}
