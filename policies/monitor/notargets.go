package monitor

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// workloadKinds names what scaleguard resolves a PodMonitor through.
const workloadKinds = "Deployments, StatefulSets, DaemonSets, Argo Rollouts, LeaderWorkerSets, Kthena ModelServings and KServe predictors"

// checkNoTargetsPod is monitor-no-targets on a PodMonitor.
func checkNoTargetsPod(pm *monitoringv1.PodMonitor, in *policies.Input) []policies.Finding {
	out := neverMatches(pm.Spec.NamespaceSelector, &pm.Spec.Selector)
	if len(out) > 0 {
		return out
	}
	t := resolvePodMonitor(pm, in)
	if len(t.templates) > 0 || (!t.all && len(t.names) == 0) {
		return out
	}
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "selector"),
		"selects no pods now: no pod template of the %s in %s has labels matching %s, so Prometheus scrapes nothing and an autoscaler reading these metrics sees no series; "+
			"if the workload is applied later this resolves itself, otherwise fix the selector (or namespaceSelector)",
		workloadKinds, describeNamespaces(t.names, t.all), describeSelector(&pm.Spec.Selector))}
}

// checkNoTargetsService is monitor-no-targets on a ServiceMonitor.
func checkNoTargetsService(sm *monitoringv1.ServiceMonitor, in *policies.Input) []policies.Finding {
	out := neverMatches(sm.Spec.NamespaceSelector, &sm.Spec.Selector)
	if len(out) > 0 {
		return out
	}
	t := resolveServiceMonitor(sm, in)
	if len(t.services) > 0 || (!t.all && len(t.names) == 0) {
		return out
	}
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "selector"),
		"selects no Services now: no Service in %s has labels matching %s, so Prometheus scrapes nothing and an autoscaler reading these metrics sees no series; "+
			"if the Service is applied later this resolves itself, otherwise fix the selector (or namespaceSelector)",
		describeNamespaces(t.names, t.all), describeSelector(&sm.Spec.Selector))}
}

// neverMatches denies the parts of a monitor's selection that can never
// match anything: a namespace name or a label selector that is not valid
// (an unrendered template such as {{ .Release.Namespace }}, typically).
// prometheus-operator rejects a monitor whose selector is invalid.
func neverMatches(nsSel monitoringv1.NamespaceSelector, sel *metav1.LabelSelector) []policies.Finding {
	var out []policies.Finding
	if !nsSel.Any {
		for i, n := range nsSel.MatchNames {
			if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
				out = append(out, policies.Denyf(field.NewPath("spec", "namespaceSelector", "matchNames").Index(i),
					"%q is not a valid namespace name%s, so it can never match; write the namespace's name", n, template(n)))
			}
		}
	}
	for _, p := range selectorErrors(sel, field.NewPath("spec", "selector")) {
		out = append(out, policies.Denyf(p.field, "%s, so prometheus-operator rejects the monitor and it scrapes nothing; %s", p.msg, fixSelector(p.msg)))
	}
	return out
}

func fixSelector(msg string) string {
	if template(msg) != "" {
		return "render the template, or write the value itself"
	}
	return "write a valid label selector"
}
