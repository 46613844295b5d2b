package browser

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"ipdesk"
	"ipdesk/callerid"
	"ipdesk/internal/headless"
	"ipdesk/live"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
	"ipdesk/web"
)

// pbxToken is the PBX token of the caller-ID test servers.
const pbxToken = "pbx-browser-token-0123456789"

// dialling are German rules: country code 49, extensions of 4 digits.
var dialling = callerid.Config{CountryCode: "49", InternationalPrefix: "00", TrunkPrefix: "0", ExtensionDigits: 4}

// callServer is an ipdesk with caller-ID on db, as serve runs it: the
// caller-ID service publishing to the live broker, the PBX token set.
type callServer struct {
	srv    *web.Server
	broker *live.Broker
	url    string
}

func startCallServer(tb testing.TB, db *sqldb.DB, bo ...live.Options) *callServer {
	tb.Helper()
	var o live.Options
	if len(bo) > 0 {
		o = bo[0]
	}
	o.Journal = callerid.Journal{Store: db}
	broker := live.New(o)
	svc, err := callerid.New(db, callerid.Options{Rules: dialling, Broker: broker})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	<-svc.Ready()
	srv := web.NewServer(db, web.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Events: broker,
		CallerID: web.CallerIDOptions{Intake: svc, PBXTokens: []string{pbxToken}, Retention: 30 * 24 * time.Hour,
			RateLimit: 1000, RateBurst: 1000},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go srv.Serve(ln)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &callServer{srv: srv, broker: broker, url: "http://" + ln.Addr().String()}
}

// newCallSite is newSite with caller-ID, on db (a new SQLite database when
// nil); the administrator "admin" is created unless the database has one.
func newCallSite(t *testing.T, db *sqldb.DB) (*site, *callServer) {
	t.Helper()
	if db == nil {
		db = sqldbtest.SQLite(t)
	}
	cs := startCallServer(t, db)
	s := &site{t: t, db: db, srv: cs.srv, url: cs.url}
	if _, err := db.FindUserByName(context.Background(), "admin"); err != nil {
		s.user("admin", true)
	}
	return s, cs
}

// setCall reports a call as a PBX script does: a plain GET of
// /set_call/NUMBER with the token, as curl or wget would send it.
func setCall(tb testing.TB, base, number string) {
	tb.Helper()
	resp, err := http.Get(base + "/set_call/" + url.PathEscape(number) + "?token=" + pbxToken)
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "OK\n" {
		tb.Fatalf("set_call %q: %d %q", number, resp.StatusCode, body)
	}
}

// postCall reports a call event with POST /api/v1/calls.
func postCall(tb testing.TB, base, body string) {
	tb.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/calls", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-PBX-Token", pbxToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		tb.Fatalf("POST /api/v1/calls %s: %d", body, resp.StatusCode)
	}
}

// cutProxy forwards TCP connections to a server and can cut them, as a
// broken network would: the browser's event stream drops and reconnects.
type cutProxy struct {
	ln     net.Listener
	target string
	url    string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: strings.TrimPrefix(target, "http://"), url: "http://" + ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.cut(true); p.setDown(false) })
	go p.serve()
	return p
}

func (p *cutProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *cutProxy) pipe(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.mu.Unlock()
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[u] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// cut closes every open connection; with down, new ones are refused
// until setDown(false).
func (p *cutProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	for c := range p.conns {
		c.Close()
	}
}

func (p *cutProxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// watchScriptErrors fails the test at its end if a script of the tab threw.
func watchScriptErrors(t *testing.T, ctx context.Context) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			d := e.ExceptionDetails
			msg := fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, d.Text)
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			seen = append(seen, msg)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(seen) > 0 {
			t.Errorf("the page's scripts threw: %q", seen)
		}
	})
}

// card is the CSS selector of the popup card of the call from number
// (matched by its heading, in a poll).
func cardWith(number string) string {
	return `[...document.querySelectorAll("#calls .call-card")].find((c) => c.querySelector(".call-number").textContent === ` + strconv.Quote(number) + `)`
}

