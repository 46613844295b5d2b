//go:build linux

package integration

// The test laboratory: root and program checks, network namespaces, links,
// daemon processes, a restarting service, and bounded waits.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Programs the tests run, where Debian installs them.
const (
	ipPath      = "/usr/sbin/ip"
	killPath    = "/usr/bin/kill"
	busyboxPath = "/bin/busybox"
	curlPath    = "/usr/bin/curl"
	dhcpdPath   = "/usr/sbin/dhcpd"
	keaPath     = "/usr/sbin/kea-dhcp4"
	dnsmasqPath = "/usr/sbin/dnsmasq"
	squidPath   = "/usr/sbin/squid"
)

// Time limits. Every wait in these tests is bounded by one of them.
const (
	// cmdTimeout bounds one short command: ip, curl, udhcpc, kill.
	cmdTimeout = 15 * time.Second
	// startTimeout bounds a daemon's start until it serves.
	startTimeout = 15 * time.Second
	// stopTimeout bounds a daemon's orderly stop before it is killed.
	stopTimeout = 5 * time.Second
	// changeTimeout bounds the time from an applied change until a client
	// sees it.
	changeTimeout = 20 * time.Second
	// targetTimeout is the apply.Target time limit of each check and reload.
	targetTimeout = 20 * time.Second
	// pollInterval is the pause between two looks at a condition.
	pollInterval = 50 * time.Millisecond
)

// nsPrefix starts the name of every namespace the tests create. The name
// goes on with the PID of the test process, so that a later run can tell
// the namespaces of a crashed run from those of a running one.
const nsPrefix = "ipdesk-t-"

// selfPath is the absolute path of the test binary, which the targets'
// commands run in helper mode (see TestMain).
var selfPath string

// skipOrFail skips the test, or fails it when the environment variable CI
// is "true": CI must not pass without running the daemons.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true requires the integration tests to run)", msg)
	}
	t.Skip(msg)
}

// requireRoot skips the test unless it runs as root with iproute2 and
// network namespaces at hand (or fails it under CI=true).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "the integration tests need root to create network namespaces")
	}
	requireDaemon(t, ipPath)
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		skipOrFail(t, "this kernel has no network namespaces: %v", err)
	}
	if selfPath == "" {
		t.Fatal("the path of the test binary is unknown, so the targets cannot run it as a helper")
	}
}

// requireDaemon skips the test when the program at path is not installed
// (or fails it under CI=true) and returns path.
func requireDaemon(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		skipOrFail(t, "%s is not installed", path)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		skipOrFail(t, "%s is not an executable file", path)
	}
	return path
}

// childEnv is the whole environment of the programs the tests start: no
// proxy variables or locale of the caller leak into them.
func childEnv(extra ...string) []string {
	return append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}, extra...)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// run runs argv to completion within cmdTimeout and returns its standard
// output. The error carries the standard error output.
func run(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", cmdTimeout)
		}
		return stdout.String(), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// mustRun is run that fails the test on error.
func mustRun(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := run(argv...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// netns is a network namespace that a test created.
type netns struct {
	name string
}

// newNetns creates a network namespace for role ("server", "client" …)
// with its loopback up, and deletes it, with anything still running in
// it, when the test ends.
func newNetns(t *testing.T, role string) *netns {
	t.Helper()
	ns := &netns{name: fmt.Sprintf("%s%d-%s-%s", nsPrefix, os.Getpid(), randomHex(3), role)}
	mustRun(t, ipPath, "netns", "add", ns.name)
	t.Cleanup(func() {
		if err := removeNetns(ns.name); err != nil {
			t.Error(err)
		}
	})
	ns.ip(t, "link", "set", "lo", "up")
	return ns
}

// ip runs "ip -n NS args…".
func (ns *netns) ip(t *testing.T, args ...string) string {
	t.Helper()
	return mustRun(t, append([]string{ipPath, "-n", ns.name}, args...)...)
}

// command returns argv prefixed so that it runs inside the namespace.
// "ip netns exec" executes the program in its own place, so the process
// started is the program itself.
func (ns *netns) command(argv ...string) []string {
	return append([]string{ipPath, "netns", "exec", ns.name}, argv...)
}

// addr gives dev inside the namespace the address cidr.
func (ns *netns) addr(t *testing.T, cidr, dev string) {
	t.Helper()
	ns.ip(t, "addr", "add", cidr, "dev", dev)
}

// veth connects namespace a (interface aName) with namespace b (interface
// bName) by a veth pair created inside a, and sets both ends up. The pair
// never exists in the host's namespace.
func veth(t *testing.T, a *netns, aName string, b *netns, bName string) {
	t.Helper()
	a.ip(t, "link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.name)
	a.ip(t, "link", "set", aName, "up")
	b.ip(t, "link", "set", bName, "up")
}

// removeNetns kills what still runs in the namespace (all of it started
// by the test that created it) and deletes the namespace.
func removeNetns(name string) error {
	deadline := time.Now().Add(stopTimeout)
	for {
		out, err := run(ipPath, "netns", "pids", name)
		if err != nil {
			return err
		}
		pids := strings.Fields(out)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %s in namespace %s did not end", strings.Join(pids, " "), name)
		}
		for _, p := range pids {
			if pid, err := strconv.Atoi(p); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(pollInterval)
	}
	_, err := run(ipPath, "netns", "del", name)
	return err
}

// sweepStaleNamespaces deletes the namespaces that an earlier run of these
// tests left behind when it was killed before its cleanup ran: those whose
// creating process no longer exists.
func sweepStaleNamespaces() {
	if os.Geteuid() != 0 {
		return
	}
	out, err := run(ipPath, "netns", "list")
	if err != nil {
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], nsPrefix) {
			continue
		}
		pidText, _, ok := strings.Cut(strings.TrimPrefix(f[0], nsPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			if err := removeNetns(f[0]); err != nil {
				fmt.Fprintf(os.Stderr, "removing the stale namespace %s: %v\n", f[0], err)
			}
		}
	}
}

// syncBuffer collects a process's output; it is safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is a daemon started by a test, in a process group of its own.
type process struct {
	name string
	cmd  *exec.Cmd
	out  syncBuffer    // standard output and standard error
	done chan struct{} // closed when the process has been waited for
	err  error         // the result of Wait, valid after done
}

// startProcess starts argv with the environment env. The process gets
// SIGKILL if the test binary dies, so that a crashed run leaves no daemon
// behind. The caller stops it.
func startProcess(name string, env []string, argv ...string) (*process, error) {
	p := &process{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// startDaemon starts argv and stops it when the test ends, showing its
// output if the test failed.
func startDaemon(t *testing.T, name string, env []string, argv ...string) *process {
	t.Helper()
	p, err := startProcess(name, env, argv...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// pid returns the process ID.
func (p *process) pid() int { return p.cmd.Process.Pid }

// exited tells whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process and its group: SIGTERM, and SIGKILL when it is
// still there after stopTimeout.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	pgid := p.pid() // the process leads its group
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return fmt.Errorf("%s (pid %d) did not end after SIGKILL", p.name, pgid)
	}
}

// waitOutput waits until the output has at least n occurrences of s. It
// gives up when the process ends or timeout runs out.
func (p *process) waitOutput(s string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if strings.Count(p.out.String(), s) >= n {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s ended (%v) before it wrote %q", p.name, p.err, s)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not write %q within %s", p.name, s, timeout)
		}
		time.Sleep(pollInterval)
	}
}

// waitFor polls cond until it returns true, an error, or timeout runs
// out; the error then names what and the last problem cond reported.
func waitFor(timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("%s: not within %s; last: %v", what, timeout, last)
			}
			return fmt.Errorf("%s: not within %s", what, timeout)
		}
		time.Sleep(pollInterval)
	}
}

