package main

import (
	"context"
	"fmt"
	"strings"

	"ipdesk"
	"ipdesk/callerid"
	"ipdesk/metrics"
	"ipdesk/outputs"
	"ipdesk/web"
)

// MetricsConfig sets who may read GET /metrics.
type MetricsConfig struct {
	// Token, when set, is the bearer token a scraper must send; any
	// client with it may read the metrics. Without it only clients on the
	// loopback interface may.
	Token string `json:"token"`
}

// minMetricsTokenLen is the shortest metrics token accepted.
const minMetricsTokenLen = 16

// check validates the metrics settings; errors name the key.
func (c MetricsConfig) check() error {
	if c.Token == "" {
		return nil
	}
	if len(c.Token) < minMetricsTokenLen || len(c.Token) > 512 {
		return fmt.Errorf("config file: metrics.token has %d characters; it needs %d to 512", len(c.Token), minMetricsTokenLen)
	}
	if strings.ContainsFunc(c.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return fmt.Errorf("config file: metrics.token contains a blank or control character; use letters, digits and punctuation")
	}
	return nil
}

// meteredStore counts the apply runs the outputs record.
type meteredStore struct {
	outputs.Store
	m *metrics.Metrics
}

// RecordApplyRun stores the run and counts it.
func (s meteredStore) RecordApplyRun(ctx context.Context, r *ipdesk.ApplyRun) error {
	err := s.Store.RecordApplyRun(ctx, r)
	s.m.ObserveApplyRun(r)
	return err
}

// meteredIntake counts the calls PBXs report.
type meteredIntake struct {
	web.CallIntake
	m *metrics.Metrics
}

// Report records the call and counts it.
func (i meteredIntake) Report(ctx context.Context, r callerid.Report) (*ipdesk.CallEvent, error) {
	ev, err := i.CallIntake.Report(ctx, r)
	if err == nil {
		i.m.ObserveCall()
	}
	return ev, err
}

// seedLastSuccess reads each target's last successful apply from the
// stored runs, so that the metric is right from the start.
func seedLastSuccess(ctx context.Context, store ipdesk.ApplyRunService, names []string, m *metrics.Metrics) error {
	notFailed := false
	for _, name := range names {
		runs, _, err := store.FindApplyRuns(ctx, ipdesk.ApplyRunFilter{Target: &name, Failed: &notFailed, Page: ipdesk.Page{Limit: 1}})
		if err != nil {
			return err
		}
		if len(runs) > 0 {
			m.SetLastSuccess(name, runs[0].Started.Add(runs[0].Duration))
		}
	}
	return nil
}
