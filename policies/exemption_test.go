package policies_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/policies"
)

func TestExemptions(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	later := metav1.NewTime(now.Add(2 * time.Hour))
	earlier := metav1.NewTime(now.Add(-time.Minute))
	no, yes := false, true
	exemption := func(mod func(e *policies.Exemption)) []policies.Exemption {
		e := policies.Exemption{Rules: []string{"deny-marker"}, Reason: "capacity test, ticket OPS-12", Policy: "ops"}
		if mod != nil {
			mod(&e)
		}
		return []policies.Exemption{e}
	}
	cases := map[string]struct {
		labels      string // besides bad: x, which deny-marker denies
		annotations string // besides a: "1", which needs-a wants
		settings    func(s *policies.Settings)
		unknownTime bool
		action      policies.Action
		fragment    string
		noFragment  string
	}{
		"no exemption": {
			action: policies.Deny, noFragment: "exempt",
		},
		"annotation with a reason": {
			annotations: `scaleguard.io/exempt: deny-marker, scaleguard.io/exempt-reason: "load test until Friday"`,
			action:      policies.Warn, fragment: "bad label x (exempted by scaleguard.io/exempt: load test until Friday)",
		},
		"annotation listing several rules": {
			annotations: `scaleguard.io/exempt: "needs-a, deny-marker", scaleguard.io/exempt-reason: why`,
			action:      policies.Warn, fragment: "(exempted by scaleguard.io/exempt: why)",
		},
		"annotation naming another rule": {
			annotations: `scaleguard.io/exempt: needs-a, scaleguard.io/exempt-reason: why`,
			action:      policies.Deny, noFragment: "exempt",
		},
		"annotation without a reason": {
			annotations: `scaleguard.io/exempt: deny-marker`,
			action:      policies.Deny, fragment: "scaleguard.io/exempt names this rule, but scaleguard.io/exempt-reason is empty, so the exemption does not apply",
		},
		"annotation with a blank reason": {
			annotations: `scaleguard.io/exempt: deny-marker, scaleguard.io/exempt-reason: "  "`,
			action:      policies.Deny, fragment: "scaleguard.io/exempt-reason is empty",
		},
		"annotation forbidden by the policy": {
			annotations: `scaleguard.io/exempt: deny-marker, scaleguard.io/exempt-reason: why`,
			settings:    func(s *policies.Settings) { s.AllowExemptions = &no },
			action:      policies.Deny, fragment: "the cluster policy forbids exempting objects from it, so the annotation is ignored",
		},
		"annotation forbidden for this rule": {
			annotations: `scaleguard.io/exempt: deny-marker, scaleguard.io/exempt-reason: why`,
			settings: func(s *policies.Settings) {
				s.Rules = map[string]policies.RuleOverride{"deny-marker": {AllowExemptions: &no}}
			},
			action: policies.Deny, fragment: "forbids exempting objects from it",
		},
		"annotation allowed for this rule only": {
			annotations: `scaleguard.io/exempt: deny-marker, scaleguard.io/exempt-reason: why`,
			settings: func(s *policies.Settings) {
				s.AllowExemptions = &no
				s.Rules = map[string]policies.RuleOverride{"deny-marker": {AllowExemptions: &yes}}
			},
			action: policies.Warn, fragment: "(exempted by scaleguard.io/exempt: why)",
		},
		"policy exemption before its end": {
			settings: func(s *policies.Settings) { s.Exemptions = exemption(func(e *policies.Exemption) { e.Until = &later }) },
			action:   policies.Warn, fragment: `bad label x (exempted by ScaleGuardPolicy "ops" until 2026-03-01T14:00:00Z: capacity test, ticket OPS-12)`,
		},
		"policy exemption after its end": {
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) { e.Until = &earlier })
			},
			action: policies.Deny, fragment: `(the exemption of ScaleGuardPolicy "ops" ended at 2026-03-01T11:59:00Z)`,
		},
		"policy exemption with an end and no time": {
			settings:    func(s *policies.Settings) { s.Exemptions = exemption(func(e *policies.Exemption) { e.Until = &later }) },
			unknownTime: true,
			action:      policies.Deny, fragment: "the time of this judgement is unknown, so it does not apply",
		},
		"policy exemption without an end": {
			settings: func(s *policies.Settings) { s.Exemptions = exemption(nil) },
			action:   policies.Warn, fragment: `(exempted by ScaleGuardPolicy "ops": capacity test`,
		},
		"policy exemption of another namespace": {
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) { e.Namespaces = []string{"other"} })
			},
			action: policies.Deny, noFragment: "exempt",
		},
		"policy exemption of this namespace": {
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) { e.Namespaces = []string{"other", "ns1"} })
			},
			action: policies.Warn, fragment: "exempted by",
		},
		"policy exemption of other names": {
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) { e.Names = []string{"t"} })
			},
			action: policies.Deny, noFragment: "exempt",
		},
		"policy exemption by name": {
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) { e.Names = []string{"s"} })
			},
			action: policies.Warn, fragment: "exempted by",
		},
		"policy exemption by a selector that matches": {
			labels: `team: search`,
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) {
					e.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "search"}}
				})
			},
			action: policies.Warn, fragment: "exempted by",
		},
		"policy exemption by a selector that does not match": {
			labels: `team: chat`,
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) {
					e.ObjectSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "search"}}
				})
			},
			action: policies.Deny, noFragment: "exempt",
		},
		"policy exemption where the annotation is forbidden": {
			annotations: `scaleguard.io/exempt: deny-marker, scaleguard.io/exempt-reason: why`,
			settings: func(s *policies.Settings) {
				s.AllowExemptions = &no
				s.Exemptions = exemption(nil)
			},
			action: policies.Warn, fragment: `exempted by ScaleGuardPolicy "ops"`,
		},
		"an ended policy exemption and an annotation without a reason": {
			annotations: `scaleguard.io/exempt: deny-marker`,
			settings: func(s *policies.Settings) {
				s.Exemptions = exemption(func(e *policies.Exemption) { e.Until = &earlier })
			},
			action: policies.Deny, fragment: `ended at 2026-03-01T11:59:00Z; scaleguard.io/exempt names this rule, but scaleguard.io/exempt-reason is empty`,
		},
	}
	e := policies.NewEngine(testRegistry(t))
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := policies.DefaultSettings()
			if tc.settings != nil {
				tc.settings(s)
			}
			meta := fmt.Sprintf(`{name: s, namespace: ns1, labels: {bad: x, %s}, annotations: {a: "1", %s}}`, tc.labels, tc.annotations)
			r := req(soJSON(t, "metadata: "+meta+"\nspec: {scaleTargetRef: {name: d}}\n"))
			r.Settings = s
			if !tc.unknownTime {
				r.Now = now
			}
			res, err := e.Validate(r)
			if err != nil {
				t.Fatal(err)
			}
			var got *policies.Finding
			for i := range res.Findings {
				if res.Findings[i].Rule == "deny-marker" {
					got = &res.Findings[i]
				}
			}
			if got == nil {
				t.Fatalf("no deny-marker finding: %+v", res.Findings)
			}
			if got.Action != tc.action || got.Field != "metadata.labels.bad" {
				t.Errorf("%s at %s, want %s at metadata.labels.bad: %s", got.Action, got.Field, tc.action, got.Message)
			}
			if tc.fragment != "" && !strings.Contains(got.Message, tc.fragment) {
				t.Errorf("message %q lacks %q", got.Message, tc.fragment)
			}
			if tc.noFragment != "" && strings.Contains(got.Message, tc.noFragment) {
				t.Errorf("message %q has %q", got.Message, tc.noFragment)
			}
		})
	}
}

