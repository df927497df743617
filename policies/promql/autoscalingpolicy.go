package promql

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// policyTarget is one place of an AutoscalingPolicy that holds metric
// sources, with the metrics (and their target values) that apply there.
type policyTarget struct {
	sources     map[string]kthenav1alpha1.MetricSource
	sourcesPath *field.Path
	metrics     []kthenav1alpha1.AutoscalingPolicyMetric
	metricsPath *field.Path
	// ref is the ModelServing scaled.
	ref corev1.ObjectReference
}

// policyTargets lists the three target shapes: homogeneous, heterogeneous
// (one per param) and disaggregated (one per role, with the role's own
// metrics), roles in name order.
func policyTargets(ap *kthenav1alpha1.AutoscalingPolicy) []policyTarget {
	spec := field.NewPath("spec")
	var out []policyTarget
	if h := ap.Spec.HomogeneousTarget; h != nil {
		out = append(out, policyTarget{
			sources: h.Target.MetricSources, sourcesPath: spec.Child("homogeneousTarget", "target", "metricSources"),
			metrics: ap.Spec.Metrics, metricsPath: spec.Child("metrics"), ref: h.Target.TargetRef,
		})
	}
	if h := ap.Spec.HeterogeneousTarget; h != nil {
		for i, p := range h.Params {
			out = append(out, policyTarget{
				sources: p.Target.MetricSources, sourcesPath: spec.Child("heterogeneousTarget", "params").Index(i).Child("target", "metricSources"),
				metrics: ap.Spec.Metrics, metricsPath: spec.Child("metrics"), ref: p.Target.TargetRef,
			})
		}
	}
	if d := ap.Spec.DisaggregatedTarget; d != nil {
		roles := make([]string, 0, len(d.Roles))
		for r := range d.Roles {
			roles = append(roles, r)
		}
		sort.Strings(roles)
		for _, r := range roles {
			rp := spec.Child("disaggregatedTarget", "roles").Key(r)
			out = append(out, policyTarget{
				sources: d.Roles[r].MetricSources, sourcesPath: rp.Child("metricSources"),
				metrics: d.Roles[r].Metrics, metricsPath: rp.Child("metrics"), ref: d.TargetRef,
			})
		}
	}
	return out
}

// analyzeAutoscalingPolicy judges the prometheus metric sources of a Kthena
// AutoscalingPolicy. Kthena sends each query verbatim as an instant query
// and computes desired = ceil(value / targetValue), the targetValue of the
// spec.metrics entry named like the source. A target's queries read the
// load of that target, so they are scoped to its namespace (targetRef's,
// the policy's when empty); the targetRef itself is left to the conflict
// rules, which judge targets in other namespaces.
func analyzeAutoscalingPolicy(ap *kthenav1alpha1.AutoscalingPolicy, in *policies.Input, check checker) []policies.Finding {
	var out []policies.Finding
	judged := map[string]bool{}
	for _, t := range policyTargets(ap) {
		w := Workload{ModelServing: t.ref.Name}
		ns, owner := in.Namespace(), ""
		if t.ref.Namespace != "" && t.ref.Namespace != ns {
			ns, owner = t.ref.Namespace, fmt.Sprintf("target ModelServing %q's namespace", t.ref.Name)
		}
		names := make([]string, 0, len(t.sources))
		for n := range t.sources {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, name := range names {
			prom := t.sources[name].Prometheus
			if prom == nil {
				continue
			}
			pp := t.sourcesPath.Key(name).Child("prometheus")
			if strings.TrimSpace(prom.Query) != "" {
				out = append(out, check(Query{Text: prom.Query, Field: pp.Child("query"), Namespace: ns, NamespaceOf: owner, Consumer: Kthena, Workload: w})...)
			} else {
				out = append(out, deny(InvalidID, pp.Child("query"), "is missing, and Kthena needs a query for a prometheus source; write the PromQL whose value scales the target"))
			}
			out = append(out, addressSecrets(prom.ServerURL, pp.Child("serverURL"), secretFix(Kthena, ""))...)
			out = append(out, policyTargetValue(t, name, t.sourcesPath.Key(name), judged)...)
		}
	}
	return out
}

// policyTargetValue judges the target value a prometheus source is divided
// by: its spec.metrics entry must exist and be above zero. judged keeps an
// entry shared by several targets from being reported twice.
func policyTargetValue(t policyTarget, name string, source *field.Path, judged map[string]bool) []policies.Finding {
	for j, m := range t.metrics {
		if m.Name != name {
			continue
		}
		p := t.metricsPath.Index(j).Child("targetValue")
		if judged[p.String()] {
			return nil
		}
		judged[p.String()] = true
		if m.TargetValue == nil || m.TargetValue.Sign() <= 0 {
			v := "missing"
			if m.TargetValue != nil {
				v = m.TargetValue.String()
			}
			return []policies.Finding{deny(InvalidID, p,
				"is %s; it must be greater than 0, because Kthena divides the value of source %q by it", v, name)}
		}
		return nil
	}
	return []policies.Finding{warn(InvalidID, source,
		"source %q has no entry in %s, so Kthena never evaluates it; add {name: %s, targetValue: <per-replica value>}", name, t.metricsPath, name)}
}
