package v1alpha1

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
)

// PromQLSettings configures the promql-* rules: which labels scope a
// selector to one workload, per metric family.
type PromQLSettings struct {
	// Default is the scope profile of every metric no entry of Profiles
	// claims: workload-local metrics such as vllm:* and sglang:*. Its
	// MetricPrefix must be empty.
	// +kubebuilder:validation:XValidation:rule="!has(self.metricPrefix) || self.metricPrefix == ''",message="the default profile has no metricPrefix: it applies to every metric no other profile claims"
	Default ScopeProfile `json:"default"`
	// Profiles are scope profiles for metrics scraped from shared
	// components (a router or gateway serving many models), chosen by the
	// longest MetricPrefix that starts the metric name.
	Profiles []ScopeProfile `json:"profiles,omitempty"`
	// ExtraMetrics are metric names to accept beside the built-in catalogue
	// of vLLM, SGLang and Kthena router metrics (for example a metric a newer
	// vLLM release adds), so promql-metric-name does not warn about them.
	// +kubebuilder:validation:items:Pattern=`^[a-zA-Z_:][a-zA-Z0-9_:]*$`
	ExtraMetrics []string `json:"extraMetrics,omitempty"`
}

// ScopeProfile says when a selector is scoped to one workload.
type ScopeProfile struct {
	// Name names the profile in messages.
	Name string `json:"name"`
	// MetricPrefix selects the metrics the profile applies to; empty only
	// for the default profile.
	MetricPrefix string `json:"metricPrefix,omitempty"`
	// RequireNamespace, when true, requires an equality matcher naming the
	// object's own namespace on one of NamespaceLabels. Metrics of a
	// component shared across namespaces carry that component's namespace
	// and set it to false.
	RequireNamespace bool `json:"requireNamespace"`
	// NamespaceLabels are the labels that may carry the namespace of the
	// workload a series describes, the first preferred in fixes
	// (["namespace"] when empty). An exporter that reports other pods'
	// metrics names them in labels of its own (Kepler:
	// container_namespace), and Prometheus renames an exporter's label that
	// clashes with a target label to exported_<label> unless the scrape
	// honors the exporter's labels (honorLabels: true), so namespace is
	// then the exporter's own. Any of them naming another namespace reads
	// another namespace's series.
	NamespaceLabels []string `json:"namespaceLabels,omitempty"`
	// WorkloadLabels are the labels that identify a workload; a selector
	// must narrow at least one of them with an equality matcher or a regex
	// that matches neither everything nor the empty string.
	WorkloadLabels []string `json:"workloadLabels"`
}

// DefaultPromQLSettings are the built-in scope profiles.
func DefaultPromQLSettings() PromQLSettings {
	return PromQLSettings{
		Default: ScopeProfile{
			Name:             "workload",
			RequireNamespace: true,
			WorkloadLabels: []string{
				"pod", "model_name", "model", "service", "deployment", "job",
				"modelserving_volcano_sh_name", "serving_kserve_io_inferenceservice", "app",
			},
		},
		Profiles: []ScopeProfile{{
			// kthena-router serves every model of the cluster from its own
			// namespace; its metrics carry the requested model as "model".
			Name:           "kthena-router",
			MetricPrefix:   "kthena_router_",
			WorkloadLabels: []string{"model"},
		}, {
			// NVIDIA dcgm-exporter runs on every GPU node and labels a GPU's
			// series with the pod using it as namespace, pod and container
			// (pod_namespace, pod_name, container_name with
			// --use-old-namespace). Its Helm chart's ServiceMonitor does not
			// honor labels by default, so Prometheus stores them as
			// exported_namespace, exported_pod and exported_container.
			Name:             "dcgm-exporter",
			MetricPrefix:     "DCGM_",
			RequireNamespace: true,
			NamespaceLabels:  []string{"exported_namespace", "namespace", "pod_namespace"},
			WorkloadLabels:   []string{"exported_pod", "pod", "exported_container", "container", "pod_name", "container_name"},
		}, {
			// ingress-nginx labels request metrics with the Ingress's
			// namespace, ingress and backend service; the controller's own
			// namespace and pod are controller_namespace and controller_pod.
			// Scraped without honorLabels, namespace and service become
			// exported_namespace and exported_service.
			Name:             "ingress-nginx",
			MetricPrefix:     "nginx_ingress_controller_",
			RequireNamespace: true,
			NamespaceLabels:  []string{"exported_namespace", "namespace"},
			WorkloadLabels:   []string{"ingress", "exported_service", "service"},
		}, {
			// Kepler (before 0.10) labels container energy with
			// container_namespace, pod_name and container_name; namespace
			// and pod are Kepler's own pod.
			Name:             "kepler",
			MetricPrefix:     "kepler_",
			RequireNamespace: true,
			NamespaceLabels:  []string{"container_namespace", "pod_namespace"},
			WorkloadLabels:   []string{"pod_name", "container_name"},
		}, {
			// Kepler 0.10 and later label pod energy with pod_namespace and
			// pod_name.
			Name:             "kepler-pod",
			MetricPrefix:     "kepler_pod_",
			RequireNamespace: true,
			NamespaceLabels:  []string{"pod_namespace"},
			WorkloadLabels:   []string{"pod_name"},
		}},
	}
}

