package apply

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash tests run an apply in a child process (this test binary in
// crash mode) and kill it with SIGKILL at the worst moments: while the
// check of the candidate runs (after the write, before the rename), while
// the reload runs (after the rename), and at random moments of a stream of
// applies. The live file must always be the whole old or the whole new
// file, and the next apply must clean up and finish the work.

// Environment of the child: the mode and the directory of the files.
const (
	envCrashMode = "IPDESK_APPLY_CRASH_MODE"
	envCrashDir  = "IPDESK_APPLY_CRASH_DIR"
)

// crashContents are the two versions of the live file: large enough that a
// kill during a write leaves a part of one.
var crashContents = func() [2][]byte {
	var a, b bytes.Buffer
	for i := range 40000 {
		fmt.Fprintf(&a, "host a%d { fixed-address 10.1.%d.%d; }\n", i, i>>8&0xff, i&0xff)
		fmt.Fprintf(&b, "host b%d { fixed-address 10.2.%d.%d; }\n", i, i>>8&0xff, i&0xff)
	}
	return [2][]byte{a.Bytes(), b.Bytes()}
}()

// crashTarget is the target of the crash tests in dir, with the commands
// the mode needs: a check or a reload that reports its start and hangs.
func crashTarget(dir, mode string) Target {
	t := Target{Name: "dhcpd", Kind: KindISCDHCP, Path: filepath.Join(dir, "etc", "dhcpd.hosts"), Timeout: time.Minute}
	switch mode {
	case "validate":
		t.Validate = []string{filepath.Join(dir, "hang"), "{candidate}"}
	case "reload":
		t.Reload = []string{filepath.Join(dir, "hang")}
	}
	return t
}

// crashChild is the child's work: apply until killed.
func crashChild(mode, dir string) {
	var a Applier
	t := crashTarget(dir, mode)
	fmt.Println("ready")
	for i := 1; ; i++ {
		data := crashContents[i%2]
		run, err := a.Apply(context.Background(), t, func(context.Context) ([]byte, error) { return data, nil })
		if err != nil || !run.OK() {
			fmt.Fprintf(os.Stderr, "apply %d: %v %s %s\n", i, err, run.Status, run.Message)
			os.Exit(3)
		}
	}
}

// startCrashChild starts the child in mode and waits until it applies.
func startCrashChild(t *testing.T, mode, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLeavesWholeFile$")
	cmd.Env = append(os.Environ(), envCrashMode+"="+mode, envCrashDir+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the child did not start: %q %v\n%s", line, err, stderr.String())
	}
	return cmd
}

// kill ends the child with SIGKILL, as a crash or an OOM kill does.
func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
}

// crashWhileHanging starts the child in mode, waits until its hanging
// command runs, and kills both.
func crashWhileHanging(t *testing.T, mode, dir string) {
	t.Helper()
	cmd := startCrashChild(t, mode, dir)
	pid := waitHanging(t, dir)
	kill(t, cmd)
	syscall.Kill(pid, syscall.SIGKILL)
}

