package promql

import (
	"strings"

	"github.com/scaleguard/scaleguard/policies"
)

// Label families. Prometheus renames a label an exporter sets that clashes
// with a target label (namespace, pod, container, service) to
// exported_<label> unless the scrape honors the exporter's labels, so a
// selector reads either exported_namespace with exported_pod or namespace
// with pod.
const exportedPrefix = "exported_"

func exported(label string) bool { return strings.HasPrefix(label, exportedPrefix) }

// preferred is the family a fix uses: the one the selector writes, else
// the one of the profile's first namespace label.
func (sc scope) preferred() bool {
	if sc.family != nil {
		return *sc.family
	}
	return exported(sc.profile.Namespaces()[0])
}

// inFamily reports whether a profile label belongs to a family: it is an
// exported_ label, or the profile names its exported_ counterpart.
func inFamily(label string, p policies.ScopeProfile) bool {
	return exported(label) || has(p.Namespaces(), exportedPrefix+label) || has(p.WorkloadLabels, exportedPrefix+label)
}

// bothFamilies reports whether a profile names labels of both families.
func bothFamilies(p policies.ScopeProfile) bool {
	var plain, exp bool
	for _, ls := range [][]string{p.Namespaces(), p.WorkloadLabels} {
		for _, l := range ls {
			exp = exp || exported(l)
			plain = plain || (!exported(l) && inFamily(l, p))
		}
	}
	return plain && exp
}

// familyCondition says when a family's labels hold the workload's values.
func familyCondition(fam bool) string {
	if fam {
		return "if its ServiceMonitor or PodMonitor keeps honorLabels false (Prometheus then stores the exporter's labels that clash with target labels as exported_<label>)"
	}
	return "if its ServiceMonitor or PodMonitor sets honorLabels: true"
}

// counterpart moves a profile label into a family when the profile names
// its counterpart there (pod ↔ exported_pod).
func counterpart(label string, fam bool, p policies.ScopeProfile) string {
	if exported(label) == fam {
		return label
	}
	other := exportedPrefix + label
	if !fam {
		other = strings.TrimPrefix(label, exportedPrefix)
	}
	if has(p.Namespaces(), other) || has(p.WorkloadLabels, other) {
		return other
	}
	return label
}

// Spellings of the labels naming a series' namespace and pod: Kubernetes
// service discovery's, their exported_ form, and exporters' own (Kepler,
// dcgm-exporter --use-old-namespace, older annotation-based scrapes).
var (
	namespaceSpellings = map[string]bool{"namespace": true, "exported_namespace": true, "pod_namespace": true,
		"container_namespace": true, "kubernetes_namespace": true}
	podSpellings = map[string]bool{"pod": true, "exported_pod": true, "pod_name": true, "kubernetes_pod_name": true}
)

// respell maps a written label to the profile's spelling in the family: a
// namespace or pod label the profile does not list names the exporter's
// own pod (Kepler's namespace is Kepler's), so the fix moves it to the
// profile's label that names the workload's.
func respell(label string, fam bool, p policies.ScopeProfile) string {
	if has(p.Namespaces(), label) || has(p.WorkloadLabels, label) {
		return counterpart(label, fam, p)
	}
	if namespaceSpellings[label] && p.RequireNamespace {
		return firstIn(p.Namespaces(), fam, p)
	}
	if l := podLabel(p, fam); podSpellings[label] && has(p.WorkloadLabels, l) {
		return l
	}
	return label
}

// firstIn is the first label of ls in the family, else the first label.
func firstIn(ls []string, fam bool, p policies.ScopeProfile) string {
	for _, l := range ls {
		if counterpart(l, fam, p) == l {
			return l
		}
	}
	return ls[0]
}
