//go:build linux

package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/render"
)

// The squid laboratory: the namespace "proxy" has a bridge br0 at
// 10.77.0.1/24 (squid listens there on port 3128) with one veth port per
// client namespace, and a veth link (10.78.0.1/24) to the namespace
// "origin", where an HTTP server listens on 10.78.0.2:8080. The clients
// have no route to 10.78.0.0/24: they reach the origin through squid or
// not at all.
const (
	proxyURL  = "http://10.77.0.1:3128"
	originURL = "http://10.78.0.2:8080/"
	client0IP = "10.77.0.10" // starts at level 0, then moves to level 1
	client2IP = "10.77.0.12" // level 2
)

// squidLevels are the access levels whose lists squid.conf reads.
var squidLevels = []int{1, 2, 3}

// squidInput is the address plan of the squid test: the host of client 0
// at level0, the host of client 2 at level 2, and access level names that
// try to break out of the lists' header comment.
func squidInput(level0 int) *render.Input {
	return &render.Input{
		Hosts: []*ipdesk.Address{
			{ID: 201, Addr: netip.MustParseAddr(client0IP), Hostname: "z303c1", LocationID: 3, AccessLevel: level0,
				Owner: `Петров "Петя"; {x} # code`},
			{ID: 202, Addr: netip.MustParseAddr(client2IP), Hostname: "z303c2", LocationID: 3, AccessLevel: 2,
				Description: "teacher's PC; } # code"},
		},
		Locations: hostileLocations,
		Levels: []*ipdesk.AccessLevel{
			{Level: 0, Name: "none"},
			{Level: 1, Name: `restricted "sites"; {x}`},
			{Level: 2, Name: "standard # Стандарт \\ code"},
			{Level: 3, Name: "full"},
		},
	}
}

// proxyReply is what curl got from squid.
type proxyReply struct {
	status     int
	squidError string // the X-Squid-Error header: squid's own refusal
	body       string
}

