//go:build linux

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/render"
)

// The debouncing of the ipdesk server in TestEndToEnd: short, so that the
// test is quick, and the poll interval above the quiet period, as in the
// defaults.
const (
	e2eQuiet    = 300 * time.Millisecond
	e2eMaxDelay = 3 * time.Second
	e2ePoll     = 500 * time.Millisecond
)

// Hosts of TestEndToEnd besides those of the DHCP tests: the imported
// rows, among them one for MAC C.
var (
	// hostileOwner and hostileDescription are the texts of every host
	// made through the API: what could break a configuration file, and
	// script payloads for the pages.
	hostileOwner       = `Иванов "Ваня"; {root} # code`
	hostileDescription = `"><script>alert(1)</script>" onmouseover="alert(2)`

	addrCImported = netip.MustParseAddr("10.77.0.99")
	importedRows  = 150 // 10.77.0.100 to 10.77.0.249
)

// buildIpdesk builds the ipdesk command into a temporary directory, with
// the race detector when the tests have it, and returns its path.
func buildIpdesk(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		skipOrFail(t, "the go command is not in PATH, so ipdesk cannot be built: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "ipdesk")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	start := time.Now()
	cmd := exec.Command(goTool, append(args, "ipdesk/cmd/ipdesk")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built ipdesk in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// ipdeskServer is "ipdesk serve" running as its own process.
type ipdeskServer struct {
	bin, config string
	proc        *process
	base        string // http://127.0.0.1:PORT
}

// listening finds the address in serve's log line "ipdesk listening".
var listening = regexp.MustCompile(`msg="ipdesk listening" addr=(http://127\.0\.0\.1:\d+)`)

// adminPassword is the password of ipdesk's administrator "admin", which
// "ipdesk serve" creates on the first start from IPDESK_ADMIN_PASSWORD.
const adminPassword = "correct horse battery staple"

// startIpdesk starts "ipdesk serve" with the config file config and waits
// until it listens. It is stopped (SIGTERM) when the test ends.
func startIpdesk(t *testing.T, bin, config string) *ipdeskServer {
	t.Helper()
	s := &ipdeskServer{bin: bin, config: config}
	s.proc = startDaemon(t, "ipdesk", s.env("IPDESK_ADMIN_PASSWORD="+adminPassword), bin, "serve")
	if err := s.proc.waitOutput(`msg="ipdesk listening"`, 1, startTimeout); err != nil {
		t.Fatal(err)
	}
	m := listening.FindStringSubmatch(s.proc.out.String())
	if m == nil {
		t.Fatalf("no address in the log of ipdesk serve:\n%s", s.proc.out.String())
	}
	s.base = m[1]
	return s
}

// env is the environment of ipdesk: the config file, and the PATH in which
// it finds ip, kill and the daemons.
func (s *ipdeskServer) env(extra ...string) []string {
	return childEnv(append([]string{"IPDESK_CONFIG=" + s.config}, extra...)...)
}

// cli runs an ipdesk command beside the server, on the same config file
// and database, and returns its standard output.
func (s *ipdeskServer) cli(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env(extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ipdesk %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// apiClient calls the JSON API with the token of one user.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

// call sends body (nil for none) as JSON, requires the status want and
// returns the decoded answer.
func (c *apiClient) call(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 2 * targetTimeout}).Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return out
}

// id returns the "id" of an answer.
func id(t *testing.T, v map[string]any) int64 {
	t.Helper()
	f, ok := v["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", v)
	}
	return int64(f)
}

// runCounts returns the number of recorded runs of each output, as the
// API's apply-runs list counts them.
func runCounts(c *apiClient, names []string) map[string]int {
	c.t.Helper()
	out := make(map[string]int)
	for _, n := range names {
		v := c.call("GET", "/api/v1/apply-runs?limit=1&target="+n, nil, http.StatusOK)
		out[n] = int(v["count"].(float64))
	}
	return out
}

// newestRun returns the newest recorded run of output name.
func newestRun(c *apiClient, name string) ipdesk.ApplyRun {
	c.t.Helper()
	v := c.call("GET", "/api/v1/apply-runs?limit=1&target="+name, nil, http.StatusOK)
	rs, _ := v["results"].([]any)
	if len(rs) == 0 {
		c.t.Fatalf("no run of %s", name)
	}
	b, _ := json.Marshal(rs[0])
	var r ipdesk.ApplyRun
	if err := json.Unmarshal(b, &r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

// runsAfter returns the recorded runs of output name after the run of ID
// after, oldest first.
func runsAfter(c *apiClient, name string, after int64) []ipdesk.ApplyRun {
	c.t.Helper()
	v := c.call("GET", "/api/v1/apply-runs?limit=50&target="+name, nil, http.StatusOK)
	b, _ := json.Marshal(v["results"])
	var rs []ipdesk.ApplyRun
	if err := json.Unmarshal(b, &rs); err != nil {
		c.t.Fatal(err)
	}
	var out []ipdesk.ApplyRun
	for _, r := range slices.Backward(rs) {
		if r.ID > after {
			out = append(out, r)
		}
	}
	return out
}

// settled waits until no output is dirty or running, as GET
// /api/v1/outputs shows them.
func settled(c *apiClient) {
	c.t.Helper()
	err := waitFor(changeTimeout, "the outputs settling", func() (bool, error) {
		v := c.call("GET", "/api/v1/outputs?diff=false", nil, http.StatusOK)
		for _, o := range v["results"].([]any) {
			o := o.(map[string]any)
			if o["dirty"] == true || o["running"] == true {
				return false, fmt.Errorf("%s is dirty or running", o["name"])
			}
		}
		return true, nil
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

// signIn signs in on ipdesk's sign-in page at base, as a person does:
// name and password typed, the form sent, the main menu shown.
func (b *browserTab) signIn(base, name, password string) {
	b.t.Helper()
	b.run("sign in as "+name,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), name),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top nav`)),
	)
}

// dhcpSide is one DHCP daemon of TestEndToEnd with its laboratory.
type dhcpSide struct {
	c      dhcpCase
	l      *dhcpLab
	target apply.Target
}

// TestEndToEnd runs the real ipdesk: "ipdesk serve", built from this
// source, on a new SQLite database, with a config file whose targets are
// the files of a running ISC dhcpd, Kea, dnsmasq and squid (each in
// network namespaces of its own, checked and reloaded by their own
// commands). The edits are made as an administrator makes them, in the
// web UI, in a headless Chromium on the host side; the rest through the
// JSON API and the command line:
//
//  1. a space, a DHCP subnet and hosts are created through the API; within
//     seconds the three DHCP servers give MAC A its reserved 10.77.0.50,
//     and squid lets the level-2 client through and refuses the level-0
//     one;
//  2. a plain user may look at the outputs but not edit a host, nor
//     apply (403 from the API, and no run);
//  3. the administrator signs in, opens host A's page, types the new
//     address into the form and saves: within seconds every DHCP server
//     gives MAC A 10.77.0.60;
//  4. in the hosts table, the administrator changes the level-0 host's
//     access level to 1 in place: within seconds squid lets it through;
//     each of the two edits caused one run of every output;
//  5. "ipdesk import hosts" of 151 rows beside the running server is
//     applied by the server with one run per output (counted through the
//     API), and the DHCP servers give the imported MAC C its address;
//  6. no run failed, and no page opened a dialog (the hosts' texts carry
//     script payloads, which the pages and every daemon's file take as
//     text).
func TestEndToEnd(t *testing.T) {
	requireRoot(t)
	requireDaemon(t, busyboxPath)
	requireDaemon(t, killPath)
	cases := []dhcpCase{iscDHCP(), keaDHCP(), dnsmasqDHCP()}
	for _, c := range cases {
		for _, p := range c.programs {
			requireDaemon(t, p)
		}
	}
	chromium := requireChromium(t)
	t.Parallel()
	began := time.Now()
	bin := buildIpdesk(t)

	// The daemons run on files the operator created: what ipdesk writes
	// for an empty plan.
	var sides []*dhcpSide
	for _, c := range cases {
		sd := &dhcpSide{c: c, l: newDHCPLab(t)}
		sd.target = c.setup(t, sd.l)
		empty, err := c.render(&render.Input{})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, sd.target.Path, string(empty), 0o644)
		sd.target.Reload = c.start(t, sd.l, sd.target).reload
		sides = append(sides, sd)
	}
	sq := newSquidLab(t)
	sq.start(t)

	// The server's config file names the targets.
	dir := t.TempDir()
	var targets []map[string]any
	for _, sd := range sides {
		tg := sd.target
		targets = append(targets, map[string]any{
			"name": tg.Name, "kind": tg.Kind, "path": tg.Path, "main_config": tg.MainConfig,
			"validate": tg.Validate, "reload": tg.Reload, "timeout": targetTimeout.String(),
		})
	}
	levelFiles := map[string]string{}
	for _, level := range squidLevels {
		levelFiles[strconv.Itoa(level)] = sq.targets[level].Path
	}
	targets = append(targets, map[string]any{
		"name": "proxy", "kind": apply.KindSquidLevels, "level_files": levelFiles, "main_config": sq.conf,
		"validate": sq.targets[1].Validate, "reload": sq.reload, "timeout": targetTimeout.String(),
	})
	config := filepath.Join(dir, "ipdesk.json")
	cfg, err := json.MarshalIndent(map[string]any{
		"db": filepath.Join(dir, "ipdesk.db"), "listen": "127.0.0.1:0", "log_level": "info",
		"apply":   map[string]any{"quiet": e2eQuiet.String(), "max_delay": e2eMaxDelay.String(), "poll": e2ePoll.String()},
		"targets": targets,
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, config, string(cfg), 0o600)

	srv := startIpdesk(t, bin, config)
	admin := &apiClient{t: t, base: srv.base, token: strings.TrimSpace(srv.cli(t, nil, "token", "create", "--user", "admin"))}
	srv.cli(t, []string{"IPDESK_PASSWORD=a plain user's password"}, "user", "add", "anna")
	anna := &apiClient{t: t, base: srv.base, token: strings.TrimSpace(srv.cli(t, nil, "token", "create", "--user", "anna"))}
	outputNames := []string{"dhcpd", "kea", "dnsmasq"}
	for _, level := range squidLevels {
		outputNames = append(outputNames, fmt.Sprintf("proxy.level%d", level))
	}
	settled(admin)
	t.Logf("ipdesk serves at %s with its outputs applied (%s since the start)", srv.base, time.Since(began).Round(time.Millisecond))

	// 1. The plan, through the API.
	space := id(t, admin.call("POST", "/api/v1/spaces", map[string]any{"name": "lab"}, http.StatusCreated))
	admin.call("POST", "/api/v1/prefixes", map[string]any{"space_id": space, "prefix": "10.77.0.0/24", "kind": "subnet",
		"gateway": "10.77.0.1", "dhcp": true, "description": `Lab "VLAN 77"; {x} # code`}, http.StatusCreated)
	host := func(addr netip.Addr, mac ipdesk.MAC, name string, level int) int64 {
		body := map[string]any{"space_id": space, "address": addr.String(), "hostname": name, "access_level": level,
			"owner": hostileOwner, "description": hostileDescription}
		if !mac.IsZero() {
			body["mac"], body["dhcp_reservation"] = mac.String(), true
		}
		return id(t, admin.call("POST", "/api/v1/addresses", body, http.StatusCreated))
	}
	hostA := host(addrA, macA, "pc-a", 2)
	host(addrB, macB, "code", 2)
	pc0 := host(netip.MustParseAddr(client0IP), ipdesk.MAC{}, "z303c1", 0)
	host(netip.MustParseAddr(client2IP), ipdesk.MAC{}, "z303c2", 2)
	created := time.Now()
	for _, sd := range sides {
		sd.l.waitLease(t, macA, addrA, netip.Addr{})
		sd.l.expectLease(t, macB, addrB, "code")
	}
	waitAllowed(t, sq.client2, sq.body)
	expectDenied(t, sq.client0)
	t.Logf("the plan made through the API is served %s after its last change", time.Since(created).Round(time.Millisecond))

	// 2. A user of a group that sees everything sees the outputs and
	// cannot change a host.
	var annaID float64
	for _, u := range admin.call("GET", "/api/v1/users", nil, http.StatusOK)["results"].([]any) {
		if u := u.(map[string]any); u["name"] == "anna" {
			annaID = u["id"].(float64)
		}
	}
	admin.call("POST", "/api/v1/groups", map[string]any{"name": "viewers", "view_all": true, "members": []float64{annaID}}, http.StatusCreated)
	if v := anna.call("GET", "/api/v1/outputs?diff=false", nil, http.StatusOK); int(v["count"].(float64)) != len(outputNames) {
		t.Errorf("the outputs a plain user sees: %v", v)
	}
	settled(admin)
	before := runCounts(admin, outputNames)
	anna.call("PATCH", fmt.Sprintf("/api/v1/addresses/%d", hostA), map[string]any{"address": addrAWrong.String()}, http.StatusForbidden)
	anna.call("POST", "/api/v1/apply", map[string]any{}, http.StatusForbidden)

	// 3. Host A moves: the administrator signs in, opens its page, types
	// the new address into the form and saves.
	lastRuns := map[string]int64{}
	for _, sd := range sides {
		lastRuns[sd.target.Name] = newestRun(admin, sd.target.Name).ID
	}
	b := startChromium(t, chromium, 3*time.Minute)
	b.signIn(srv.base, "admin", adminPassword)
	hostPage := fmt.Sprintf("%s/hosts/%d", srv.base, hostA)
	b.run("open the page of host A and type its new address",
		chromedp.Navigate(hostPage),
		chromedp.WaitVisible(chromedp.CSS(`#f-address`)),
		// The old address selected, as a triple click would, and typed over.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-address").select()`),
		chromedp.SendKeys(chromedp.CSS(`#f-address`), addrAEdit.String()),
	)
	if v := b.eval(`document.getElementById("f-owner").value + "|" + document.getElementById("f-description").value`); v != hostileOwner+"|"+hostileDescription {
		t.Fatalf("the form holds the texts %q", v)
	}
	b.screenshot("e2e-host-edit")
	edited := time.Now()
	b.run("save the form",
		chromedp.Click(chromedp.CSS(`form.host-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main p.flash`)),
	)
	t.Logf("the browser shows the saved host %s after the click on Save", time.Since(edited).Round(time.Millisecond))
	if h := b.eval(`location.href + " " + document.querySelector("main h1").textContent`); !strings.HasPrefix(h, hostPage+" ") || !strings.Contains(h, addrAEdit.String()) {
		t.Fatalf("after saving the browser shows %q", h)
	}
	b.screenshot("e2e-host-saved")
	// The form sent every field; only the address changed.
	stored := admin.call("GET", fmt.Sprintf("/api/v1/addresses/%d", hostA), nil, http.StatusOK)
	if stored["address"] != addrAEdit.String() || stored["owner"] != hostileOwner || stored["description"] != hostileDescription ||
		stored["mac"] != macA.String() || stored["access_level"] != 2.0 || stored["version"] != 2.0 {
		t.Fatalf("host A after the save in the browser: %v", stored)
	}
	for _, sd := range sides {
		err := waitFor(changeTimeout, sd.target.Name+" applied", func() (bool, error) {
			// Every run since the save worked, and one of them wrote the
			// change: a later run may find it live already.
			applied := false
			for _, r := range runsAfter(admin, sd.target.Name, lastRuns[sd.target.Name]) {
				if r.Status != ipdesk.ApplyApplied && r.Status != ipdesk.ApplyUnchanged {
					t.Fatalf("%s: %s:\n%s", sd.target.Name, r.Status, r.Message)
				}
				applied = applied || r.Status == ipdesk.ApplyApplied
			}
			return applied, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s applied (checked and reloaded) %s after the click on Save", sd.target.Name, time.Since(edited).Round(time.Millisecond))
		for _, r := range runsAfter(admin, sd.target.Name, lastRuns[sd.target.Name]) {
			t.Logf("run %d of %s: %s", r.ID, sd.target.Name, r.Status)
		}
	}
	for _, sd := range sides {
		sd.l.waitLease(t, macA, addrAEdit, addrA)
		t.Logf("%s gives %s its new address %s after the click on Save", sd.c.name, macA, time.Since(edited).Round(time.Millisecond))
	}
	for _, sd := range sides {
		sd.l.expectLease(t, macB, addrB, "code")
	}

	// 4. The level-0 host gets level 1, edited in place in the hosts
	// table: a click on the cell, the level chosen, Enter.
	cell := fmt.Sprintf(`#hosts-table tr[data-id="%d"] td[data-field="access_level"]`, pc0)
	b.run("open the hosts table and the level of the level-0 host",
		chromedp.Navigate(srv.base+"/hosts"),
		chromedp.WaitVisible(chromedp.CSS(cell)),
		chromedp.Click(chromedp.CSS(cell)),
		chromedp.WaitVisible(chromedp.CSS(cell+` select`)),
		chromedp.SetValue(chromedp.CSS(cell+` select`), "1"),
	)
	b.screenshot("e2e-hosts-level")
	edited = time.Now()
	b.run("save the level",
		chromedp.KeyEvent(kb.Enter),
		chromedp.Poll[chromedp.Void](`!document.querySelector('`+cell+` select') || document.querySelector('`+cell+` .field-error') !== null`,
			chromedp.WithPollingTimeout(changeTimeout)),
	)
	if v := b.eval(`(() => { const td = document.querySelector('` + cell + `'); const e = td.querySelector(".field-error");
		return e ? "error: " + e.textContent : td.dataset.value; })()`); v != "1" {
		t.Fatalf("the inline edit of the level: %s", v)
	}
	t.Logf("the hosts table shows the saved level %s after Enter", time.Since(edited).Round(time.Millisecond))
	b.screenshot("e2e-hosts-level-saved")
	waitAllowed(t, sq.client0, sq.body)
	t.Logf("squid lets the client at its new level through %s after Enter in the hosts table", time.Since(edited).Round(time.Millisecond))
	settled(admin)
	after := runCounts(admin, outputNames)
	for _, n := range outputNames {
		// The plain user's refused edits caused nothing; each edit in the
		// browser, a change of an address, one run of every output (where
		// the file stays as it was, an unchanged run).
		if d := after[n] - before[n]; d != 2 {
			t.Errorf("%s: %d runs for two edits, want 2", n, d)
		}
	}
	// The outputs page shows every output up to date, its last run good.
	b.run("open the outputs page", chromedp.Navigate(srv.base+"/outputs"), chromedp.WaitVisible(chromedp.CSS(`section.output`)))
	shown := b.eval(`Array.from(document.querySelectorAll("section.output .output-file"), (f) =>
		f.id + ":" + f.querySelectorAll(".badge.ok").length + ":" + f.querySelectorAll(".badge.warn, .badge.bad").length).join(" ")`)
	var want []string
	for _, n := range outputNames {
		want = append(want, n+":2:0")
	}
	if shown != strings.Join(want, " ") {
		t.Errorf("the outputs page shows (output:good badges:bad badges) %s, want %s", shown, strings.Join(want, " "))
	}
	b.screenshot("e2e-outputs")

	// 5. An import of many rows on the command line, beside the server.
	var csv strings.Builder
	csv.WriteString("space,address,mac,hostname,owner,access_level,dhcp_reservation\n")
	fmt.Fprintf(&csv, "lab,%s,%s,pc-c,\"Кабинет 404; {\"\"x\"\"}\",3,true\n", addrCImported, macC)
	for i := range importedRows {
		fmt.Fprintf(&csv, "lab,10.77.0.%d,02:1d:e5:78:00:%02x,imported%d,Owner %d,3,true\n", 100+i, i, i, i)
	}
	csvPath := filepath.Join(dir, "hosts.csv")
	writeFile(t, csvPath, csv.String(), 0o644)
	before = runCounts(admin, outputNames)
	imported := time.Now()
	out := srv.cli(t, nil, "import", "hosts", csvPath)
	if want := fmt.Sprintf("imported %d hosts: %d created", importedRows+1, importedRows+1); !strings.Contains(out, want) {
		t.Fatalf("import: %q, want %q", out, want)
	}
	for _, sd := range sides {
		sd.l.waitLease(t, macC, addrCImported, netip.Addr{})
		t.Logf("%s gives the imported %s its address %s after the import", sd.c.name, macC, time.Since(imported).Round(time.Millisecond))
	}
	// Long enough for a further apply, had the import caused one.
	time.Sleep(3*e2ePoll + e2eQuiet)
	settled(admin)
	after = runCounts(admin, outputNames)
	for _, n := range outputNames {
		if d := after[n] - before[n]; d != 1 {
			t.Errorf("%s: %d runs after an import of %d rows, want 1", n, d, importedRows+1)
		}
		r := newestRun(admin, n)
		want := ipdesk.ApplyApplied
		if n == "proxy.level1" || n == "proxy.level2" {
			want = ipdesk.ApplyUnchanged // the imported hosts are at level 3
		}
		if r.Status != want || r.Actor != "system" {
			t.Errorf("%s: the run after the import is %s by %s, want %s by system:\n%s", n, r.Status, r.Actor, want, r.Message)
		}
	}
	if data := readFile(t, sq.targets[3].Path); !bytes.Contains(data, []byte("\n10.77.0.249\n")) {
		t.Errorf("the imported hosts are not in the level-3 list:\n%s", data)
	}

	// 6. No run failed, no payload ran.
	if v := admin.call("GET", "/api/v1/apply-runs?failed=true", nil, http.StatusOK); v["count"].(float64) != 0 {
		t.Errorf("failed runs: %v", v["results"])
	}
	if n := b.dialogs.Load(); n != 0 {
		t.Errorf("the pages opened %d dialogs: a stored payload ran", n)
	}
	t.Logf("end to end in %s", time.Since(began).Round(time.Millisecond))
}