// waitCard waits until the card of the call from number is shown.
func (s *site) waitCard(ctx context.Context, number string) {
	s.t.Helper()
	s.run(ctx, "wait for the card of "+number,
		chromedp.Poll[chromedp.Void](`!!(`+cardWith(number)+`)`, chromedp.WithPollingTimeout(15*time.Second)))
}

// cardText returns the text of the card of the call from number.
func (s *site) cardText(ctx context.Context, number string) string {
	s.t.Helper()
	return eval[string](s, ctx, `(`+cardWith(number)+`).innerText`)
}

// callPlan is hostsPlan with a second room named with a payload and a
// host in it, and the users of the caller-ID tests: helper (helpdesk,
// sees everything, changes nothing) and plain (no group).
func callPlan(t *testing.T, s *site) (target *ipdesk.Address, room303, xssRoom *ipdesk.Location) {
	t.Helper()
	target = hostsPlan(t, s)
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "setup"})
	rooms, _, err := s.db.FindLocations(ctx, ipdesk.LocationFilter{Name: ptr("303")})
	must(t, err)
	room303 = rooms[0]
	xssRoom = &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: `"><img src=x onerror=alert(4)>`, ParentID: room303.ParentID, Phones: []string{"+49 3591 404"}}
	must(t, s.db.CreateLocation(ctx, xssRoom))
	_, err = s.db.CreateAddress(ctx, &ipdesk.Address{SpaceID: target.SpaceID, Addr: netip.MustParseAddr("10.3.0.40"), Hostname: "z404c1",
		Owner: `<script>alert(6)</script>`, LocationID: xssRoom.ID})
	must(t, err)
	helper := s.user("helper", false)
	must(t, s.db.CreateGroup(ctx, &ipdesk.Group{Name: "helpdesk", Helpdesk: true, ViewAll: true, Members: []int64{helper.ID}}))
	s.user("plain", false)
	return target, room303, xssRoom
}

// settle waits until the page's animations are over, for a screenshot.
func (s *site) settle(ctx context.Context) {
	s.t.Helper()
	s.run(ctx, "wait for the animations", chromedp.Poll[chromedp.Void](`document.getAnimations().length === 0`, chromedp.WithPollingTimeout(5*time.Second)))
}

// dismissAll dismisses every card shown.
func (s *site) dismissAll(ctx context.Context) {
	s.t.Helper()
	s.run(ctx, "dismiss every card", chromedp.Evaluate[chromedp.Void](`while (document.querySelector("#calls .call-dismiss")) document.querySelector("#calls .call-dismiss").click()`))
}