// fetch asks squid for the origin's page from the client namespace ns.
func fetch(ns *netns) (proxyReply, error) {
	out, err := run(ns.command(curlPath, "-sS", "--max-time", "5", "--proxy", proxyURL, "-D", "-", originURL)...)
	if err != nil {
		return proxyReply{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
	if err != nil {
		return proxyReply{}, fmt.Errorf("curl's output is not an HTTP response: %v\n%s", err, out)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return proxyReply{}, err
	}
	return proxyReply{status: resp.StatusCode, squidError: resp.Header.Get("X-Squid-Error"), body: string(body)}, nil
}

// squidLab is the squid laboratory of one test: the namespaces, the
// origin server, and the operator's squid.conf, which reads one list per
// level of squidLevels. Until start, squid does not run.
type squidLab struct {
	*squidFiles
	conf             string
	proxy            *netns
	client0, client2 *netns
	body             string   // what the origin answers
	originServer     *process // the HTTP server in origin
	// targets are the lists by level, with squid's check and no reload.
	targets map[int]apply.Target
	// reload makes squid read its configuration again.
	reload []string
	squid  *process
}

// newSquidLab builds the laboratory: squid's directories, the namespaces
// and their links, the origin server, squid.conf, and empty lists, which
// the operator creates, readable by squid, before the first apply (each
// apply keeps their mode and owner).
func newSquidLab(t *testing.T) *squidLab {
	t.Helper()
	l := &squidLab{squidFiles: newSquidFiles(t), targets: make(map[int]apply.Target)}
	var clients []*netns
	l.proxy, clients, l.originServer, l.body = l.network(t, squidClient{"client0", "c0", client0IP}, squidClient{"client2", "c2", client2IP})
	l.client0, l.client2 = clients[0], clients[1]

	// squid.conf as the operator writes it, with the lines from the
	// render.SquidLevel documentation.
	l.conf = filepath.Join(l.dir, "squid.conf")
	var b strings.Builder
	b.WriteString(l.squidFiles.conf())
	for _, level := range squidLevels {
		path := filepath.Join(l.lists, fmt.Sprintf("level%d.txt", level))
		fmt.Fprintf(&b, "acl ipdesk_level%d src %q\n", level, path)
		writeFile(t, path, "", 0o644)
		// The check and the reload run where squid runs: squid resolves
		// a list entry that is not an address by DNS, which must not
		// leave the test's namespaces.
		l.targets[level] = apply.Target{
			Name: fmt.Sprintf("squid-level%d", level), Kind: apply.KindSquidLevels,
			Path: path, MainConfig: l.conf, Timeout: targetTimeout,
			Validate: l.proxy.command(squidPath, "-k", "parse", "-f", apply.PlaceholderMain),
		}
	}
	for _, level := range squidLevels {
		fmt.Fprintf(&b, "http_access allow ipdesk_level%d\n", level)
	}
	b.WriteString("http_access deny all\n")
	writeFile(t, l.conf, b.String(), 0o644)
	l.reload = l.proxy.command(squidPath, "-k", "reconfigure", "-f", l.conf)
	return l
}

// start starts squid on the lists as they are and waits until it answers
// the client at level 2 (whatever the answer).
func (l *squidLab) start(t *testing.T) {
	t.Helper()
	l.squid = l.startSquid(t, l.proxy, l.conf)
	start := time.Now()
	err := waitFor(startTimeout, "squid answering", func() (bool, error) {
		if l.squid.exited() {
			t.Fatalf("squid ended: %v\n%s", l.squid.err, l.squid.out.String())
		}
		_, err := fetch(l.client2)
		return err == nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("squid answers (%s)", time.Since(start).Round(time.Millisecond))
}

// reconfigures counts how often squid has read its configuration again.
func (l *squidLab) reconfigures(t *testing.T) int {
	t.Helper()
	return strings.Count(readLog(t, l.logs), "Reconfiguring Squid Cache")
}

// TestSquid proves the access level lists with the real squid:
//
//  1. the lists of levels 1 to 3 are applied (checked with "squid -k
//     parse" on squid.conf pointing at the candidate) and squid starts on
//     them;
//  2. the level-2 client reaches the origin through squid (200 and the
//     origin's body; the origin saw the proxy, not the client), and cannot
//     reach it directly; the level-0 client gets squid's 403
//     (ERR_ACCESS_DENIED);
//  3. the level-0 host moves to level 1; the apply changes the level-1
//     list only and reloads squid (squid -k reconfigure), after which the
//     client gets through;
//  4. a level-1 list that squid's check refuses (and that, loaded, would
//     lock the client out or stop squid) ends as "invalid" with squid's
//     message, the live list is unchanged, and squid, made to read its
//     configuration again, still lets the client through.
func TestSquid(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	began := time.Now()
	l := newSquidLab(t)
	levelRender := func(in *render.Input, level int) apply.RenderFunc {
		return func(context.Context) ([]byte, error) { return render.SquidLevel(in, level), nil }
	}
	var a apply.Applier

	// 1. The lists go live before squid starts.
	in := squidInput(0)
	for _, level := range squidLevels {
		applyExpect(t, &a, l.targets[level], levelRender(in, level), apply.StatusApplied)
		if got, want := readFile(t, l.targets[level].Path), render.SquidLevel(in, level); !bytes.Equal(got, want) {
			t.Fatalf("level %d: the live list is not the rendered one:\n%s", level, got)
		}
	}
	l.start(t)

	// 2. Level 2 gets through, level 0 is refused by squid.
	reply, err := fetch(l.client2)
	if err != nil {
		t.Fatal(err)
	}
	if reply.status != http.StatusOK || reply.body != l.body {
		t.Fatalf("level-2 client: %d %q, want 200 with the origin's body", reply.status, reply.body)
	}
	t.Log("the level-2 client got the origin's page")
	// The origin logs each request before it answers, through a pipe
	// that the test reads in the background.
	if err := l.originServer.waitOutput("origin request from 10.78.0.1:", 1, cmdTimeout); err != nil {
		t.Errorf("the origin did not see a request from the proxy: %v\n%s", err, l.originServer.out.String())
	}
	if out, err := run(l.client2.command(curlPath, "-sS", "--max-time", "5", "--noproxy", "*", originURL)...); err == nil {
		t.Fatalf("the level-2 client reached the origin without the proxy:\n%s", out)
	}
	expectDenied(t, l.client0)

	// 3. The level-0 host moves to level 1.
	in = squidInput(1)
	for _, level := range squidLevels {
		tg := l.targets[level]
		tg.Reload = l.reload
		l.targets[level] = tg
		want := apply.StatusUnchanged
		if level == 1 {
			want = apply.StatusApplied
		}
		applyExpect(t, &a, tg, levelRender(in, level), want)
	}
	waitAllowed(t, l.client0, l.body)
	if reply, err := fetch(l.client2); err != nil || reply.status != http.StatusOK {
		t.Fatalf("level-2 client after the change: %+v, %v", reply, err)
	}

	// 4. A list squid refuses never goes live.
	live := readFile(t, l.targets[1].Path)
	bad := func(context.Context) ([]byte, error) {
		return []byte("# level 1, with an entry that is no address\n10.77.0.300\n"), nil
	}
	reconfigures := l.reconfigures(t)
	run := applyExpect(t, &a, l.targets[1], bad, apply.StatusInvalid)
	t.Logf("squid's check refused the list:\n%s", run.Message)
	if n := l.reconfigures(t); n != reconfigures {
		t.Errorf("squid was reconfigured although its check refused the list")
	}
	if !strings.Contains(run.Message, "Bad host/IP: '10.77.0.300'") {
		t.Errorf("the message of the refused apply does not have squid's complaint:\n%s", run.Message)
	}
	if got := readFile(t, l.targets[1].Path); !bytes.Equal(got, live) {
		t.Fatalf("the live list changed although squid refused the new one:\n%s", got)
	}
	if left := tempFiles(t, l.lists); len(left) > 0 {
		t.Errorf("the refused apply left %q behind", left)
	}
	if left := tempFiles(t, l.dir); len(left) > 0 {
		t.Errorf("the refused apply left %q behind", left)
	}
	mustRun(t, l.reload...)
	if err := waitFor(changeTimeout, "squid reconfigured again", func() (bool, error) {
		return l.reconfigures(t) > reconfigures, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitAllowed(t, l.client0, l.body)
	if l.squid.exited() {
		t.Fatalf("squid ended: %v", l.squid.err)
	}
	t.Logf("squid: whole scenario in %s", time.Since(began).Round(time.Millisecond))
}

// readLog returns squid's cache.log.
func readLog(t *testing.T, logs string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(logs, "cache.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// expectDenied requires that squid refuses the client's request with its
// own 403.
func expectDenied(t *testing.T, client *netns) {
	t.Helper()
	reply, err := fetch(client)
	if err != nil {
		t.Fatal(err)
	}
	if reply.status != http.StatusForbidden || !strings.HasPrefix(reply.squidError, "ERR_ACCESS_DENIED") {
		t.Fatalf("client at level 0: %d, X-Squid-Error %q; want 403 ERR_ACCESS_DENIED from squid", reply.status, reply.squidError)
	}
	t.Logf("the level-0 client got squid's 403 %s", reply.squidError)
}

// waitAllowed waits until squid, reloading in the background, lets the
// client through to the origin.
func waitAllowed(t *testing.T, client *netns, body string) {
	t.Helper()
	start := time.Now()
	err := waitFor(changeTimeout, "the client getting through squid", func() (bool, error) {
		reply, err := fetch(client)
		if err != nil {
			return false, err
		}
		if reply.status == http.StatusOK && reply.body != body {
			t.Fatalf("200 with %q, not the origin's body", reply.body)
		}
		return reply.status == http.StatusOK, fmt.Errorf("status %d %s", reply.status, reply.squidError)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the client gets through squid (%s)", time.Since(start).Round(time.Millisecond))
}
