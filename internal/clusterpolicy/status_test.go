package clusterpolicy_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
	"github.com/scaleguard/scaleguard/policies"
)

func namespaces() []corev1.Namespace {
	ns := func(name string, l map[string]string) corev1.Namespace {
		return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
	}
	return []corev1.Namespace{ns("web", nil), ns("chat", map[string]string{"team": "serving"}), ns("jobs", map[string]string{"team": "batch"})}
}

func TestStatusSaysWhatTheMergeMakesOfEachPolicy(t *testing.T) {
	set := clusterpolicy.NewSet(nil, readPolicies(t, "testdata/policies.yaml")...)
	total := int32(len(policies.Default.Rules()))
	cases := map[string]struct {
		namespaces  []string
		counts      sgv1alpha1.RuleCounts
		ready       string
		conflicting metav1.ConditionStatus
		fragments   []string
	}{
		"a-serving": {
			namespaces:  []string{"chat"},
			counts:      sgv1alpha1.RuleCounts{Enforce: total - 3, Warn: 2, Off: 1},
			ready:       "generation 3 is in force in 1 namespace",
			conflicting: metav1.ConditionTrue,
			fragments: []string{
				`also covered by "b-strict", "z-global" in 1 namespace (chat): the strictest action wins: `,
				`conflict-hpa is Warn there (from "z-global"), not Enforce`,
				`gpu-idle-cost is Warn there (from "b-strict"), not Off`,
				`promql-unscoped is Enforce there (from "b-strict"), not Warn`,
				"annotation exemptions are forbidden there by another policy",
				"other settings come from this policy, whose name sorts first",
			},
		},
		"z-global": {
			namespaces:  []string{"chat", "jobs", "web"},
			counts:      sgv1alpha1.RuleCounts{Enforce: total - 1, Warn: 1},
			ready:       "generation 7 is in force in 3 namespaces",
			conflicting: metav1.ConditionTrue,
			fragments: []string{
				`also covered by "a-serving", "b-strict" in 1 namespace (chat): `,
				`other settings come from "a-serving", whose name sorts first, not from this policy; also covered by "b-strict" in 1 namespace (jobs): `,
				`other settings come from "b-strict", whose name sorts first, not from this policy`,
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p, _ := set.Get(name)
			st := clusterpolicy.Status(p, set, namespaces(), policies.Default, sgv1alpha1.ScaleGuardPolicyStatus{})
			if strings.Join(st.Namespaces, ",") != strings.Join(tc.namespaces, ",") || st.NamespaceCount != int32(len(tc.namespaces)) {
				t.Errorf("namespaces %v (%d), want %v", st.Namespaces, st.NamespaceCount, tc.namespaces)
			}
			if st.Rules != tc.counts {
				t.Errorf("rule counts %+v, want %+v", st.Rules, tc.counts)
			}
			if st.ObservedGeneration != p.InForce || st.AppliedSpec == nil || string(st.AppliedSpec.Raw) != string(p.RawSpec) {
				t.Errorf("generation in force %d, applied spec %v", st.ObservedGeneration, st.AppliedSpec)
			}
			ready := meta.FindStatusCondition(st.Conditions, sgv1alpha1.ConditionReady)
			if ready == nil || ready.Status != metav1.ConditionTrue || ready.Reason != clusterpolicy.ReasonInForce || ready.Message != tc.ready {
				t.Errorf("Ready %+v", ready)
			}
			c := meta.FindStatusCondition(st.Conditions, sgv1alpha1.ConditionConflicting)
			if c == nil || c.Status != tc.conflicting {
				t.Fatalf("Conflicting %+v", c)
			}
			for _, f := range tc.fragments {
				if !strings.Contains(c.Message, f) {
					t.Errorf("Conflicting message %q lacks %q", c.Message, f)
				}
			}
			again := clusterpolicy.Status(p, set, namespaces(), policies.Default, st)
			if !again.Conditions[0].LastTransitionTime.Equal(&st.Conditions[0].LastTransitionTime) {
				t.Error("an unchanged condition got a new transition time")
			}
		})
	}
}

func TestStatusOfARefusedPolicy(t *testing.T) {
	good := readPolicies(t, "testdata/policies.yaml")[2]
	kept := *good
	kept.Generation, kept.Refused = 8, `spec.rules[promql-retired]: Not found: "promql-retired"`
	none := clusterpolicy.Policy{Name: "new", Generation: 1, Refused: "spec.gpu.maxUnpauseWindow: must be positive"}
	for _, tc := range []struct {
		p             *clusterpolicy.Policy
		reason, msg   string
		observed      int64
		namespaceSeen int32
	}{
		{&kept, clusterpolicy.ReasonRefused, "generation 8 is refused, so generation 7 stays in force: spec.rules[promql-retired]", 7, 3},
		{&none, clusterpolicy.ReasonNotInForce, "generation 1 is refused and no earlier generation is known to have been valid, so the policy is not in force: spec.gpu.maxUnpauseWindow", 0, 0},
	} {
		set := clusterpolicy.NewSet(nil, tc.p)
		st := clusterpolicy.Status(tc.p, set, namespaces(), policies.Default, sgv1alpha1.ScaleGuardPolicyStatus{})
		ready := meta.FindStatusCondition(st.Conditions, sgv1alpha1.ConditionReady)
		if ready.Status != metav1.ConditionFalse || ready.Reason != tc.reason || !strings.HasPrefix(ready.Message, tc.msg) || ready.ObservedGeneration != tc.p.Generation {
			t.Errorf("%s: Ready %+v", tc.p.Name, ready)
		}
		if st.ObservedGeneration != tc.observed || st.NamespaceCount != tc.namespaceSeen {
			t.Errorf("%s: observed generation %d, namespaces %d", tc.p.Name, st.ObservedGeneration, st.NamespaceCount)
		}
	}
}
