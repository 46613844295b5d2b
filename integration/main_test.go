//go:build linux

package integration

// TestMain, and the helper modes of the test binary. The targets' check
// and reload commands are argv lists run without a shell; where no daemon
// program does what a command must do, the command is this binary started
// with helperFlag:
//
//	restart SOCKET                    ask a service (see service) to restart its daemon
//	dnsmasq-check FILE ARGV…          load FILE into a throwaway dnsmasq (ARGV runs it) and refuse bad lines
//	origin ADDRESS BODY               serve BODY over HTTP on ADDRESS (the squid test's origin server)

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// helperFlag, as the first argument, makes the test binary a helper.
const helperFlag = "-ipdesk-integration-helper"

// TestMain runs a helper when asked to; otherwise it removes what crashed
// earlier runs left behind and runs the tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == helperFlag {
		os.Exit(helperMain(os.Args[2:]))
	}
	if exe, err := os.Executable(); err == nil {
		selfPath = exe
	}
	sweepStaleNamespaces()
	os.Exit(m.Run())
}

// helperMain runs the helper named by args[0] and returns the exit status:
// 0 for success, 1 when the helper's answer is no or it failed.
func helperMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no helper named")
		return 1
	}
	var err error
	switch args[0] {
	case "restart":
		err = helperRestart(args[1:])
	case "dnsmasq-check":
		err = helperDnsmasqCheck(args[1:])
	case "origin":
		err = helperOrigin(args[1:])
	default:
		err = fmt.Errorf("helper: unknown helper %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// helperRestart asks the service listening on the socket args[0] to
// restart its daemon and waits for the answer.
func helperRestart(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: restart SOCKET")
	}
	c, err := net.DialTimeout("unix", args[0], cmdTimeout)
	if err != nil {
		return fmt.Errorf("restart: cannot reach the service: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(stopTimeout + startTimeout + 5*time.Second))
	if _, err := fmt.Fprintln(c, "restart"); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("restart: no answer from the service: %w", err)
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return fmt.Errorf("restart failed: %s", reply)
	}
	fmt.Println("restarted")
	return nil
}

// dnsmasqCheckPorts are the DHCP ports of the throwaway dnsmasq, on the
// loopback interface of the daemon's namespace, away from port 67.
const dnsmasqCheckPorts = "10067,10068"

// helperDnsmasqCheck loads the hosts file args[0] into a dnsmasq started
// by the argv args[1:] (such as "ip netns exec NS dnsmasq"), with DNS off
// and DHCP on the loopback interface only, and waits until dnsmasq has
// read the file. dnsmasq reports each line it cannot use ("bad DHCP host
// name at line 3 of FILE") and goes on without it; any such report makes
// the check fail with dnsmasq's words. "dnsmasq --test" cannot do this:
// it does not read dhcp-hostsfile files.
func helperDnsmasqCheck(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: dnsmasq-check FILE ARGV…")
	}
	file, argv := args[0], args[1:]
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(argv[1:],
		"--no-daemon", "--conf-file=/dev/null", "--port=0",
		"--dhcp-alternate-port="+dnsmasqCheckPorts,
		"--interface=lo", "--bind-interfaces", "--dhcp-range=127.0.0.0,static",
		"--dhcp-hostsfile="+file, "--leasefile-ro",
		"--pid-file=", "--log-facility=-", "--user=root")...)
	cmd.Env = childEnv()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dnsmasq-check: %w", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var log, problems []string
	read := false
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		log = append(log, line)
		if strings.HasSuffix(line, "read "+file) {
			read = true
			break
		}
		if strings.Contains(line, file) {
			problems = append(problems, line)
		}
	}
	switch {
	case !read:
		return fmt.Errorf("dnsmasq ended before it read %s:\n%s", file, strings.Join(log, "\n"))
	case len(problems) > 0:
		return fmt.Errorf("dnsmasq refused lines of %s:\n%s", file, strings.Join(problems, "\n"))
	}
	fmt.Printf("dnsmasq read %s without complaint\n", file)
	return nil
}

// helperOrigin serves HTTP on the address args[0], answering every
// request with the body args[1] and logging it to standard output, until
// it is killed.
func helperOrigin(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: origin ADDRESS BODY")
	}
	ln, err := net.Listen("tcp4", args[0])
	if err != nil {
		return err
	}
	fmt.Printf("origin listening on %s\n", ln.Addr())
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Printf("origin request from %s: %s %s\n", r.RemoteAddr, r.Method, r.URL)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, args[1])
		}),
		ReadHeaderTimeout: cmdTimeout,
	}
	return srv.Serve(ln)
}
