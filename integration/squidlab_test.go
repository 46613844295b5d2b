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

// squidLab is the file system of a squid test: a directory that squid's
// user "proxy" can read, with lists/ for the ACL lists and logs/, owned by
// that user, for squid's logs.
type squidLab struct {
	dir, lists, logs string
}

// newSquidLab checks for root, squid, curl and squid's user, and makes
// the directories. It calls t.Parallel once the checks passed.
func newSquidLab(t *testing.T) *squidLab {
	t.Helper()
	requireRoot(t)
	requireDaemon(t, squidPath)
	requireDaemon(t, curlPath)
	proxyUser, err := user.Lookup("proxy")
	if err != nil {
		skipOrFail(t, "squid's user \"proxy\" does not exist: %v", err)
	}
	uid, _ := strconv.Atoi(proxyUser.Uid)
	gid, _ := strconv.Atoi(proxyUser.Gid)
	t.Parallel()

	// squid drops root for the user proxy, which must be able to read
	// squid.conf and the lists and to write its logs.
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l := &squidLab{dir: dir, lists: filepath.Join(dir, "lists"), logs: filepath.Join(dir, "logs")}
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
func (l *squidLab) conf() string {
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
func (l *squidLab) startSquid(t *testing.T, proxy *netns, conf string) *process {
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
