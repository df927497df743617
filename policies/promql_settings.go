package policies

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
	Default ScopeProfile `json:"default"`
	// Profiles are scope profiles for metrics scraped from shared
	// components (a router or gateway serving many models), chosen by the
	// longest MetricPrefix that starts the metric name.
	Profiles []ScopeProfile `json:"profiles,omitempty"`
	// ExtraMetrics are metric names to accept beside the built-in catalogue
	// of vLLM, SGLang and Kthena router metrics (for example a metric a newer
	// vLLM release adds), so promql-metric-name does not warn about them.
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
	// object's own namespace. Metrics of a component shared across
	// namespaces carry that component's namespace and set it to false.
	RequireNamespace bool `json:"requireNamespace"`
	// NamespaceLabel is the label that carries the scraped pod's namespace
	// ("namespace" when empty; e.g. kubernetes_namespace under older
	// annotation-based scrape configurations).
	NamespaceLabel string `json:"namespaceLabel,omitempty"`
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

// Namespace is the label that carries the namespace of the profile's
// series.
func (p ScopeProfile) Namespace() string {
	if p.NamespaceLabel == "" {
		return "namespace"
	}
	return p.NamespaceLabel
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
	if p.NamespaceLabel != "" && !model.LegacyValidation.IsValidLabelName(p.NamespaceLabel) {
		errs = append(errs, fmt.Sprintf("%s.namespaceLabel: %q is not a label name", where, p.NamespaceLabel))
	}
	for i, l := range p.WorkloadLabels {
		if !model.LegacyValidation.IsValidLabelName(l) || l == model.MetricNameLabel {
			errs = append(errs, fmt.Sprintf("%s.workloadLabels[%d]: %q is not a label name", where, i, l))
		}
	}
	return errs
}
