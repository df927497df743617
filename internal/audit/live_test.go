package audit

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/livequery"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

func series(name string, kv ...string) labels.Labels {
	return labels.FromStrings(append([]string{"__name__", name}, kv...)...)
}

// liveScan scans testdata/live.yaml with the live check against a real
// PromQL engine holding: one series for "present", none for "absent", one
// per pod for "duplicated", and one for "authenticated".
func liveScan(t *testing.T, address string) (*Result, *promServer) {
	t.Helper()
	now := time.Now()
	ps := newPromServer(t, now,
		series("vllm:num_requests_waiting", "namespace", "serving", "pod", "present-0"),
		series("vllm:num_requests_waiting", "namespace", "serving", "pod", "duplicated-0"),
		series("vllm:num_requests_waiting", "namespace", "serving", "pod", "duplicated-1"),
		series("vllm:num_requests_waiting", "namespace", "serving", "pod", "authenticated-0"),
	)
	if address == "" {
		address = ps.URL
	}
	src := newObjectsSource(load(t, "testdata/live.yaml"))
	auth := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(load(t, "testdata/live-auth.yaml")...).Build()
	s := &Scanner{Engine: policies.NewEngine(policies.Default), Live: &LiveCheck{Address: address, Auth: auth}}
	res, err := s.Scan(context.Background(), src, src.view, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	return res, ps
}

func TestLiveQueryCheck(t *testing.T) {
	res, ps := liveScan(t, "")
	q := "spec.triggers[0].metadata.query"
	for name, want := range map[string][]policytest.Want{
		"present": nil,
		"absent": {{Rule: livequery.NoSeriesID, Action: policies.Warn, Field: q, Fragments: []string{
			"returned no series from " + ps.URL, `vllm:gpu_cache_usage_perc{namespace="serving", pod=~"absent-.*"}`, "reads that as 0"}}},
		"duplicated": {{Rule: livequery.ManySeriesID, Action: policies.Warn, Field: q, Fragments: []string{
			"returned 2 series from " + ps.URL, "(they differ in pod)", "returned multiple elements"}}},
		"authenticated": nil,
		"from-env":      nil,
	} {
		t.Run(name, func(t *testing.T) {
			policytest.Expect(t, findingsOf(res, name, livequery.NoSeriesID, livequery.ManySeriesID), want...)
		})
	}

	// What the authenticated trigger sent: KEDA's parameters, headers and
	// the bearer token of its TriggerAuthentication's Secret.
	var authNote, envNote bool
	for _, n := range res.Notes {
		switch {
		case n.Ref != nil && n.Ref.Name == "authenticated":
			authNote = true
			t.Errorf("unexpected note on the authenticated trigger: %s", n)
		case n.Ref != nil && n.Ref.Name == "from-env":
			envNote = true
			if n.Error || n.Field != q || !strings.Contains(n.Message, `TriggerAuthentication "from-env" takes parameters from the workload's environment (env), which the audit cannot read`) {
				t.Errorf("note on from-env: %+v", n)
			}
		default:
			t.Errorf("unexpected note: %s", n)
		}
	}
	if authNote || !envNote {
		t.Errorf("want one note, on from-env; got %v", res.Notes)
	}
}

func TestLiveQuerySendsWhatKEDASends(t *testing.T) {
	ps := newPromServer(t, time.Now())
	auth := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(load(t, "testdata/live-auth.yaml")...).Build()
	var authenticated client.Object
	for _, o := range load(t, "testdata/live.yaml") {
		if o.GetName() == "authenticated" {
			authenticated = o
		}
	}
	one := newObjectsSource(append(load(t, "testdata/live-auth.yaml"), authenticated))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	s := &Scanner{Engine: policies.NewEngine(policies.Default), Live: &LiveCheck{Address: ps.URL + "/", Auth: auth}}
	if _, err := s.Scan(context.Background(), one, one.view, nil, now); err != nil {
		t.Fatal(err)
	}
	r := ps.lastRequest()
	if r == nil {
		t.Fatal("no query reached Prometheus")
	}
	for k, want := range map[string]string{
		"query":     `sum(vllm:num_requests_waiting{namespace="serving", pod=~"authenticated-.*"})`,
		"time":      "2026-03-01T11:00:00Z",
		"namespace": "serving",
		"dedup":     "true",
	} {
		if got := r.URL.Query().Get(k); got != want {
			t.Errorf("parameter %s = %q, want %q", k, got, want)
		}
	}
	if r.Method != "GET" || r.URL.Path != "/api/v1/query" {
		t.Errorf("sent %s %s, want GET /api/v1/query", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer s3cr3t-t0ken" {
		t.Errorf("Authorization = %q, want the TriggerAuthentication's bearer token", got)
	}
	if got := r.Header.Get("X-Scope-OrgID"); got != "serving" {
		t.Errorf("customHeaders not sent: X-Scope-OrgID = %q", got)
	}
}

func TestLiveQueryPrometheusUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more
	res, _ := liveScan(t, addr)
	var scanNotes int
	for _, n := range res.Notes {
		if n.Ref == nil {
			scanNotes++
			if !strings.Contains(n.Message, "could not reach Prometheus at "+addr) || !strings.Contains(n.Message, "the rest of the audit is complete") {
				t.Errorf("scan note: %s", n.Message)
			}
		} else if n.Ref.Name != "from-env" {
			t.Errorf("per-object note while Prometheus is down: %s", n)
		}
	}
	if scanNotes != 1 {
		t.Errorf("want Prometheus reported unreachable once, got %d notes: %v", scanNotes, res.Notes)
	}
	for _, v := range res.Verdicts {
		for _, f := range v.Findings {
			if f.Rule == livequery.NoSeriesID || f.Rule == livequery.ManySeriesID {
				t.Errorf("live finding without Prometheus: %s", f)
			}
		}
	}
}

func TestLiveQueryNeverEchoesCredentials(t *testing.T) {
	res, _ := liveScan(t, "")
	for _, v := range res.Verdicts {
		for _, f := range v.Findings {
			if strings.Contains(f.Message, "s3cr3t") {
				t.Errorf("a finding echoes the token: %s", f)
			}
		}
	}
	for _, n := range res.Notes {
		if strings.Contains(n.Message, "s3cr3t") {
			t.Errorf("a note echoes the token: %s", n)
		}
	}
}