func TestExemptMutationIsNotApplied(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	obj := soJSON(t, `metadata: {name: s, namespace: ns1, annotations: {scaleguard.io/exempt: add-annotation, scaleguard.io/exempt-reason: "set by hand"}}
spec: {scaleTargetRef: {name: d}}
`)
	res, err := e.Mutate(req(obj))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Patch) != 0 {
		t.Errorf("exempt mutation patched: %+v", res.Patch)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("findings %+v", res.Findings)
	}
	f := res.Findings[0]
	if f.Rule != "add-annotation" || f.Action != policies.Warn || f.Field != "metadata.annotations" ||
		f.Message != "not applied (exempted by scaleguard.io/exempt: set by hand): set a" || f.Patch != nil {
		t.Errorf("finding %+v", f)
	}
}

func TestLongestPolicyExemptionWins(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	soon, later := metav1.NewTime(now.Add(time.Hour)), metav1.NewTime(now.Add(5*time.Hour))
	s := policies.DefaultSettings()
	s.Exemptions = []policies.Exemption{
		{Rules: []string{"r"}, Reason: "short", Until: &soon, Policy: "a"},
		{Rules: []string{"r"}, Reason: "long", Until: &later, Policy: "b"},
	}
	obj := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "n"}}
	st := policies.ExemptionOf(s, obj, "r", now)
	if !st.Applies || !st.Until.Equal(later.Time) || !strings.Contains(st.Why, `ScaleGuardPolicy "b" until 2026-03-01T17:00:00Z: long`) {
		t.Errorf("%+v", st)
	}
}
