package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// MaxOutput bounds the output kept of one command: the last MaxOutput bytes
// of its stdout and stderr together.
const MaxOutput = 64 << 10

// waitDelay bounds how long Wait waits for the output pipes after the
// command exited or was killed, in case a process that left the group
// still holds them.
const waitDelay = 2 * time.Second

// cmdResult is the outcome of one command.
type cmdResult struct {
	output string // sanitised tail of stdout+stderr
	err    error  // nil when the command exited with status 0
	// exitCode is the status the command exited with, or -1 when it did
	// not exit by itself (killed, timed out, not started).
	exitCode int
}

// refused tells whether the command ran to its end and said no.
func (r cmdResult) refused() bool {
	return r.exitCode > 0
}

// describe returns a header line and the output, for a run's message.
func (r cmdResult) describe(step string) string {
	state := "ok"
	if r.err != nil {
		state = r.err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s: %s]", step, state)
	if r.output != "" {
		b.WriteByte('\n')
		b.WriteString(r.output)
	}
	return b.String()
}

// runCommand runs argv without a shell in dir, in a process group of its
// own. When timeout runs out or ctx is cancelled, the whole group is
// killed, so children of a hanging script die too.
func runCommand(ctx context.Context, argv []string, dir string, timeout time.Duration) cmdResult {
	res := cmdResult{exitCode: -1}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var out tailBuffer
	cmd := exec.CommandContext(cctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The child is the leader of its group: kill the group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay

	err := cmd.Run()
	res.output = out.String()
	switch {
	case err == nil:
		res.exitCode = 0
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited with status 0; something it started kept the output
		// open and was left alone.
		res.exitCode = 0
	case ctx.Err() != nil:
		res.err = fmt.Errorf("cancelled (%v); process group killed", context.Cause(ctx))
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		res.err = fmt.Errorf("timed out after %s; process group killed", timeout)
	default:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			res.err = errors.New(exit.ProcessState.String()) // "exit status 1", "signal: killed"
			res.exitCode = exit.ProcessState.ExitCode()
		} else {
			res.err = err // could not start: not found, permission denied
		}
	}
	return res
}

// tailBuffer keeps the last MaxOutput bytes written to it. os/exec calls
// Write from one goroutine at a time when Stdout and Stderr are the same
// writer.
type tailBuffer struct {
	buf     []byte
	dropped int64
}

// Write implements io.Writer.
func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= MaxOutput {
		b.dropped += int64(len(b.buf) + len(p) - MaxOutput)
		b.buf = append(b.buf[:0], p[len(p)-MaxOutput:]...)
		return n, nil
	}
	b.buf = append(b.buf, p...)
	// Compact only when twice the limit is reached, so that many small
	// writes cost amortised O(1).
	if len(b.buf) > 2*MaxOutput {
		cut := len(b.buf) - MaxOutput
		b.dropped += int64(cut)
		b.buf = append(b.buf[:0], b.buf[cut:]...)
	}
	return n, nil
}

// String returns the kept output, sanitised.
func (b *tailBuffer) String() string {
	data := b.buf
	dropped := b.dropped
	if len(data) > MaxOutput {
		dropped += int64(len(data) - MaxOutput)
		data = data[len(data)-MaxOutput:]
	}
	if dropped > 0 {
		// Start at a line boundary if there is one near.
		if i := bytes.IndexByte(data, '\n'); i >= 0 && i < 1024 {
			data = data[i+1:]
			dropped += int64(i + 1)
		}
		return fmt.Sprintf("[... %d earlier bytes omitted]\n%s", dropped, sanitize(data))
	}
	return sanitize(data)
}

// sanitize makes text safe for logs and storage: valid UTF-8, no NUL or
// other control characters except tab and newline (CR LF becomes LF), no
// trailing blank space.
func sanitize(p []byte) string {
	var b strings.Builder
	b.Grow(len(p))
	writeSanitized(&b, p)
	return strings.TrimRight(b.String(), " \t\n")
}

// writeSanitized writes p to b as valid UTF-8 without control characters
// other than tab and newline.
func writeSanitized(b *strings.Builder, p []byte) {
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		p = p[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			// control character: dropped
		default:
			b.WriteRune(r)
		}
	}
}
