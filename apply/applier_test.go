package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"ipdesk"
)

func TestApply(t *testing.T) {
	const old = "host a { fixed-address 10.0.0.1; }\n"
	const changed = "host a { fixed-address 10.0.0.1; }\nhost b { fixed-address 10.0.0.2; }\n"
	tests := []struct {
		name     string
		initial  *string // nil: no live file
		render   RenderFunc
		validate func(f *fakes) []string
		reload   func(f *fakes, live string) []string
		timeout  time.Duration

		status   Status
		live     *string // nil: the live file must not exist
		reloads  int
		messages []string // substrings of the message
	}{
		{
			name:     "valid change is applied and reloaded",
			initial:  ptr(old),
			render:   static(changed),
			validate: func(f *fakes) []string { return []string{f.validator(), "{candidate}"} },
			reload:   func(f *fakes, _ string) []string { return []string{f.reloader()} },
			status:   StatusApplied,
			live:     ptr(changed),
			reloads:  1,
			messages: []string{"[validate: ok]", "syntax OK", "[reload: ok]"},
		},
		{
			name:     "refused by the check: live file untouched, no reload",
			initial:  ptr(old),
			render:   static(old + "host BAD;\n"),
			validate: func(f *fakes) []string { return []string{f.validator(), "{candidate}"} },
			reload:   func(f *fakes, _ string) []string { return []string{f.reloader()} },
			status:   StatusInvalid,
			live:     ptr(old),
			reloads:  0,
			messages: []string{"refused", "exit status 1", "2:host BAD;", "BAD entry refused"},
		},
		{
			name:     "reload fails: previous file restored and reloaded",
			initial:  ptr(old),
			render:   static(old + "NEW\n"),
			validate: func(f *fakes) []string { return []string{f.validator(), "{candidate}"} },
			reload:   func(f *fakes, live string) []string { return []string{f.pickyReloader(live)} },
			status:   StatusReloadFailed,
			live:     ptr(old),
			reloads:  2,
			messages: []string{"reload failed; previous file restored and reloaded", "NEW is not loadable", "[reload of the restored file: ok]"},
		},
		{
			name:     "reload fails twice",
			initial:  ptr(old),
			render:   static(changed),
			reload:   func(f *fakes, _ string) []string { return []string{f.failingReloader()} },
			status:   StatusReloadFailed,
			live:     ptr(old),
			reloads:  2,
			messages: []string{"previous file restored, but its reload also failed", "exit status 3", "cannot load the configuration"},
		},
		{
			name:    "hanging reload is killed and rolled back",
			initial: ptr(old),
			render:  static(changed),
			reload: func(f *fakes, _ string) []string {
				return []string{f.script("reload-hang", fmt.Sprintf("echo reload >> %q\nsleep 60", f.log))}
			},
			timeout:  300 * time.Millisecond,
			status:   StatusReloadFailed,
			live:     ptr(old),
			reloads:  2,
			messages: []string{"timed out after 300ms", "but its reload also failed"},
		},
		{
			name:     "render error writes nothing",
			initial:  ptr(old),
			render:   func(context.Context) ([]byte, error) { return nil, errors.New("database is locked") },
			validate: func(f *fakes) []string { return []string{f.validator(), "{candidate}"} },
			reload:   func(f *fakes, _ string) []string { return []string{f.reloader()} },
			status:   StatusRenderFailed,
			live:     ptr(old),
			messages: []string{"render failed: database is locked"},
		},
		{
			name:     "render panic writes nothing",
			initial:  ptr(old),
			render:   func(context.Context) ([]byte, error) { panic("nil map") },
			status:   StatusRenderFailed,
			live:     ptr(old),
			messages: []string{"render panicked: nil map"},
		},
		{
			name:     "first apply creates the file",
			render:   static(changed),
			validate: func(f *fakes) []string { return []string{f.validator(), "{candidate}"} },
			reload:   func(f *fakes, _ string) []string { return []string{f.reloader()} },
			status:   StatusApplied,
			live:     ptr(changed),
			reloads:  1,
		},
		{
			name:     "first apply, reload fails: file removed again",
			render:   static(changed),
			reload:   func(f *fakes, _ string) []string { return []string{f.failingReloader()} },
			status:   StatusReloadFailed,
			reloads:  2,
			messages: []string{"new file removed (there was no previous file)"},
		},
		{
			name:     "missing validator is an error, not a refusal",
			initial:  ptr(old),
			render:   static(changed),
			validate: func(f *fakes) []string { return []string{filepath.Join(f.dir, "no-such-program"), "{candidate}"} },
			reload:   func(f *fakes, _ string) []string { return []string{f.reloader()} },
			status:   StatusError,
			live:     ptr(old),
			messages: []string{"did not complete", "no such file or directory"},
		},
		{
			name:     "no commands",
			initial:  ptr(old),
			render:   static(changed),
			status:   StatusApplied,
			live:     ptr(changed),
			messages: []string{"no reload command"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakes(t)
			dir := filepath.Join(f.dir, "etc")
			live := filepath.Join(dir, "hosts.conf")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if tc.initial != nil {
				writeFile(t, live, *tc.initial)
			}
			target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live, Timeout: tc.timeout}
			if tc.validate != nil {
				target.Validate = tc.validate(f)
			}
			if tc.reload != nil {
				target.Reload = tc.reload(f, live)
			}
			var a Applier
			run, err := a.Apply(context.Background(), target, tc.render)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != tc.status {
				t.Fatalf("status %q, want %q; message:\n%s", run.Status, tc.status, run.Message)
			}
			for _, m := range tc.messages {
				if !strings.Contains(run.Message, m) {
					t.Errorf("message lacks %q:\n%s", m, run.Message)
				}
			}
			if tc.live == nil {
				if _, err := os.Stat(live); !os.IsNotExist(err) {
					t.Errorf("live file exists (err %v), want none", err)
				}
			} else if got := readFile(t, live); got != *tc.live {
				t.Errorf("live file:\n%q\nwant\n%q", got, *tc.live)
			}
			if got := f.reloads(); got != tc.reloads {
				t.Errorf("%d reloads, want %d", got, tc.reloads)
			}
			// Only a reload that never succeeded leaves its marker.
			wantMarker := strings.Contains(run.Message, "also failed")
			var want []string
			if wantMarker {
				want = []string{filepath.Base(markerPath(live))}
			}
			if got := leftovers(t, dir); !slices.Equal(got, want) {
				t.Errorf("files left in the directory: %q, want %q", got, want)
			}
			if run.Target != "dhcpd" || run.Start.IsZero() || run.Duration <= 0 {
				t.Errorf("run record incomplete: %+v", run)
			}
		})
	}
}

