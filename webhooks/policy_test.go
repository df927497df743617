package webhooks_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

const policyPath = "/validate-scaleguard-io-v1alpha1-scaleguardpolicy"

var policyKind = metav1.GroupVersionKind{Group: "scaleguard.io", Version: "v1alpha1", Kind: "ScaleGuardPolicy"}

func policyJSON(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(j)
}

func TestPolicyWebhookRefusesWithEveryField(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	r := admit(t, srv, policyPath, review(policyKind, admissionv1.Create, policyJSON(t, "../apis/scaleguard/v1alpha1/testdata/invalid-policy.yaml")))
	if r.Allowed || r.Result == nil || r.Result.Code != http.StatusUnprocessableEntity || r.Result.Reason != metav1.StatusReasonInvalid {
		t.Fatalf("invalid policy: %+v", r.Result)
	}
	fields := map[string]string{}
	for _, c := range r.Result.Details.Causes {
		fields[c.Field] = c.Message
	}
	for f, frag := range map[string]string{
		"spec.rules[promql-unscopd]":                          `Not found: "promql-unscopd"`,
		"spec.rules[promql-invalid].action":                   `Unsupported value: "Sometimes"`,
		"spec.gpu.maxUnpauseWindow":                           "must be positive",
		"spec.gpu.namespaceLabels[bad key!]":                  "name part must consist of",
		"spec.exemptions[0].rules[0]":                         `Not found: "gpu-unpauzed"`,
		"spec.exemptions[0].reason":                           "say why",
		"spec.namespaceSelector.matchExpressions[0].operator": "not a valid selector operator",
	} {
		if !strings.Contains(fields[f], frag) {
			t.Errorf("cause on %s is %q, want %q", f, fields[f], frag)
		}
	}
}

func TestPolicyWebhook(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	const head = `{"apiVersion":"scaleguard.io/v1alpha1","kind":"ScaleGuardPolicy","metadata":{"name":"p"},"spec":`
	cases := map[string]struct {
		op       admissionv1.Operation
		spec     string
		allowed  bool
		field    string
		fragment string
		warning  string
	}{
		"valid": {op: admissionv1.Create, allowed: true,
			spec: `{"rules":{"promql-unscoped":{"action":"Warn"}},"exemptions":[{"rules":["gpu-unpaused"],"reason":"r","until":"2999-01-01T00:00:00Z"}]}`},
		"an exemption already ended": {op: admissionv1.Update, allowed: true,
			spec:    `{"exemptions":[{"rules":["gpu-unpaused"],"reason":"r","until":"2001-01-01T00:00:00Z"}]}`,
			warning: "spec.exemptions[0].until: 2001-01-01T00:00:00Z has passed, so the exemption never applies"},
		"an unquoted Off": {op: admissionv1.Create, spec: `{"rules":{"gpu-idle-cost":{"action":false}}}`,
			field: "spec.rules.gpu-idle-cost.action", fragment: `write "Off" in quotes`},
		"not a duration": {op: admissionv1.Update, spec: `{"gpu":{"maxUnpauseWindow":"a day"}}`,
			field: "spec.gpu.maxUnpauseWindow", fragment: "invalid duration"},
		"deleted": {op: admissionv1.Delete, allowed: true, spec: `{"rules":{"nope":{}}}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := admit(t, srv, policyPath, review(policyKind, tc.op, head+tc.spec+"}"))
			if r.Allowed != tc.allowed {
				t.Fatalf("allowed %v, want %v: %+v", r.Allowed, tc.allowed, r.Result)
			}
			if !tc.allowed {
				if r.Result.Code != http.StatusUnprocessableEntity || len(r.Result.Details.Causes) != 1 ||
					r.Result.Details.Causes[0].Field != tc.field || !strings.Contains(r.Result.Details.Causes[0].Message, tc.fragment) {
					t.Errorf("result %+v, want a cause on %s with %q", r.Result.Details, tc.field, tc.fragment)
				}
			}
			if got := strings.Join(r.Warnings, "\n"); got != tc.warning {
				t.Errorf("warnings %q, want %q", got, tc.warning)
			}
		})
	}
	r := admit(t, srv, policyPath, review(soKind, admissionv1.Create, badTarget))
	if r.Allowed || r.Result.Code != http.StatusBadRequest || !strings.Contains(r.Result.Message, "judges scaleguard.io/v1alpha1 ScaleGuardPolicy, not keda.sh/v1alpha1 ScaledObject") {
		t.Errorf("wrong kind: %+v", r.Result)
	}
}

// perNamespace switches target-ref off in one namespace and records which
// namespaces it was asked about.
type perNamespace struct {
	mu    sync.Mutex
	asked []string
}

func (p *perNamespace) Settings() *policies.Settings { return policies.DefaultSettings() }

func (p *perNamespace) SettingsFor(ns string) *policies.Settings {
	p.mu.Lock()
	p.asked = append(p.asked, ns)
	p.mu.Unlock()
	s := policies.DefaultSettings()
	if ns == "relaxed" {
		s.Rules = map[string]policies.RuleOverride{"target-ref": {Action: policies.Off}}
	}
	return s
}

func TestSettingsFollowTheRequestNamespace(t *testing.T) {
	src := &perNamespace{}
	mux := http.NewServeMux()
	webhooks.Register(webhooks.MuxRegistrar{ServeMux: mux}, webhooks.Deps{
		Engine: policies.NewEngine(policies.Default), View: syncedView{clusterview.NewManifests()},
		Settings: src, Log: logr.Discard(),
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	if r := admit(t, srv, soPath, review(soKind, admissionv1.Create, badTarget)); r.Allowed {
		t.Fatal("serving: want the target-ref denial")
	}
	relaxed := strings.Replace(string(review(soKind, admissionv1.Create, strings.Replace(badTarget, `"serving"`, `"relaxed"`, 1))),
		`"namespace":"serving"`, `"namespace":"relaxed"`, 1)
	if r := admit(t, srv, soPath, []byte(relaxed)); !r.Allowed {
		t.Fatalf("relaxed: %+v; want target-ref off there", r.Result)
	}
	if got := strings.Join(src.asked, ","); got != "serving,relaxed" {
		t.Errorf("asked for %s", got)
	}
}
