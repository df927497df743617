package promql

import (
	"fmt"
	"strings"

	"github.com/scaleguard/scaleguard/policies"
)

// histogramLabels are the labels Prometheus's histograms and summaries add
// to every series: they split one workload's values and name none.
var histogramLabels = map[string]bool{"le": true, "quantile": true}

// targetLabels are the labels Kubernetes service discovery and the
// Prometheus Operator put on every scraped series: for a router's or
// exporter's metrics (a profile other than the default) they name that
// component's own pod, not the workload it reports on.
var targetLabels = map[string]bool{
	"namespace": true, "pod": true, "container": true, "service": true, "endpoint": true,
	"instance": true, "job": true, "node": true,
}

// placed reports whether scaleguard knows what a label of a metric names,
// beside the profile's own labels: a label its exporter sets that names no
// workload (vLLM's finished_reason), a histogram's le, or, for a router or
// exporter profile, a scrape target label naming that component's pod.
// A label it cannot place may name a workload, so a selector narrowed by
// one is warned about rather than denied.
func placed(label, metric string, p policies.ScopeProfile) bool {
	if histogramLabels[label] {
		return true
	}
	if e := family(metric); e != nil && (has(e.OtherLabels, label) || has(e.Labels, label)) {
		return true
	}
	if !p.IsDefault() && (targetLabels[label] || namespaceSpellings[label] || podSpellings[label] ||
		targetLabels[strings.TrimPrefix(label, exportedPrefix)]) {
		return true
	}
	return false
}

// unknownLabels is the warning for a selector that is pinned to its
// namespace and narrowed only by labels scaleguard cannot place: it may
// select one workload, and a scope profile would say so.
func unknownLabels(sel selector, sc scope, q Query, fix fix) policies.Finding {
	ls := quotedList(sc.unknown)
	pinned := fmt.Sprintf("is pinned to namespace %q", q.Namespace)
	if !sc.profile.RequireNamespace {
		pinned = fmt.Sprintf("is read from the shared %s", sc.profile.Name)
	}
	declare := "a scope profile for it (settings promql.profiles: metricPrefix or metrics naming it, workloadLabels listing the label)"
	if !sc.profile.IsDefault() {
		declare = fmt.Sprintf("the label in the workloadLabels of the settings' scope profile %q", sc.profile.Name)
	}
	return warn(UnscopedID, q.Field,
		"selector %s %s but narrowed only by %s, which no scope profile lists as a workload label, so scaleguard cannot tell whether it reads one workload; "+
			"if that label names the workload, declare %s; otherwise write %s%s",
		quoted(sel.text), pinned, ls, declare, code(fix.text), fix.notes(sc, q))
}