func TestApplyRecordsDiff(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "acl.txt")
	writeFile(t, live, "10.0.0.1\n10.0.0.2\n")
	var a Applier
	run, err := a.Apply(context.Background(), Target{Name: "rooms", Kind: KindSquidRooms, Path: live}, static("10.0.0.1\n10.0.0.3\n10.0.0.4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Added != 2 || run.Removed != 1 || run.Bytes != 27 {
		t.Errorf("added %d removed %d bytes %d, want 2 1 27", run.Added, run.Removed, run.Bytes)
	}
	if want := "@@ -1,2 +1,3 @@\n 10.0.0.1\n-10.0.0.2\n+10.0.0.3\n+10.0.0.4\n"; run.Diff != want {
		t.Errorf("diff:\n%s\nwant\n%s", run.Diff, want)
	}
}

func TestApplyUnchanged(t *testing.T) {
	f := newFakes(t)
	live := filepath.Join(f.dir, "hosts.conf")
	writeFile(t, live, "same\n")
	before, err := os.Stat(live)
	if err != nil {
		t.Fatal(err)
	}
	// Make a rewrite visible in the mtime even on coarse clocks.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(live, old, old); err != nil {
		t.Fatal(err)
	}
	target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live,
		Validate: []string{f.validator(), "{candidate}"}, Reload: []string{f.reloader()}}
	var a Applier
	run, err := a.Apply(context.Background(), target, static("same\n"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusUnchanged {
		t.Fatalf("status %q: %s", run.Status, run.Message)
	}
	after, err := os.Stat(live)
	if err != nil {
		t.Fatal(err)
	}
	if ino(before) != ino(after) || !after.ModTime().Equal(old) {
		t.Errorf("file rewritten: inode %d → %d, mtime %v → %v", ino(before), ino(after), old, after.ModTime())
	}
	if n := f.reloads(); n != 0 {
		t.Errorf("%d reloads, want 0", n)
	}
	if run.Diff != "" || run.Added != 0 {
		t.Errorf("diff of an unchanged file: %q", run.Diff)
	}
}

func ino(fi os.FileInfo) uint64 { return fi.Sys().(*syscall.Stat_t).Ino }

func TestApplyKeepsModeAndOwner(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "hosts.conf")
	writeFile(t, live, "old\n")
	if err := os.Chmod(live, 0o640); err != nil {
		t.Fatal(err)
	}
	wantUID, wantGID := os.Getuid(), os.Getgid()
	if os.Geteuid() == 0 {
		wantUID, wantGID = 1234, 5678
		if err := os.Chown(live, wantUID, wantGID); err != nil {
			t.Fatal(err)
		}
	}
	var a Applier
	run, err := a.Apply(context.Background(), Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live}, static("new\n"))
	if err != nil || run.Status != StatusApplied {
		t.Fatalf("%v %q %s", err, run.Status, run.Message)
	}
	fi, err := os.Stat(live)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || int(st.Uid) != wantUID || int(st.Gid) != wantGID {
		t.Errorf("mode %v owner %d:%d, want -rw-r----- %d:%d", fi.Mode(), st.Uid, st.Gid, wantUID, wantGID)
	}

	// A new file gets 0644 whatever the umask.
	fresh := filepath.Join(dir, "fresh.conf")
	old := syscall.Umask(0o077)
	run, err = a.Apply(context.Background(), Target{Name: "fresh", Kind: KindISCDHCP, Path: fresh}, static("x\n"))
	syscall.Umask(old)
	if err != nil || run.Status != StatusApplied {
		t.Fatalf("%v %q %s", err, run.Status, run.Message)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v (%v), want 0644", fi.Mode(), err)
	}
}

func TestApplyFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "data", "hosts.conf")
	writeFile(t, real, "old\n")
	link := filepath.Join(dir, "hosts.conf")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	var a Applier
	run, err := a.Apply(context.Background(), Target{Name: "dhcpd", Kind: KindISCDHCP, Path: link}, static("new\n"))
	if err != nil || run.Status != StatusApplied {
		t.Fatalf("%v %q %s", err, run.Status, run.Message)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi.Mode(), err)
	}
	if got := readFile(t, real); got != "new\n" {
		t.Errorf("linked file %q, want new", got)
	}
}

func TestValidateTimeoutKillsProcessGroup(t *testing.T) {
	f := newFakes(t)
	live := filepath.Join(f.dir, "hosts.conf")
	writeFile(t, live, "old\n")
	pidFile := filepath.Join(f.dir, "child.pid")
	target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live,
		Validate: []string{f.hanger("validate-hang", pidFile), "{candidate}"},
		Reload:   []string{f.reloader()},
		Timeout:  500 * time.Millisecond}
	var a Applier
	begin := time.Now()
	run, err := a.Apply(context.Background(), target, static("new\n"))
	elapsed := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	// The bound is generous for slow machines; the point is that nobody
	// waits for the 60 s sleep.
	if elapsed > 10*time.Second {
		t.Errorf("apply took %v with a 500ms timeout", elapsed)
	}
	if run.Status != StatusError || !strings.Contains(run.Message, "timed out after 500ms; process group killed") ||
		!strings.Contains(run.Message, "started a child") {
		t.Errorf("status %q message:\n%s", run.Status, run.Message)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	if err != nil {
		t.Fatal(err)
	}
	if !waitGone(pid, 5*time.Second) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the validator's child %d survived the timeout", pid)
	}
	if got := readFile(t, live); got != "old\n" {
		t.Errorf("live file %q", got)
	}
	if f.reloads() != 0 || len(leftovers(t, f.dir)) != 0 {
		t.Errorf("reloads %d, leftovers %q", f.reloads(), leftovers(t, f.dir))
	}
}

