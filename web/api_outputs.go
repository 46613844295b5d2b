package web

import (
	"context"
	"net/http"

	"ipdesk"
)

// Outputs is what the API needs of the config outputs (implemented by
// package outputs): the files ipdesk writes for the DHCP servers and the
// proxy. Which outputs exist, and which programs check and reload them,
// comes from the server's config file only; the API can look and apply,
// never configure.
type Outputs interface {
	// Status returns every output with its state and last run, in config
	// order, without Diff.
	Status(ctx context.Context) ([]ipdesk.Output, error)
	// Preview renders an output now and compares it with its live file.
	Preview(ctx context.Context, name string) (*ipdesk.OutputDiff, error)
	// ApplyNow applies the outputs that name stands for ("" for all, a
	// target's name for all its outputs) and returns their runs; the
	// error is ENOTFOUND for an unknown name.
	ApplyNow(ctx context.Context, name string) ([]*ipdesk.ApplyRun, error)
}

// applyRequest is the body of POST /api/v1/apply.
type applyRequest struct {
	// Target names a target of the config file, or one output of a
	// squid-levels target (NAME.levelN); empty or absent applies all.
	Target string `json:"target"`
}

// applyResult answers POST /api/v1/apply.
type applyResult struct {
	// OK tells whether every run left its daemon on the new file.
	OK   bool               `json:"ok"`
	Runs []*ipdesk.ApplyRun `json:"runs"`
}

// listOutputs answers every output with its state, its last run and, unless
// diff=false, what the next apply would change.
func (s *Server) listOutputs(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	out := []ipdesk.Output{}
	if s.outputs != nil {
		all, err := s.outputs.Status(r.Context())
		if err != nil {
			return err
		}
		if err := s.narrowLeftOut(r.Context(), all); err != nil {
			return err
		}
		name := p.str("target")
		withDiff := p.bool("diff") == nil || *p.bool("diff")
		for _, o := range all {
			if name != nil && *name != o.Name && *name != o.Group {
				continue
			}
			if withDiff {
				d, err := s.outputs.Preview(r.Context(), o.Name)
				if err != nil {
					return err
				}
				o.Diff = d
			}
			out = append(out, o)
		}
	}
	writeList(w, ipdesk.Page{Limit: len(out)}, len(out), out)
	return nil
}

// applyOutputs applies the outputs now and answers their runs. The apply
// goes on if the client goes away: a file once swapped in must be
// reloaded.
func (s *Server) applyOutputs(w http.ResponseWriter, r *http.Request) error {
	var req applyRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if s.outputs == nil {
		return errNoOutputs()
	}
	runs, err := s.outputs.ApplyNow(context.WithoutCancel(r.Context()), req.Target)
	if ipdesk.ErrorCode(err) == ipdesk.ENOTFOUND {
		return ipdesk.WithField(err, ipdesk.EINVALID, "target")
	} else if err != nil {
		return err
	}
	res := applyResult{OK: true, Runs: runs}
	if res.Runs == nil {
		res.Runs = []*ipdesk.ApplyRun{}
	}
	for _, run := range runs {
		res.OK = res.OK && run.Status.OK()
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// listApplyRuns answers the history of applies, newest first.
func (s *Server) listApplyRuns(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.ApplyRunFilter{
		Target: p.str("target"),
		Failed: p.bool("failed"),
		Since:  p.time("since"),
		Until:  p.time("until"),
		Page:   p.page,
	}
	if st := p.enum("status"); st != nil {
		f.Status = (*ipdesk.ApplyStatus)(st)
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "until", "until %s is not after since %s", f.Until.Format("2006-01-02T15:04:05Z07:00"), f.Since.Format("2006-01-02T15:04:05Z07:00"))
	}
	history, ok := s.store.(ipdesk.ApplyRunService)
	if !ok {
		writeList(w, p.page, 0, []*ipdesk.ApplyRun{})
		return nil
	}
	runs, n, err := history.FindApplyRuns(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, runs)
	return nil
}

// applyStatuses returns the apply statuses as strings, for the route table.
func applyStatuses() []string {
	out := make([]string, len(ipdesk.ApplyStatuses))
	for i, st := range ipdesk.ApplyStatuses {
		out[i] = string(st)
	}
	return out
}