// ProfileFor returns the scope profile of a metric name: the profile with
// the longest prefix of name, else the default profile. An empty name (a
// selector without a literal metric name) gets the default profile.
func (s PromQLSettings) ProfileFor(name string) ScopeProfile {
	best := s.Default
	bestLen := -1
	if name == "" {
		return best
	}
	for _, p := range s.Profiles {
		if p.MetricPrefix != "" && strings.HasPrefix(name, p.MetricPrefix) && len(p.MetricPrefix) > bestLen {
			best, bestLen = p, len(p.MetricPrefix)
		}
	}
	return best
}

// Namespaces are the labels that may carry the namespace of the
// profile's series, the preferred first.
func (p ScopeProfile) Namespaces() []string {
	if len(p.NamespaceLabels) == 0 {
		return []string{"namespace"}
	}
	return p.NamespaceLabels
}

// validate lists what is wrong with the PromQL settings.
func (s PromQLSettings) validate() []string {
	var errs []string
	if s.Default.MetricPrefix != "" {
		errs = append(errs, "promql.default.metricPrefix: must be empty (the default profile applies to every other metric)")
	}
	errs = append(errs, s.Default.validate("promql.default")...)
	seen := map[string]bool{}
	for i, p := range s.Profiles {
		where := fmt.Sprintf("promql.profiles[%d]", i)
		if p.MetricPrefix == "" {
			errs = append(errs, where+".metricPrefix: required")
		} else if seen[p.MetricPrefix] {
			errs = append(errs, fmt.Sprintf("%s.metricPrefix: %q is used by another profile", where, p.MetricPrefix))
		}
		seen[p.MetricPrefix] = true
		errs = append(errs, p.validate(where)...)
	}
	for i, m := range s.ExtraMetrics {
		if !model.LegacyValidation.IsValidMetricName(m) {
			errs = append(errs, fmt.Sprintf("promql.extraMetrics[%d]: %q is not a metric name", i, m))
		}
	}
	return errs
}

func (p ScopeProfile) validate(where string) []string {
	var errs []string
	if p.Name == "" {
		errs = append(errs, where+".name: required")
	}
	if len(p.WorkloadLabels) == 0 {
		errs = append(errs, where+".workloadLabels: at least one label is required")
	}
	namespaces := map[string]bool{}
	for i, l := range p.NamespaceLabels {
		switch {
		case !model.LegacyValidation.IsValidLabelName(l) || l == model.MetricNameLabel:
			errs = append(errs, fmt.Sprintf("%s.namespaceLabels[%d]: %q is not a label name", where, i, l))
		case namespaces[l]:
			errs = append(errs, fmt.Sprintf("%s.namespaceLabels[%d]: %q is listed twice", where, i, l))
		}
		namespaces[l] = true
	}
	for i, l := range p.WorkloadLabels {
		switch {
		case !model.LegacyValidation.IsValidLabelName(l) || l == model.MetricNameLabel:
			errs = append(errs, fmt.Sprintf("%s.workloadLabels[%d]: %q is not a label name", where, i, l))
		case namespaces[l] || (len(p.NamespaceLabels) == 0 && l == "namespace"):
			// A namespace label names no workload: it would let a
			// namespace matcher alone pass as scoped.
			errs = append(errs, fmt.Sprintf("%s.workloadLabels[%d]: %q is a namespace label", where, i, l))
		}
	}
	return errs
}