// writeFile writes data to path with the given mode.
func writeFile(t *testing.T, path string, data string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

// readFile returns the contents of path.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tempFiles returns the names of apply's temporary files in dir: what an
// apply must not leave behind.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".ipdesk-") && strings.HasSuffix(e.Name(), ".tmp") {
			names = append(names, filepath.Join(dir, e.Name()))
		}
	}
	return names
}

// service keeps one daemon running and restarts it on request, as a
// service manager does. It is there for dhcpd, which cannot reload its
// configuration: the target's reload command (reloadCommand) runs the test
// binary as a helper that asks the service, over a unix socket, to restart
// the daemon, and exits with 0 only when the new daemon serves.
type service struct {
	name  string
	start func() (*process, error) // starts the daemon and waits until it serves
	sock  string
	ln    net.Listener
	done  chan struct{} // closed when serve returns

	mu       sync.Mutex
	cur      *process
	past     strings.Builder // output of the instances stopped so far
	restarts int
}

// newService starts the daemon with start and listens for restart
// requests on a socket in dir. The daemon is stopped when the test ends.
func newService(t *testing.T, name, dir string, start func() (*process, error)) *service {
	t.Helper()
	s := &service{name: name, start: start, sock: filepath.Join(dir, name+".ctl"), done: make(chan struct{})}
	p, err := start()
	if err != nil {
		t.Fatal(err)
	}
	s.cur = p
	ln, err := net.Listen("unix", s.sock)
	if err != nil {
		p.stop()
		t.Fatal(err)
	}
	s.ln = ln
	go s.serve(t)
	t.Cleanup(func() {
		s.ln.Close()
		<-s.done
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.cur != nil {
			if err := s.cur.stop(); err != nil {
				t.Error(err)
			}
			s.past.WriteString(s.cur.out.String())
		}
		if t.Failed() {
			t.Logf("output of %s (%d restarts):\n%s", s.name, s.restarts, s.past.String())
		}
	})
	return s
}

// reloadCommand is the argv that restarts the daemon, for apply.Target.
func (s *service) reloadCommand() []string {
	return []string{selfPath, helperFlag, "restart", s.sock}
}

// output returns what the daemon wrote, over all its restarts.
func (s *service) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.past.String()
	if s.cur != nil {
		out += s.cur.out.String()
	}
	return out
}

// serve answers restart requests one at a time until the listener closes.
func (s *service) serve(t *testing.T) {
	defer close(s.done)
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(stopTimeout + startTimeout + 5*time.Second))
		reply := "ok"
		if err := s.restart(); err != nil {
			reply = "error: " + strings.ReplaceAll(err.Error(), "\n", " | ")
		}
		t.Logf("%s: restart requested: %s", s.name, reply)
		fmt.Fprintln(c, reply)
		c.Close()
	}
}

// restart stops the daemon and starts it again. When the new instance
// fails to start, none runs until the next restart.
func (s *service) restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		if err := s.cur.stop(); err != nil {
			return err
		}
		s.past.WriteString(s.cur.out.String())
		s.cur = nil
	}
	s.restarts++
	p, err := s.start()
	if err != nil {
		return err
	}
	s.cur = p
	return nil
}
