package clusterpolicy

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// Condition reasons.
const (
	ReasonInForce     = "InForce"
	ReasonRefused     = "Refused"
	ReasonNotInForce  = "NotInForce"
	ReasonOverlapping = "Overlapping"
	ReasonAlone       = "NoOverlap"
)

// Status is the status of policy p of set, given the cluster's
// namespaces and the rules of reg. old is the current status: conditions
// whose status does not change keep their transition time.
func Status(p *Policy, set *Set, namespaces []corev1.Namespace, reg *policies.Registry, old sgv1alpha1.ScaleGuardPolicyStatus) sgv1alpha1.ScaleGuardPolicyStatus {
	st := sgv1alpha1.ScaleGuardPolicyStatus{Conditions: append([]metav1.Condition(nil), old.Conditions...)}
	if p.Spec != nil {
		st.ObservedGeneration = p.InForce
		st.AppliedSpec = &runtime.RawExtension{Raw: p.RawSpec}
		for _, r := range reg.Rules() {
			switch p.Spec.Enforcement(r.ID) {
			case policies.Off:
				st.Rules.Off++
			case policies.WarnOnly:
				st.Rules.Warn++
			default:
				st.Rules.Enforce++
			}
		}
	}
	var covered []corev1.Namespace
	for _, ns := range namespaces {
		if p.Covers(NamespaceLabels(ns.Name, &ns)) {
			covered = append(covered, ns)
		}
	}
	sort.Slice(covered, func(i, j int) bool { return covered[i].Name < covered[j].Name })
	st.NamespaceCount = int32(len(covered))
	for i := 0; i < len(covered) && i < sgv1alpha1.MaxStatusNamespaces; i++ {
		st.Namespaces = append(st.Namespaces, covered[i].Name)
	}

	ready := metav1.Condition{Type: sgv1alpha1.ConditionReady, ObservedGeneration: p.Generation}
	switch {
	case p.Refused == "":
		ready.Status, ready.Reason = metav1.ConditionTrue, ReasonInForce
		ready.Message = fmt.Sprintf("generation %d is in force in %s", p.InForce, plural(len(covered), "namespace"))
	case p.Spec != nil:
		ready.Status, ready.Reason = metav1.ConditionFalse, ReasonRefused
		ready.Message = fmt.Sprintf("generation %d is refused, so generation %d stays in force: %s", p.Generation, p.InForce, p.Refused)
	default:
		ready.Status, ready.Reason = metav1.ConditionFalse, ReasonNotInForce
		ready.Message = fmt.Sprintf("generation %d is refused and no earlier generation is known to have been valid, so the policy is not in force: %s", p.Generation, p.Refused)
	}
	ready.Message = bound(ready.Message)
	meta.SetStatusCondition(&st.Conditions, ready)

	conflicting := metav1.Condition{Type: sgv1alpha1.ConditionConflicting, ObservedGeneration: p.Generation,
		Status: metav1.ConditionFalse, Reason: ReasonAlone, Message: "no other policy covers any of its namespaces"}
	if msg := overlaps(p, set, covered); msg != "" {
		conflicting.Status, conflicting.Reason, conflicting.Message = metav1.ConditionTrue, ReasonOverlapping, bound(msg)
	}
	meta.SetStatusCondition(&st.Conditions, conflicting)
	return st
}

// overlaps describes, per group of namespaces p shares with the same
// other policies, what the merge makes of p there.
func overlaps(p *Policy, set *Set, covered []corev1.Namespace) string {
	type group struct {
		covering   []*Policy
		namespaces []string
	}
	groups := map[string]*group{}
	var keys []string
	for _, ns := range covered {
		cov := set.Covering(NamespaceLabels(ns.Name, &ns))
		if len(cov) < 2 {
			continue
		}
		var names []string
		for _, q := range cov {
			names = append(names, q.Name)
		}
		key := strings.Join(names, "\x00")
		g := groups[key]
		if g == nil {
			g = &group{covering: cov}
			groups[key] = g
			keys = append(keys, key)
		}
		g.namespaces = append(g.namespaces, ns.Name)
	}
	sort.Strings(keys)
	var parts []string
	for i, key := range keys {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more combinations", len(keys)-5))
			break
		}
		g := groups[key]
		parts = append(parts, describeGroup(p, g.covering, g.namespaces))
	}
	return strings.Join(parts, "; ")
}

func describeGroup(p *Policy, covering []*Policy, namespaces []string) string {
	var others []string
	for _, q := range covering {
		if q.Name != p.Name {
			others = append(others, fmt.Sprintf("%q", q.Name))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "also covered by %s in %s: ", strings.Join(others, ", "), countedList(namespaces, "namespace"))
	merged := Merge(covering)
	ids := make([]string, 0, len(merged.Rules))
	for id := range merged.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var stricter []string
	for _, id := range ids {
		own, got := p.Spec.Enforcement(id), merged.Enforcement(id)
		if own == got {
			continue
		}
		from := ""
		for _, q := range covering {
			if q.Spec.Enforcement(id) == got {
				from = q.Name
				break
			}
		}
		stricter = append(stricter, fmt.Sprintf("%s is %s there (from %q), not %s", id, got, from, own))
	}
	if len(stricter) == 0 {
		b.WriteString("every rule keeps this policy's action (the strictest wins)")
	} else {
		b.WriteString("the strictest action wins: " + strings.Join(stricter, ", "))
	}
	if ownAllow, got := (p.Spec.AllowExemptions == nil || *p.Spec.AllowExemptions), *merged.AllowExemptions; ownAllow != got {
		b.WriteString("; annotation exemptions are forbidden there by another policy")
	}
	if covering[0].Name == p.Name {
		b.WriteString("; other settings come from this policy, whose name sorts first")
	} else {
		fmt.Fprintf(&b, "; other settings come from %q, whose name sorts first, not from this policy", covering[0].Name)
	}
	return b.String()
}

func countedList(names []string, noun string) string {
	shown := names
	if len(shown) > 3 {
		shown = shown[:3]
	}
	s := fmt.Sprintf("%d %ss (%s", len(names), noun, strings.Join(shown, ", "))
	if len(names) == 1 {
		s = fmt.Sprintf("1 %s (%s", noun, shown[0])
	}
	if len(names) > len(shown) {
		s += ", …"
	}
	return s + ")"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// bound keeps a condition message within what the API accepts (32 KiB).
func bound(s string) string {
	const max = 4096
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