// TestCallPopup: a helpdesk user is on the hosts page; a PBX reports a
// call with a plain GET /set_call/NUMBER and the card with the right room
// and hosts appears without a reload; more calls stack; later events mark
// a call answered and ended; an unknown number is added to a room from
// the card; a call made while the stream is cut, or while the user is
// between pages, appears once the stream is back. A plain user's page
// gets no popup. No stored or reported payload runs.
func TestCallPopup(t *testing.T) {
	s, cs := newCallSite(t, nil)
	target, room, xssRoom := callPlan(t, s)
	proxy := newCutProxy(t, s.url)
	direct := s.url
	s.url = proxy.url // the browser goes through the proxy

	ctx := s.browser(180 * time.Second)
	dialogs := watchDialogs(t, ctx)
	watchScriptErrors(t, ctx)
	s.login(ctx, "admin")
	s.run(ctx, "open the hosts page", chromedp.Navigate(s.url+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`#hosts-table tbody tr`)))

	plain := s.browser(120 * time.Second)
	plainDialogs := watchDialogs(t, plain)
	s.login(plain, "plain")
	s.run(plain, "open the hosts page as a plain user", chromedp.Navigate(s.url+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))

	// Wait for the stream, then the call: as the PBX sends it.
	waitStreams(t, cs, 1)
	setCall(t, direct, "03591 303")
	s.waitCard(ctx, "03591 303")
	text := s.cardText(ctx, "03591 303")
	for _, want := range []string{"Main > 303", "10.3.0.5", "aa:bb:cc:00:00:05", "z303c1", "z303c2", "printer", "ringing", "+493591303", "Hosts in Main > 303"} {
		if !strings.Contains(text, want) {
			t.Errorf("the card lacks %q:\n%s", want, text)
		}
	}
	hrefs := eval[[]string](s, ctx, `[...(`+cardWith("03591 303")+`).querySelectorAll("a")].map((a) => a.getAttribute("href"))`)
	for _, want := range []string{"/hosts/" + itoa(target.ID), "/hosts?location=" + itoa(room.ID), "/calls/"} {
		found := false
		for _, h := range hrefs {
			found = found || strings.HasPrefix(h, want)
		}
		if !found {
			t.Errorf("the card has no link %s: %q", want, hrefs)
		}
	}
	if loc := eval[string](s, ctx, `location.pathname`); loc != "/hosts" {
		t.Fatalf("the page changed to %s", loc)
	}
	s.settle(ctx)
	s.screenshot(ctx, "calls-popup")

	// More calls stack: a payload as the number, a room named with one.
	setCall(t, direct, `"><img src=x onerror=alert(5)>`)
	setCall(t, direct, "+49 3591 404")
	s.waitCard(ctx, `"><img src=x onerror=alert(5)>`)
	s.waitCard(ctx, "+49 3591 404")
	if n := eval[int](s, ctx, `document.querySelectorAll("#calls .call-card").length`); n != 3 {
		t.Fatalf("%d cards, want 3", n)
	}
	if got := s.cardText(ctx, "+49 3591 404"); !strings.Contains(got, "Main > "+xssRoom.Name) || !strings.Contains(got, "z404c1") {
		t.Errorf("the card of the room named with a payload: %q", got)
	}
	if n := eval[int](s, ctx, `document.querySelectorAll("#calls img, #calls script").length`); n != 0 {
		t.Fatalf("a payload became an element in the cards")
	}
	s.settle(ctx)
	s.screenshot(ctx, "calls-stacked")

	// A PBX that reports the whole call: answered, then ended.
	postCall(t, direct, `{"event": "ring", "call_id": "pbx-1", "from": "0351 2222"}`)
	s.waitCard(ctx, "0351 2222")
	postCall(t, direct, `{"event": "answer", "call_id": "pbx-1", "extension": "201"}`)
	s.run(ctx, "wait for answered", chromedp.Poll[chromedp.Void](`(`+cardWith("0351 2222")+`).querySelector(".call-state").textContent === "answered"`, chromedp.WithPollingTimeout(10*time.Second)))
	postCall(t, direct, `{"event": "hangup", "call_id": "pbx-1"}`)
	s.run(ctx, "wait for ended", chromedp.Poll[chromedp.Void](`(`+cardWith("0351 2222")+`).querySelector(".call-state").textContent === "ended"`, chromedp.WithPollingTimeout(10*time.Second)))

	// Dismiss two cards; five calls would not fit.
	for _, n := range []string{`"><img src=x onerror=alert(5)>`, "0351 2222"} {
		s.run(ctx, "dismiss "+n, chromedp.Evaluate[chromedp.Void](`(`+cardWith(n)+`).querySelector(".call-dismiss").click()`))
	}
	if n := eval[int](s, ctx, `document.querySelectorAll("#calls .call-card").length`); n != 2 {
		t.Fatalf("after dismissing two: %d cards", n)
	}

	// An unknown number, added to room 303 from its card through the API.
	setCall(t, direct, "0351 4711")
	s.waitCard(ctx, "0351 4711")
	card := `(` + cardWith("0351 4711") + `)`
	s.run(ctx, "open the form of the unknown number",
		chromedp.Evaluate[chromedp.Void](card+`.querySelector(".call-assign-open").click()`),
		chromedp.Poll[chromedp.Void](`!!`+card+`.querySelector("form.call-assign select")`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = `+card+`.querySelector("form.call-assign select"); s.value = "`+itoa(room.ID)+`"; s.dispatchEvent(new Event("change", {bubbles: true})); })()`),
	)
	s.settle(ctx)
	s.screenshot(ctx, "calls-assign")
	s.run(ctx, "send it",
		chromedp.Evaluate[chromedp.Void](card+`.querySelector("form.call-assign button[type=submit]").click()`),
		chromedp.Poll[chromedp.Void](card+`.querySelector(".assign-status").textContent.startsWith("Added to")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	l, err := s.db.FindLocationByID(context.Background(), room.ID)
	must(t, err)
	if len(l.Phones) != 2 || l.Phones[1] != "+493514711" {
		t.Fatalf("room 303's phones: %q", l.Phones)
	}

	// Another, added to a person's computer: the host is found as one
	// types, and gets the number as its phone.
	setCall(t, direct, "0351 6666")
	s.waitCard(ctx, "0351 6666")
	card = `(` + cardWith("0351 6666") + `)`
	s.run(ctx, "open the form and look for the host",
		chromedp.Evaluate[chromedp.Void](card+`.querySelector(".call-assign-open").click()`),
		chromedp.Poll[chromedp.Void](`!!`+card+`.querySelector("form.call-assign input[name=host]")`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Focus(chromedp.CSS(`#calls form.call-assign input[name=host]`)),
		chromedp.SendKeys(chromedp.CSS(`#calls form.call-assign input[name=host]`), "z303c2"),
		chromedp.Poll[chromedp.Void](card+`.querySelectorAll(".assign-hosts input:checked").length === 1`, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Evaluate[chromedp.Void](card+`.querySelector("form.call-assign button[type=submit]").click()`),
		chromedp.Poll[chromedp.Void](card+`.querySelector(".assign-status").textContent.startsWith("Added to z303c2")`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	hosts, _, err := s.db.FindAddresses(context.Background(), ipdesk.AddressFilter{Hostname: ptr("z303c2")})
	must(t, err)
	if len(hosts) != 1 || hosts[0].Phone != "+493516666" {
		t.Fatalf("z303c2 after adding the number: %+v", hosts)
	}

	// The stream is cut and stays down; a call comes meanwhile; once the
	// network is back, EventSource reconnects with Last-Event-ID and the
	// call is there.
	proxy.cut(true)
	waitStreams(t, cs, 0)
	setCall(t, direct, "0351 7777")
	s.run(ctx, "see that the stream is down", chromedp.WaitVisible(chromedp.CSS(`#calls .calls-status`)))
	if n := eval[int](s, ctx, `(`+cardWith("0351 7777")+`) ? 1 : 0`); n != 0 {
		t.Fatal("the card came while the stream was down")
	}
	proxy.setDown(false)
	s.waitCard(ctx, "0351 7777")
	s.run(ctx, "the status goes", chromedp.WaitNotPresent(chromedp.CSS(`#calls .calls-status`)))

	// Between pages: the next page resumes the stream where the last one
	// left it, and keeps the cards (the dismissed ones stay dismissed).
	s.run(ctx, "leave the site", chromedp.Navigate("about:blank"))
	waitStreams(t, cs, 0)
	setCall(t, direct, "0351 8888")
	s.run(ctx, "come back", chromedp.Navigate(s.url+"/locations"), chromedp.WaitVisible(chromedp.CSS(`ul.loc-tree`)))
	s.waitCard(ctx, "0351 8888")
	for _, n := range []string{"0351 4711", "0351 7777"} {
		if eval[int](s, ctx, `(`+cardWith(n)+`) ? 1 : 0`) != 1 {
			t.Errorf("the card of %s did not survive the page change", n)
		}
	}
	if eval[int](s, ctx, `(`+cardWith("0351 2222")+`) ? 1 : 0`) != 0 {
		t.Error("a dismissed card came back")
	}
	// Four cards at most; the rest behind a link to the call log.
	if got := eval[int](s, ctx, `document.querySelectorAll("#calls .call-card").length`); got != 4 {
		t.Errorf("%d cards shown, want 4", got)
	}
	if got := s.text(ctx, "#calls .calls-more"); !strings.HasPrefix(got, "More calls: ") {
		t.Errorf("the overflow link says %q", got)
	}

	// A call that rings on with no later news (set_call reports only the
	// ring) is shown as "missed?" once STALE_MS (45 s) have passed: the
	// stored card is made a minute old, and the next page shows it so.
	s.run(ctx, "age the stored cards by a minute", chromedp.Evaluate[chromedp.Void](`(() => {
		const st = JSON.parse(sessionStorage.getItem("ipdesk.calls"));
		for (const r of st.calls) r.at -= 60000;
		sessionStorage.setItem("ipdesk.calls", JSON.stringify(st));
	})()`))
	s.run(ctx, "reload", chromedp.Navigate(s.url+"/locations"), chromedp.WaitVisible(chromedp.CSS(`ul.loc-tree`)))
	s.waitCard(ctx, "0351 8888")
	if got := eval[string](s, ctx, `(`+cardWith("0351 8888")+`).querySelector(".call-state").textContent`); got != "missed?" {
		t.Errorf("a ring a minute old shows %q, want missed?", got)
	}

	// The plain user saw none of it.
	if n := eval[int](s, plain, `document.querySelectorAll("#calls *, script[src*='/calls.'], #call-card").length`); n != 0 {
		t.Fatalf("the plain user's page has %d popup elements", n)
	}

	// The call log and a call's page, without the cards in front.
	s.dismissAll(ctx)
	s.run(ctx, "open the call log", chromedp.Navigate(s.url+"/calls"), chromedp.WaitVisible(chromedp.CSS(`table.calls-log`)))
	if n := eval[int](s, ctx, `document.querySelectorAll("#calls .call-card").length`); n != 0 {
		t.Errorf("%d dismissed cards came back on the next page", n)
	}
	if n := eval[int](s, ctx, `document.querySelectorAll("table.calls-log tbody tr").length`); n != 8 {
		t.Errorf("the call log lists %d calls, want 8", n)
	}
	s.screenshot(ctx, "calls-log")
	// A call while the log is open: the page says so.
	setCall(t, direct, "0351 9999")
	s.run(ctx, "see the notice of new calls", chromedp.WaitVisible(chromedp.CSS(`main .calls-reload a`)))
	s.dismissAll(ctx)
	s.run(ctx, "open a call's page",
		chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll("table.calls-log tbody tr")].find((tr) => tr.innerText.includes("03591 303")).querySelector("a").click()`),
		chromedp.WaitVisible(chromedp.CSS(`table.call-hosts-full`)),
	)
	s.screenshot(ctx, "call-page")
	dialogs.none(t)
	plainDialogs.none(t)
}

// waitStreams waits until the broker has n open streams.
func waitStreams(t *testing.T, cs *callServer, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for cs.broker.Streams() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d open streams, want %d", cs.broker.Streams(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCallPopupTwoInstances: two ipdesk instances on one PostgreSQL
// database; a call reported to the first shows in a browser signed in to
// the second (LISTEN/NOTIFY). Under CI PostgreSQL is required.
func TestCallPopupTwoInstances(t *testing.T) {
	dsn := sqldbtest.PostgresDSN(t)
	if dsn == "" {
		t.Skipf("%s not set (under CI=true this fails)", sqldbtest.EnvPostgres)
	}
	a, csA := newCallSite(t, sqldbtest.Open(t, dsn))
	b, csB := newCallSite(t, sqldbtest.Open(t, dsn))
	callPlan(t, a)
	ctx := b.browser(90 * time.Second)
	dialogs := watchDialogs(t, ctx)
	watchScriptErrors(t, ctx)
	b.login(ctx, "helper")
	b.run(ctx, "open the hosts page on instance B", chromedp.Navigate(b.url+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`#hosts-table tbody tr`)))
	waitStreams(t, csB, 1)
	if csA.broker.Streams() != 0 {
		t.Fatalf("instance A has %d streams", csA.broker.Streams())
	}
	setCall(t, csA.url, "03591 303")
	b.waitCard(ctx, "03591 303")
	if text := b.cardText(ctx, "03591 303"); !strings.Contains(text, "Main > 303") || !strings.Contains(text, "z303c1") {
		t.Fatalf("the card on instance B: %q", text)
	}
	// The helpdesk user may change nothing: no "add this number".
	postCall(t, csA.url, `{"event": "ring", "call_id": "two-1", "from": "0351 999"}`)
	b.waitCard(ctx, "0351 999")
	if n := eval[int](b, ctx, `(`+cardWith("0351 999")+`).querySelectorAll(".call-assign-open").length`); n != 0 {
		t.Error("a user who may change nothing is offered to add the number")
	}
	postCall(t, csA.url, `{"event": "hangup", "call_id": "two-1"}`)
	b.run(ctx, "wait for missed", chromedp.Poll[chromedp.Void](`(`+cardWith("0351 999")+`).querySelector(".call-state").textContent === "missed"`, chromedp.WithPollingTimeout(10*time.Second)))
	b.settle(ctx)
	b.screenshot(ctx, "calls-two-instances")
	dialogs.none(t)
}

// TestCallPopupReset: a tab that missed more calls than the stream
// replays gets the broker's "reset" and loads the newest calls from the
// call log instead.
func TestCallPopupReset(t *testing.T) {
	db := sqldbtest.SQLite(t)
	cs := startCallServer(t, db, live.Options{MaxReplay: 500})
	s := &site{t: t, db: db, srv: cs.srv, url: cs.url}
	s.user("admin", true)
	proxy := newCutProxy(t, cs.url)
	s.url = proxy.url
	ctx := s.browser(90 * time.Second)
	watchScriptErrors(t, ctx)
	s.login(ctx, "admin")
	s.run(ctx, "open the hosts page", chromedp.Navigate(s.url+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	waitStreams(t, cs, 1)
	setCall(t, cs.url, "0351 1000")
	s.waitCard(ctx, "0351 1000")

	proxy.cut(true)
	waitStreams(t, cs, 0)
	for i := range 600 {
		n := fmt.Sprintf("0351 %04d", 2000+i)
		_, err := db.RecordCallEvent(context.Background(), &ipdesk.CallReport{Kind: ipdesk.CallRing, Time: time.Now(), Source: "192.0.2.1",
			From: ipdesk.PhoneNumber{Raw: n, Number: "+49351" + n[5:], Kind: ipdesk.NumberInternational}, Matches: ipdesk.CallMatches{Kind: ipdesk.MatchNone}})
		must(t, err)
	}
	proxy.setDown(false)
	s.waitCard(ctx, "0351 2599")
	got := eval[[]string](s, ctx, `[...document.querySelectorAll("#calls .call-number")].map((e) => e.textContent)`)
	if strings.Join(got, ",") != "0351 2599,0351 2598,0351 2597,0351 2596" {
		t.Fatalf("after the reset the cards are %q", got)
	}
}

// BenchmarkCallPopup measures the time from the set_call request to the
// card in the browser's page, painted: a helpdesk user's hosts page in
// headless Chromium, one call per iteration. It reports the median and
// the slowest (ms).
//
//	CI=true go test ./browser -run '^$' -bench CallPopup -benchtime 20x
func BenchmarkCallPopup(b *testing.B) {
	path, ok := headless.Find()
	if !ok {
		b.Skip("Chromium is not installed")
	}
	db := sqldbtest.SQLite(b)
	cs := startCallServer(b, db)
	u := &ipdesk.User{Name: "admin", Admin: true}
	if err := db.CreateUser(context.Background(), u, password); err != nil {
		b.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), headless.Options(path, b.TempDir())...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 5*time.Minute)
	b.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	err := chromedp.Do(ctx,
		chromedp.Navigate(cs.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "admin"),
		chromedp.SendKeys(chromedp.CSS(`#password`), password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`header.top nav`)),
		chromedp.Navigate(cs.url+"/hosts"),
		chromedp.WaitVisible(chromedp.CSS(`main h1`)),
		// Each new card's time: when it is in the page, at the next paint.
		chromedp.Evaluate[chromedp.Void](`window.__seen = {}; new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) {
			if (n.classList && n.classList.contains("call-card")) { const k = n.querySelector(".call-number").textContent;
				requestAnimationFrame(() => { window.__seen[k] = performance.timeOrigin + performance.now(); }); } } })
			.observe(document.getElementById("calls"), {childList: true})`),
	)
	if err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); cs.broker.Streams() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("no stream")
		}
	}
	var lat []float64
	b.ResetTimer()
	for i := range b.N {
		number := fmt.Sprintf("0351 %04d", i)
		start := float64(time.Now().UnixNano()) / 1e6
		setCall(b, cs.url, number)
		js := `window.__seen[` + strconv.Quote(number) + `] || 0`
		var seen float64
		for deadline := time.Now().Add(10 * time.Second); seen == 0; time.Sleep(2 * time.Millisecond) {
			if seen, err = chromedp.Run(ctx, chromedp.Evaluate[float64](js)); err != nil {
				b.Fatal(err)
			}
			if time.Now().After(deadline) {
				b.Fatalf("the card of %s did not appear", number)
			}
		}
		lat = append(lat, seen-start)
		// Dismiss it: the next call's card is built fresh.
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#calls .call-card .call-dismiss").click()`)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	sort.Float64s(lat)
	b.ReportMetric(lat[len(lat)/2], "median-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
}

// TestCallPopupNarrowed: the card of a helpdesk user who may see only
// the space School shows the room and School's hosts of a call, not the
// host of another space in the same room, and links nowhere the user
// cannot go; a helpdesk user who may see no host gets the room without
// links to the hosts table.
func TestCallPopupNarrowed(t *testing.T) {
	s, cs := newCallSite(t, nil)
	target, room, _ := callPlan(t, s)
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "setup"})
	office := &ipdesk.Space{Name: "Office"}
	must(t, s.db.CreateSpace(ctx, office))
	_, err := s.db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: office.ID, Prefix: netip.MustParsePrefix("10.8.0.0/24"), Kind: ipdesk.PrefixSubnet})
	must(t, err)
	mac, err := ipdesk.ParseMAC("02:00:00:00:08:09")
	must(t, err)
	secret := &ipdesk.Address{SpaceID: office.ID, Addr: netip.MustParseAddr("10.8.0.9"), MAC: mac, Hostname: "ceo-pc", Owner: "Secret Owner", LocationID: room.ID}
	_, err = s.db.CreateAddress(ctx, secret)
	must(t, err)
	narrow, blind := s.user("narrow", false), s.user("blind", false)
	g := &ipdesk.Group{Name: "school-helpdesk", Helpdesk: true, Members: []int64{narrow.ID}}
	must(t, s.db.CreateGroup(ctx, g))
	must(t, s.db.CreateGrant(ctx, &ipdesk.Grant{GroupID: g.ID, ObjectType: ipdesk.ObjectSpace, ObjectID: target.SpaceID, Right: ipdesk.RightView}))
	must(t, s.db.CreateGroup(ctx, &ipdesk.Group{Name: "blind-helpdesk", Helpdesk: true, Members: []int64{blind.ID}}))

	for i, c := range []struct {
		user      string
		has       []string
		hostLinks bool
	}{
		{"narrow", []string{"Main > 303", "z303c1", "10.3.0.5"}, true},
		{"blind", []string{"Main > 303"}, false},
	} {
		b := s.browser(120 * time.Second)
		watchDialogs(t, b)
		watchScriptErrors(t, b)
		s.login(b, c.user)
		s.run(b, "open the hosts page as "+c.user, chromedp.Navigate(s.url+"/hosts"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		waitStreams(t, cs, i+1)
		number := []string{"03591 303", "+49 3591 303"}[i]
		setCall(t, s.url, number)
		s.waitCard(b, number)
		text := s.cardText(b, number)
		for _, want := range c.has {
			if !strings.Contains(text, want) {
				t.Errorf("%s's card lacks %q:\n%s", c.user, want, text)
			}
		}
		for _, not := range []string{"ceo-pc", "10.8.0.9", "02:00:00:00:08:09", "Secret Owner"} {
			if strings.Contains(text, not) {
				t.Errorf("%s's card shows %q:\n%s", c.user, not, text)
			}
		}
		hrefs := eval[[]string](s, b, `[...(`+cardWith(number)+`).querySelectorAll("a")].map((a) => a.getAttribute("href"))`)
		for _, h := range hrefs {
			if h == "/hosts/"+itoa(secret.ID) || !c.hostLinks && strings.HasPrefix(h, "/hosts") {
				t.Errorf("%s's card links %s: %q", c.user, h, hrefs)
			}
		}
		if got := slices.Contains(hrefs, "/hosts?location="+itoa(room.ID)); got != c.hostLinks {
			t.Errorf("%s's card links the hosts of the room: %v, want %v (%q)", c.user, got, c.hostLinks, hrefs)
		}
	}
}