// waitHanging waits until the hanging command has started and returns
// its pid, which it wrote to the file "hanging".
func waitHanging(t *testing.T, dir string) int {
	t.Helper()
	p := filepath.Join(dir, "hanging")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(p); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatal("the hanging command did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCrashLeavesWholeFile(t *testing.T) {
	if mode := os.Getenv(envCrashMode); mode != "" {
		crashChild(mode, os.Getenv(envCrashDir))
		return
	}
	t.Parallel()
	setup := func(t *testing.T) (dir string, live string) {
		dir = t.TempDir()
		live = crashTarget(dir, "").Path
		writeFile(t, live, string(crashContents[0]))
		// The hanging command writes its pid, then sleeps; it runs in a
		// process group of its own and outlives the killed child, like a
		// daemon's check after an ipdesk crash; the test ends it.
		hang := filepath.Join(dir, "hang")
		if err := os.WriteFile(hang, []byte("#!/bin/sh\necho $$ > "+strconv.Quote(filepath.Join(dir, "hanging.tmp"))+
			"\nmv "+strconv.Quote(filepath.Join(dir, "hanging.tmp"))+" "+strconv.Quote(filepath.Join(dir, "hanging"))+"\nexec sleep 60\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return dir, live
	}
	candidates := func(t *testing.T, live string) []string {
		t.Helper()
		var out []string
		for _, n := range leftovers(t, filepath.Dir(live)) {
			if strings.HasSuffix(n, tmpSuffix) {
				out = append(out, n)
			}
		}
		return out
	}

	t.Run("during the check", func(t *testing.T) {
		dir, live := setup(t)
		crashWhileHanging(t, "validate", dir)
		if got := readFile(t, live); got != string(crashContents[0]) {
			t.Fatalf("after a crash during the check the live file is not the whole old one (%d bytes)", len(got))
		}
		left := candidates(t, live)
		if len(left) != 1 {
			t.Fatalf("candidates left: %q, want the one under check", left)
		}
		// The next start cleans up; the next apply goes through.
		var a Applier
		target := crashTarget(dir, "")
		if removed, err := a.Cleanup(target); err != nil || len(removed) != 1 {
			t.Fatalf("cleanup: %q %v", removed, err)
		}
		run, err := a.Apply(context.Background(), target, static(string(crashContents[1])))
		if err != nil || run.Status != StatusApplied {
			t.Fatalf("the apply after the crash: %v %s %s", err, run.Status, run.Message)
		}
		if got := readFile(t, live); got != string(crashContents[1]) || len(leftovers(t, filepath.Dir(live))) != 0 {
			t.Errorf("after the next apply: %d bytes, left %q", len(got), leftovers(t, filepath.Dir(live)))
		}
	})

	t.Run("during the reload", func(t *testing.T) {
		dir, live := setup(t)
		crashWhileHanging(t, "reload", dir)
		if got := readFile(t, live); got != string(crashContents[1]) {
			t.Fatalf("after a crash during the reload the live file is not the whole new one (%d bytes)", len(got))
		}
		f := newFakes(t)
		target := crashTarget(dir, "")
		target.Reload = []string{f.reloader()}
		var a Applier
		if !a.PendingReload(target) {
			t.Fatal("no pending reload after a crash during the reload")
		}
		if removed, err := a.Cleanup(target); err != nil || len(removed) != 0 {
			t.Errorf("cleanup: %q %v", removed, err)
		}
		run, err := a.Apply(context.Background(), target, static(string(crashContents[1])))
		if err != nil || run.Status != StatusApplied || !strings.Contains(run.Message, "reload pending") || f.reloads() != 1 {
			t.Fatalf("the apply after the crash: %v %s, %d reloads: %s", err, run.Status, f.reloads(), run.Message)
		}
		if a.PendingReload(target) || len(leftovers(t, filepath.Dir(live))) != 0 {
			t.Errorf("left %q", leftovers(t, filepath.Dir(live)))
		}
	})

	t.Run("at random moments", func(t *testing.T) {
		dir, live := setup(t)
		var a Applier
		target := crashTarget(dir, "")
		old, new, midway := 0, 0, 0
		for i := range 25 {
			cmd := startCrashChild(t, "loop", dir)
			time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond)
			kill(t, cmd)
			if len(leftovers(t, filepath.Dir(live))) > 0 {
				midway++ // killed with a candidate written in part or whole
			}
			got, err := os.ReadFile(live)
			switch {
			case err != nil:
				t.Fatalf("kill %d: %v", i, err)
			case bytes.Equal(got, crashContents[0]):
				old++
			case bytes.Equal(got, crashContents[1]):
				new++
			default:
				t.Fatalf("kill %d: the live file is neither whole version (%d bytes)", i, len(got))
			}
			if _, err := a.Cleanup(target); err != nil {
				t.Fatal(err)
			}
			if left := leftovers(t, filepath.Dir(live)); len(left) != 0 {
				t.Fatalf("kill %d: left after cleanup: %q", i, left)
			}
		}
		t.Logf("25 kills, %d with a candidate beside the live file: the old file whole %d times, the new file whole %d times", midway, old, new)
	})
}
