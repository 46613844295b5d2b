package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakes is a directory of fake daemon scripts for one test.
type fakes struct {
	t   *testing.T
	dir string
	log string // every reload appends a line here
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	dir := t.TempDir()
	return &fakes{t: t, dir: dir, log: filepath.Join(dir, "reload.log")}
}

// script writes an executable /bin/sh script and returns its path.
func (f *fakes) script(name, body string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// validator refuses a file ($1) that contains BAD, like a daemon's check.
func (f *fakes) validator() string {
	return f.script("validate", `if grep -n BAD "$1"; then echo "$1: BAD entry refused" >&2; exit 1; fi
echo "syntax OK"`)
}

// reloader appends to the log and succeeds.
func (f *fakes) reloader() string {
	return f.script("reload-ok", fmt.Sprintf(`echo reload >> %q`, f.log))
}

// failingReloader appends to the log and fails every time.
func (f *fakes) failingReloader() string {
	return f.script("reload-fail", fmt.Sprintf(`echo reload >> %q
echo "daemon: cannot load the configuration" >&2
exit 3`, f.log))
}

// pickyReloader appends to the log and fails while live contains NEW.
func (f *fakes) pickyReloader(live string) string {
	return f.script("reload-picky", fmt.Sprintf(`echo reload >> %q
if grep -q NEW %q; then echo "daemon: NEW is not loadable" >&2; exit 1; fi`, f.log, live))
}

// hanger starts a child that sleeps 60 s, writes the child's pid to
// pidFile and waits for it.
func (f *fakes) hanger(name, pidFile string) string {
	return f.script(name, fmt.Sprintf(`sleep 60 &
echo $! > %q
echo "started a child" >&2
wait $!`, pidFile))
}

// reloads returns how many reloads the log has.
func (f *fakes) reloads() int {
	data, err := os.ReadFile(f.log)
	if os.IsNotExist(err) {
		return 0
	} else if err != nil {
		f.t.Fatal(err)
	}
	return bytes.Count(data, []byte("reload\n"))
}

// leftovers returns the names of ipdesk's temporary files in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".ipdesk-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// processGone tells whether pid has exited (a zombie counts as exited: an
// init that does not reap is not our concern).
func processGone(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// waitGone waits up to d for pid to exit.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if processGone(pid) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return processGone(pid)
}

// static returns a RenderFunc that yields s.
func static(s string) RenderFunc {
	return func(context.Context) ([]byte, error) { return []byte(s), nil }
}
