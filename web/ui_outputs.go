package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"ipdesk"
)

// outputsData is the data of the config outputs page.
type outputsData struct {
	page
	// Configured tells that the config file names targets.
	Configured bool
	Targets    []targetView
	// CanApply shows the apply buttons (administrators).
	CanApply bool
	Runs     []runView
	RunsNav  pageNav
	// RunFilter is the history's filter as chosen: a target name and
	// "", "failed" or "ok".
	RunFilter struct{ Target, Result string }
	// Names are the outputs' names, for the history's filter.
	Names []string
}

// targetView is a configured target with its outputs (one, or one per
// level of a squid-levels target).
type targetView struct {
	Name    string
	Kind    string
	Outputs []outputView
}

// outputView is an output with its diff split into lines.
type outputView struct {
	ipdesk.Output
	Lines []diffLine
	Took  string
}

// runView is an apply run with its duration as text.
type runView struct {
	*ipdesk.ApplyRun
	Took string
}

// diffLine is a line of a diff and what it is: "add", "del", "hunk",
// "note" or "same".
type diffLine struct {
	Kind, Text string
}

// Failed tells whether the last run did not leave the daemon on the new
// file.
func (o outputView) Failed() bool { return o.LastRun != nil && !o.LastRun.Status.OK() }

// UpToDate tells whether the live file is what ipdesk would write and the
// daemon has loaded it: no apply due, running or failing, no reload
// pending, and the diff (when known) empty.
func (o outputView) UpToDate() bool {
	return !o.Running && !o.Dirty && !o.PendingReload && !o.Failing && (o.Diff == nil || !o.Diff.Changed && o.Diff.Error == "")
}

// Differs tells that the live file differs from what ipdesk would write
// while no apply is due, running or failing: it was changed by hand, or
// the diff cannot be made.
func (o outputView) Differs() bool {
	return !o.Running && !o.Dirty && !o.Failing && o.Diff != nil && (o.Diff.Changed || o.Diff.Error != "")
}

func (s *Server) outputsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectOutput}); err != nil {
		return err
	}
	p, err := listPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := outputsData{Configured: s.outputs != nil, CanApply: s.authorize(ctx, actWrite, object{Type: objectOutput}) == nil}
	d.RunFilter.Target, d.RunFilter.Result = strings.TrimSpace(q.Get("target")), q.Get("result")
	f := ipdesk.ApplyRunFilter{Page: p}
	if d.RunFilter.Target != "" {
		f.Target = &d.RunFilter.Target
	}
	switch d.RunFilter.Result {
	case "":
	case "failed", "ok":
		failed := d.RunFilter.Result == "failed"
		f.Failed = &failed
	default:
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "result", "result %q is not one of failed, ok", clipValue(d.RunFilter.Result))
	}
	if s.outputs != nil {
		if d.Targets, err = s.outputViews(ctx); err != nil {
			return err
		}
		for _, t := range d.Targets {
			for _, o := range t.Outputs {
				d.Names = append(d.Names, o.Name)
			}
		}
	}
	if history, ok := s.store.(ipdesk.ApplyRunService); ok {
		runs, n, err := history.FindApplyRuns(ctx, f)
		if err != nil {
			return err
		}
		for _, run := range runs {
			d.Runs = append(d.Runs, runView{ApplyRun: run, Took: fmtDuration(run.Duration)})
		}
		d.RunsNav = navOf(r, p, n)
	}
	d.page = s.base(w, r, s.catalog(r).T("nav.outputs"), "outputs")
	s.render(w, r, http.StatusOK, "outputs", d)
	return nil
}

// outputViews returns every output with what its next apply would
// change, grouped by target in config order.
func (s *Server) outputViews(ctx context.Context) ([]targetView, error) {
	all, err := s.outputs.Status(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.narrowLeftOut(ctx, all); err != nil {
		return nil, err
	}
	var out []targetView
	for _, o := range all {
		diff, err := s.outputs.Preview(ctx, o.Name)
		if err != nil {
			return nil, err
		}
		o.Diff = diff
		v := outputView{Output: o, Lines: diffLines(diff)}
		if o.LastRun != nil {
			v.Took = fmtDuration(o.LastRun.Duration)
		}
		if n := len(out); n > 0 && out[n-1].Name == o.Group {
			out[n-1].Outputs = append(out[n-1].Outputs, v)
			continue
		}
		out = append(out, targetView{Name: o.Group, Kind: o.Kind, Outputs: []outputView{v}})
	}
	return out, nil
}

// diffLines splits a diff's text into marked lines.
func diffLines(d *ipdesk.OutputDiff) []diffLine {
	if d == nil || d.Text == "" {
		return nil
	}
	text := strings.TrimSuffix(d.Text, "\n")
	lines := strings.Split(text, "\n")
	out := make([]diffLine, len(lines))
	for i, l := range lines {
		kind := "same"
		switch {
		case strings.HasPrefix(l, "@@"):
			kind = "hunk"
		case strings.HasPrefix(l, "+"):
			kind = "add"
		case strings.HasPrefix(l, "-"):
			kind = "del"
		case strings.HasPrefix(l, "\\"), l != "" && l[0] != ' ':
			kind = "note"
		}
		out[i] = diffLine{Kind: kind, Text: l}
	}
	return out
}

// fmtDuration shows a run's duration to the millisecond.
func fmtDuration(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// applySubmit applies all outputs, or the target the form names, now.
// The apply goes on if the browser goes away: a file once swapped in
// must be reloaded.
func (s *Server) applySubmit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.startForm(w, r, actWrite, object{Type: objectOutput}); err != nil {
		return err
	}
	if s.outputs == nil {
		return errNoOutputs()
	}
	runs, err := s.outputs.ApplyNow(context.WithoutCancel(ctx), formValue(r, "target"))
	if err != nil {
		return err
	}
	var ok, failed []string
	for _, run := range runs {
		if run.Status.OK() {
			ok = append(ok, run.Target)
		} else {
			failed = append(failed, run.Target)
		}
	}
	switch {
	case len(failed) > 0:
		s.setFlash(w, r, "flash.apply_failed", clipValue(strings.Join(failed, ", ")))
	case len(ok) > 0:
		s.setFlash(w, r, "flash.applied", clipValue(strings.Join(ok, ", ")))
	}
	redirect(w, r, "/outputs")
	return nil
}
