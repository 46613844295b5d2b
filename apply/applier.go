package apply

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"ipdesk/internal/fsutil"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"ipdesk"
)

// Status is the outcome of a run.
type Status string

// Run statuses.
const (
	// StatusUnchanged: the rendered bytes equal the live file; nothing
	// was written or reloaded.
	StatusUnchanged Status = "unchanged"
	// StatusApplied: the new file is live and the daemon reloaded it.
	StatusApplied Status = "applied"
	// StatusInvalid: the daemon's check refused the new file; the live
	// file is unchanged.
	StatusInvalid Status = "invalid"
	// StatusReloadFailed: the reload failed; the previous file was put
	// back (see the message for whether that worked and was reloaded).
	StatusReloadFailed Status = "reload_failed"
	// StatusRenderFailed: the render function failed; nothing was written.
	StatusRenderFailed Status = "render_failed"
	// StatusError: another fault (a file could not be written, the check
	// could not run or timed out, the apply was cancelled); the live
	// file is unchanged.
	StatusError Status = "error"
)

// Run is the record of one apply of one target.
type Run struct {
	Target   string        `json:"target"`
	Kind     string        `json:"kind"`
	Path     string        `json:"path"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	Status   Status        `json:"status"`
	// Message tells what happened, with the daemon's own output (the last
	// MaxOutput bytes per command). It is valid UTF-8 without NUL or
	// other control characters except tab and newline; it is not escaped
	// for HTML.
	Message string `json:"message"`
	// Bytes is the size of the rendered file (0 when rendering failed).
	Bytes int `json:"bytes"`
	// Added and Removed count the lines that the rendered file adds to
	// and removes from the live one.
	Added   int `json:"added"`
	Removed int `json:"removed"`
	// Diff is Diff(live, rendered) when they differ.
	Diff string `json:"diff,omitempty"`
}

// OK tells whether the run left the daemon running the rendered file.
func (r Run) OK() bool {
	return r.Status == StatusApplied || r.Status == StatusUnchanged
}

// RenderFunc returns the bytes of a target's file. It is called once per
// apply, while the target is locked.
type RenderFunc func(ctx context.Context) ([]byte, error)

// Applier applies targets, one apply at a time per target name; different
// targets run in parallel. The zero value is ready to use; an Applier must
// not be copied after first use.
type Applier struct {
	mu    sync.Mutex
	locks map[string]chan struct{} // a full channel is a held lock
}

// Apply renders t and puts the result into service: unchanged bytes are
// left alone; changed bytes are written to a candidate beside the live
// file, checked with t.Validate, renamed over the live file and reloaded
// with t.Reload, and a failed reload is rolled back. The outcome is in the
// returned Run. The error is non-nil only when no run took place: t is
// invalid (an *ipdesk.Error) or ctx ended while waiting for another apply
// of t. Once the live file has been replaced, the reload (and a rollback)
// complete even if ctx ends, bounded by t.Timeout.
func (a *Applier) Apply(ctx context.Context, t Target, render RenderFunc) (Run, error) {
	return a.apply(ctx, t, render, nil)
}

// apply is Apply; started, if not nil, is called once the target is
// locked, before rendering.
func (a *Applier) apply(ctx context.Context, t Target, render RenderFunc, started func()) (Run, error) {
	if err := t.Check(); err != nil {
		return Run{}, err
	}
	if render == nil {
		return Run{}, ipdesk.Errorf(ipdesk.EINVALID, "target %q: no render function", t.Name)
	}
	unlock, err := a.lock(ctx, t.Name)
	if err != nil {
		return Run{}, err
	}
	defer unlock()
	if started != nil {
		started()
	}
	run := Run{Target: t.Name, Kind: t.Kind, Path: t.Path, Start: time.Now()}
	status, msg := a.run(ctx, &t, render, &run)
	run.Status, run.Message = status, sanitize([]byte(msg))
	run.Duration = time.Since(run.Start)
	return run, nil
}

// Cleanup removes the temporary files that an apply of t interrupted by a
// crash left behind (candidates and main config copies) and returns their
// paths. The live file is not touched. It waits for a running apply of t.
func (a *Applier) Cleanup(t Target) ([]string, error) {
	if err := t.Check(); err != nil {
		return nil, err
	}
	unlock, err := a.lock(context.Background(), t.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	live, err := resolveLive(t.Path)
	if err != nil {
		return nil, err
	}
	removed, err := removeMatching(filepath.Dir(live), candidatePrefix(live), tmpSuffix)
	errs := []error{err}
	if t.MainConfig != "" {
		dirs := []string{filepath.Dir(t.MainConfig)}
		if d := filepath.Dir(live); d != dirs[0] {
			dirs = append(dirs, d)
		}
		for _, d := range dirs {
			r, err := removeMatching(d, mainCopyPrefix(t.MainConfig, t.Name), tmpSuffix)
			removed = append(removed, r...)
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// PendingReload tells whether an earlier apply of t replaced the live file
// but did not reload the daemon successfully (for example because ipdesk
// stopped in between). The next Apply then reloads even if the file is
// unchanged.
func (a *Applier) PendingReload(t Target) bool {
	if len(t.Reload) == 0 {
		return false
	}
	live, err := resolveLive(t.Path)
	return err == nil && hasMarker(live)
}

// lock takes the lock of target name, or returns ctx's error.
func (a *Applier) lock(ctx context.Context, name string) (unlock func(), err error) {
	a.mu.Lock()
	if a.locks == nil {
		a.locks = make(map[string]chan struct{})
	}
	ch := a.locks[name]
	if ch == nil {
		ch = make(chan struct{}, 1)
		a.locks[name] = ch
	}
	a.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run does the work of one apply and returns its status and message; it
// fills in run's sizes and diff.
func (a *Applier) run(ctx context.Context, t *Target, render RenderFunc, run *Run) (Status, string) {
	data, err := callRender(ctx, render)
	if err != nil {
		return StatusRenderFailed, "render failed: " + sanitize([]byte(err.Error()))
	}
	run.Bytes = len(data)

	live, err := resolveLive(t.Path)
	if err != nil {
		return StatusError, err.Error()
	}
	cur, err := readLive(live, data)
	if err != nil {
		return StatusError, fmt.Sprintf("cannot read the live file: %v", err)
	}
	dir := commandDir(t, live)

	if cur.same {
		if len(t.Reload) == 0 || !hasMarker(live) {
			return StatusUnchanged, "the live file already has these contents"
		}
		// An earlier apply replaced the file but did not finish its
		// reload: do it now.
		res := runCommand(ctx, t.Reload, dir, t.timeout())
		if res.err != nil {
			return StatusReloadFailed, "the live file is unchanged, but an earlier apply left its reload pending, and the reload failed\n" + res.describe("reload")
		}
		clearMarker(live)
		return StatusApplied, "the live file is unchanged, but an earlier apply left its reload pending; reloaded\n" + res.describe("reload")
	}

	run.Diff, run.Added, run.Removed = diff(cur.data, data)
	if err := ctx.Err(); err != nil {
		return StatusError, fmt.Sprintf("cancelled before writing: %v", context.Cause(ctx))
	}
	var like fs.FileInfo
	if cur.exists {
		like = cur.info
	}
	cand, err := writeTemp(filepath.Dir(live), candidatePrefix(live), data, livePerms(t, like))
	if err != nil {
		return StatusError, fmt.Sprintf("cannot write the new file beside the live one: %v", err)
	}
	swapped := false
	defer func() {
		if !swapped {
			os.Remove(cand)
		}
	}()

	var steps []string
	if len(t.Validate) > 0 {
		res, err := validate(ctx, t, live, cand, dir)
		if err != nil {
			return StatusError, fmt.Sprintf("cannot check the new file: %v; the live file is unchanged", err)
		}
		if res.err != nil {
			if res.refused() {
				return StatusInvalid, "the check refused the new file; the live file is unchanged\n" + res.describe("validate")
			}
			return StatusError, "the check of the new file did not complete; the live file is unchanged\n" + res.describe("validate")
		}
		steps = append(steps, res.describe("validate"))
	}

	if err := ctx.Err(); err != nil {
		return StatusError, fmt.Sprintf("cancelled before the swap: %v; the live file is unchanged", context.Cause(ctx))
	}
	hadMarker := hasMarker(live)
	if len(t.Reload) > 0 && !hadMarker {
		// Set before the swap: if ipdesk stops between swap and reload,
		// the next apply knows the daemon has not loaded the file.
		if err := setMarker(live); err != nil {
			return StatusError, fmt.Sprintf("cannot write the reload marker beside the live file: %v; the live file is unchanged", err)
		}
	}
	if err := os.Rename(cand, live); err != nil {
		if len(t.Reload) > 0 && !hadMarker {
			clearMarker(live)
		}
		return StatusError, fmt.Sprintf("cannot replace the live file: %v; the live file is unchanged", err)
	}
	swapped = true
	if err := fsutil.SyncDir(filepath.Dir(live)); err != nil {
		// The new file is live; only its durability is in doubt.
		steps = append(steps, fmt.Sprintf("[warning: syncing the directory failed: %v]", err))
	}

	if len(t.Reload) == 0 {
		return StatusApplied, joinSteps("applied; no reload command", steps)
	}
	// From here on the daemon must end up with a file it loaded, so the
	// reload and a rollback run to completion even if ctx ends.
	rctx := context.WithoutCancel(ctx)
	res := runCommand(rctx, t.Reload, dir, t.timeout())
	steps = append(steps, res.describe("reload"))
	if res.err == nil {
		clearMarker(live)
		return StatusApplied, joinSteps("applied and reloaded", steps)
	}

	// Roll back: put the previous bytes back and reload them.
	var rerr error
	if cur.exists {
		rerr = replaceFile(live, cur.data, livePerms(t, cur.info))
	} else {
		if rerr = os.Remove(live); rerr == nil {
			rerr = fsutil.SyncDir(filepath.Dir(live))
		}
	}
	if rerr != nil {
		return StatusReloadFailed, joinSteps(fmt.Sprintf("reload failed; restoring the previous file also failed: %v; the new file is live but not loaded", rerr), steps)
	}
	res2 := runCommand(rctx, t.Reload, dir, t.timeout())
	steps = append(steps, res2.describe("reload of the restored file"))
	restored := "previous file restored"
	if !cur.exists {
		restored = "new file removed (there was no previous file)"
	}
	if res2.err != nil {
		return StatusReloadFailed, joinSteps("reload failed; "+restored+", but its reload also failed", steps)
	}
	clearMarker(live)
	return StatusReloadFailed, joinSteps("reload failed; "+restored+" and reloaded", steps)
}

// callRender calls render and turns a panic into an error.
func callRender(ctx context.Context, render RenderFunc) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("render panicked: %v", p)
		}
	}()
	return render(ctx)
}

// commandDir is the working directory of t's commands: the directory of
// the main config, or else of the live file, so that relative names in a
// config resolve the same for the copy as for the original.
func commandDir(t *Target, live string) string {
	if t.MainConfig != "" {
		return filepath.Dir(t.MainConfig)
	}
	return filepath.Dir(live)
}

// validate runs t.Validate on the candidate cand of the live file live.
// The error reports a failure to prepare the check.
func validate(ctx context.Context, t *Target, live, cand, dir string) (cmdResult, error) {
	var mainCopy string
	if usesMain(t.Validate) {
		p, err := writeMainCopy(t, live, cand)
		if err != nil {
			return cmdResult{}, err
		}
		defer os.Remove(p)
		mainCopy = p
	}
	return runCommand(ctx, expandArgs(t.Validate, cand, mainCopy), dir, t.timeout()), nil
}

// usesMain tells whether argv mentions {main}.
func usesMain(argv []string) bool {
	for _, a := range argv {
		if strings.Contains(a, PlaceholderMain) {
			return true
		}
	}
	return false
}

// writeMainCopy writes a copy of t.MainConfig in which the live path is
// replaced by cand. The copy lives beside the main config, so that names
// relative to the config's directory resolve as for the original; if that
// directory is not writable, beside the candidate.
func writeMainCopy(t *Target, live, cand string) (string, error) {
	data, err := os.ReadFile(t.MainConfig)
	if err != nil {
		return "", fmt.Errorf("cannot read main_config: %w", err)
	}
	info, err := os.Stat(t.MainConfig)
	if err != nil {
		return "", fmt.Errorf("cannot read main_config: %w", err)
	}
	out, n := replacePath(data, t.Path, cand)
	if live != t.Path {
		var n2 int
		out, n2 = replacePath(out, live, cand)
		n += n2
	}
	if n == 0 {
		return "", fmt.Errorf("main_config %s does not mention %s by that absolute path, so the new file cannot be checked through it", t.MainConfig, t.Path)
	}
	prefix := mainCopyPrefix(t.MainConfig, t.Name)
	p, err := writeTemp(filepath.Dir(t.MainConfig), prefix, out, perms{like: info})
	if errors.Is(err, fs.ErrPermission) {
		p, err = writeTemp(filepath.Dir(live), prefix, out, perms{like: info})
	}
	if err != nil {
		return "", fmt.Errorf("cannot write a copy of main_config: %w", err)
	}
	return p, nil
}

// joinSteps joins a summary line and the commands' reports.
func joinSteps(summary string, steps []string) string {
	return strings.Join(append([]string{summary}, steps...), "\n")
}
