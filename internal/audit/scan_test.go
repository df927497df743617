package audit

import (
	"context"
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

func scanCluster(t *testing.T, s *Scanner, settings *policies.Settings) *Result {
	t.Helper()
	src := newObjectsSource(load(t, "testdata/cluster.yaml"))
	if s.Engine == nil {
		s.Engine = policies.NewEngine(policies.Default)
	}
	res, err := s.Scan(context.Background(), src, src.view, settings, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestScanJudgesStoredObjects(t *testing.T) {
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{"promql-unscoped": {Action: policies.Off}}
	for name, c := range map[string]struct {
		scanner  Scanner
		settings *policies.Settings
		judged   []string
		want     map[string][]policytest.Want
	}{
		"defaults": {
			scanner: Scanner{Excluded: []string{"kube-system"}},
			judged:  []string{"chat", "raw-vllm"},
			want: map[string][]policytest.Want{
				"raw-vllm": {
					{Rule: "gpu-paused-default", Action: policies.Mutate, Field: "metadata.annotations[autoscaling.keda.sh/paused]",
						Fragments: []string{MutatePrefix + `set to "true"`}},
					{Rule: "gpu-unpaused", Action: policies.Deny, Field: "metadata.annotations[autoscaling.keda.sh/paused]",
						Fragments: []string{"is missing on a GPU-tier ScaledObject"}},
				},
				"chat": {
					{Rule: "promql-unscoped", Action: policies.Deny, Field: "spec.triggers[0].metadata.query",
						Fragments: []string{"vllm:num_requests_waiting", `namespace="serving"`}},
				},
			},
		},
		"a rule switched off finds nothing": {
			scanner:  Scanner{Excluded: []string{"kube-system"}},
			settings: off,
			judged:   []string{"chat", "raw-vllm"},
			want:     map[string][]policytest.Want{"chat": nil},
		},
		"an opted-out namespace, named": {
			scanner: Scanner{Namespace: "opted-out"},
			judged:  []string{"ignored"},
			want: map[string][]policytest.Want{"ignored": {
				{Rule: "promql-unscoped", Action: policies.Deny, Field: "spec.triggers[0].metadata.query", Fragments: []string{`namespace="opted-out"`}},
			}},
		},
		"one namespace": {
			scanner: Scanner{Namespace: "kube-system"},
			judged:  []string{"system"},
			want: map[string][]policytest.Want{"system": {
				{Rule: "promql-unscoped", Action: policies.Deny, Field: "spec.triggers[0].metadata.query", Fragments: []string{`namespace="kube-system"`}},
			}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			res := scanCluster(t, &c.scanner, c.settings)
			var judged []string
			for _, v := range res.Verdicts {
				judged = append(judged, v.Ref.Name)
				if v.Ref.UID == "" || v.Object == nil {
					t.Errorf("%s: verdict without the object or its UID", v.Ref)
				}
			}
			if !equal(judged, c.judged) {
				t.Errorf("judged %v, want %v", judged, c.judged)
			}
			for name, want := range c.want {
				var rules []string
				for _, w := range want {
					rules = append(rules, w.Rule)
				}
				if len(rules) == 0 {
					rules = []string{"promql-unscoped"}
				}
				policytest.Expect(t, findingsOf(res, name, rules...), want...)
			}
			if len(res.Notes) > 0 {
				t.Errorf("unexpected notes: %v", res.Notes)
			}
		})
	}
}

func TestScanDeniedMatchesCheck(t *testing.T) {
	res := scanCluster(t, &Scanner{Excluded: []string{"kube-system"}}, nil)
	if !res.Denied() {
		t.Error("a scan with deny findings is not Denied")
	}
	for _, v := range res.Verdicts {
		for _, f := range v.Findings {
			if len(f.Patch) > 0 {
				t.Errorf("%s: a would-change finding carries its patch", f)
			}
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