func TestApplyCancelled(t *testing.T) {
	f := newFakes(t)
	live := filepath.Join(f.dir, "hosts.conf")
	writeFile(t, live, "old\n")
	pidFile := filepath.Join(f.dir, "child.pid")
	target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live,
		Validate: []string{f.hanger("validate-hang", pidFile), "{candidate}"}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	var a Applier
	run, err := a.Apply(ctx, target, static("new\n"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusError || !strings.Contains(run.Message, "cancelled") {
		t.Errorf("status %q message:\n%s", run.Status, run.Message)
	}
	if got := readFile(t, live); got != "old\n" {
		t.Errorf("live file %q", got)
	}
	// Waiting for the lock of a busy target also ends with ctx.
	unlock, err := a.lock(context.Background(), "dhcpd")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := a.Apply(ctx2, target, static("new\n")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("apply of a locked target: %v, want deadline exceeded", err)
	}
}

func TestMainPlaceholder(t *testing.T) {
	f := newFakes(t)
	etc := filepath.Join(f.dir, "etc")
	live := filepath.Join(etc, "dhcpd.hosts")
	main := filepath.Join(etc, "dhcpd.conf")
	writeFile(t, live, "host a;\n")
	// The main config includes the live file by its absolute path, a
	// longer name that must not be touched, and a file by a relative name.
	writeFile(t, main, fmt.Sprintf("include %q;\ninclude \"%s.local\";\ninclude \"options.conf\";\n", live, live))
	writeFile(t, live+".local", "host local;\n")
	writeFile(t, filepath.Join(etc, "options.conf"), "option x;\n")
	seen := filepath.Join(f.dir, "seen-main")
	// The fake daemon follows the includes of the main config ($3), reads
	// relative names from its working directory, and refuses BAD.
	check := f.script("dhcpd-t", fmt.Sprintf(`[ "$1 $2" = "-t -cf" ] || exit 9
cp "$3" %q
echo "main: $3"
for inc in $(sed -n 's/^include "\(.*\)";$/\1/p' "$3"); do
	[ -r "$inc" ] || { echo "cannot read $inc" >&2; exit 2; }
	if grep -q BAD "$inc"; then echo "$inc: BAD host" >&2; exit 1; fi
done`, seen))
	target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live, MainConfig: main,
		Validate: []string{check, "-t", "-cf", "{main}"}}
	var a Applier

	run, err := a.Apply(context.Background(), target, static("host a;\nhost BAD;\n"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusInvalid || !strings.Contains(run.Message, ".dhcpd.hosts.ipdesk-") || !strings.Contains(run.Message, "BAD host") {
		t.Fatalf("status %q, message:\n%s", run.Status, run.Message)
	}
	copyText := readFile(t, seen)
	if strings.Contains(copyText, fmt.Sprintf("%q", live)) || !strings.Contains(copyText, live+".local") ||
		!strings.Contains(copyText, "options.conf") {
		t.Errorf("main config copy:\n%s", copyText)
	}
	// The copy was beside the main config and is gone.
	if !strings.Contains(run.Message, "main: "+etc+"/.dhcpd.conf.ipdesk-dhcpd-") {
		t.Errorf("main copy not beside the main config:\n%s", run.Message)
	}
	if got := leftovers(t, etc); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
	if got := readFile(t, live); got != "host a;\n" {
		t.Errorf("live file %q", got)
	}

	run, err = a.Apply(context.Background(), target, static("host a;\nhost b;\n"))
	if err != nil || run.Status != StatusApplied {
		t.Fatalf("%v %q:\n%s", err, run.Status, run.Message)
	}
	if got := readFile(t, live); got != "host a;\nhost b;\n" {
		t.Errorf("live file %q", got)
	}

	// A main config that does not mention the path cannot vouch for the
	// candidate: refuse rather than check the old file.
	writeFile(t, main, "include \"dhcpd.hosts\";\n")
	run, err = a.Apply(context.Background(), target, static("host c;\n"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusError || !strings.Contains(run.Message, "does not mention "+live) {
		t.Errorf("status %q, message:\n%s", run.Status, run.Message)
	}
}

func TestCleanup(t *testing.T) {
	dir := t.TempDir()
	etc := filepath.Join(dir, "etc")
	live := filepath.Join(etc, "hosts.conf")
	main := filepath.Join(dir, "main", "dhcpd.conf")
	writeFile(t, live, "whole old file\n")
	writeFile(t, main, "include \""+live+"\";\n")
	// What a crash between write and rename leaves behind.
	stale := []string{
		filepath.Join(etc, ".hosts.conf.ipdesk-123456.tmp"),
		filepath.Join(dir, "main", ".dhcpd.conf.ipdesk-dhcpd-987.tmp"),
		filepath.Join(etc, ".dhcpd.conf.ipdesk-dhcpd-555.tmp"),
	}
	for _, p := range stale {
		writeFile(t, p, "half a new fi")
	}
	// Files that are not ours, or belong to another target, stay.
	keep := []string{
		filepath.Join(etc, ".other.conf.ipdesk-1.tmp"),
		filepath.Join(etc, "hosts.conf.bak"),
		filepath.Join(dir, "main", ".dhcpd.conf.ipdesk-kea-1.tmp"),
	}
	for _, p := range keep {
		writeFile(t, p, "x")
	}
	var a Applier
	target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live, MainConfig: main}
	removed, err := a.Cleanup(target)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != len(stale) {
		t.Errorf("removed %q, want %q", removed, stale)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still there", p)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if got := readFile(t, live); got != "whole old file\n" {
		t.Errorf("live file %q", got)
	}
}

func TestPendingReloadAfterCrash(t *testing.T) {
	f := newFakes(t)
	live := filepath.Join(f.dir, "hosts.conf")
	// ipdesk stopped after the swap, before the reload: the new file is
	// live, the marker says the daemon has not loaded it.
	writeFile(t, live, "new\n")
	writeFile(t, markerPath(live), "")
	target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live, Reload: []string{f.reloader()}}
	var a Applier
	if !a.PendingReload(target) {
		t.Fatal("PendingReload false with a marker")
	}
	run, err := a.Apply(context.Background(), target, static("new\n"))
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != StatusApplied || !strings.Contains(run.Message, "reload pending") || f.reloads() != 1 {
		t.Fatalf("status %q, reloads %d, message:\n%s", run.Status, f.reloads(), run.Message)
	}
	if a.PendingReload(target) {
		t.Error("marker still there after a successful reload")
	}
	run, _ = a.Apply(context.Background(), target, static("new\n"))
	if run.Status != StatusUnchanged || f.reloads() != 1 {
		t.Errorf("second apply: status %q, reloads %d", run.Status, f.reloads())
	}
}

// TestSwapIsAtomic hammers the live file with reads during 200 applies: a
// reader must only ever see one whole known content.
func TestSwapIsAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	live := filepath.Join(dir, "acl.txt")
	// Contents of different sizes, large enough that a partial write
	// would show.
	contents := [][]byte{
		bytes.Repeat([]byte("10.0.0.1\n"), 2000),
		bytes.Repeat([]byte("192.168.100.200\n"), 1500),
	}
	writeFile(t, live, string(contents[1]))
	var (
		stop    atomic.Bool
		reads   atomic.Int64
		bad     atomic.Int64
		firstMu sync.Mutex
		first   string
		wg      sync.WaitGroup
	)
	// One reader: with more, on a small machine, they starve the writer.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			data, err := os.ReadFile(live)
			reads.Add(1)
			if err == nil && (bytes.Equal(data, contents[0]) || bytes.Equal(data, contents[1])) {
				continue
			}
			bad.Add(1)
			firstMu.Lock()
			if first == "" {
				first = fmt.Sprintf("err %v, %d bytes", err, len(data))
			}
			firstMu.Unlock()
		}
	}()
	var a Applier
	target := Target{Name: "rooms", Kind: KindSquidRooms, Path: live}
	for i := range 200 {
		run, err := a.Apply(context.Background(), target, static(string(contents[i%2])))
		if err != nil || run.Status != StatusApplied {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("apply %d: %v %q %s", i, err, run.Status, run.Message)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d of %d reads saw neither whole content; first: %s", bad.Load(), reads.Load(), first)
	}
	t.Logf("%d reads during 200 applies", reads.Load())
	if got := leftovers(t, dir); len(got) != 0 {
		t.Errorf("left behind: %q", got)
	}
}

func TestApplyRejectsBadTarget(t *testing.T) {
	var a Applier
	_, err := a.Apply(context.Background(), Target{Name: "x", Kind: KindKea, Path: "relative/path"}, static(""))
	if ipdesk.ErrorCode(err) != ipdesk.EINVALID || ipdesk.ErrorField(err) != "path" {
		t.Errorf("err %v", err)
	}
	_, err = a.Apply(context.Background(), Target{Name: "x", Kind: KindKea, Path: "/etc/x"}, nil)
	if ipdesk.ErrorCode(err) != ipdesk.EINVALID {
		t.Errorf("nil render: %v", err)
	}
}

// BenchmarkApplyUnchanged5MB measures the common case of an apply whose
// output did not change: read and compare, no write.
func BenchmarkApplyUnchanged5MB(b *testing.B) {
	dir := b.TempDir()
	live := filepath.Join(dir, "dhcpd.hosts")
	var buf bytes.Buffer
	for i := 0; buf.Len() < 5<<20; i++ {
		fmt.Fprintf(&buf, "host h%d { hardware ethernet 02:00:00:%02x:%02x:%02x; fixed-address 10.%d.%d.%d; }\n",
			i, i>>16&0xff, i>>8&0xff, i&0xff, i>>16&0xff, i>>8&0xff, i&0xff)
	}
	data := buf.Bytes()
	if err := os.WriteFile(live, data, 0o644); err != nil {
		b.Fatal(err)
	}
	target := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: live, Reload: []string{"/bin/false"}}
	render := func(context.Context) ([]byte, error) { return data, nil }
	var a Applier
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		run, err := a.Apply(context.Background(), target, render)
		if err != nil || run.Status != StatusUnchanged {
			b.Fatalf("%v %q", err, run.Status)
		}
	}
}

func ptr[T any](v T) *T { return &v }
