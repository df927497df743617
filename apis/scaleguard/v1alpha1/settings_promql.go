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
	// TenancyProxies are Prometheus endpoints that enforce a namespace on
	// every query from KEDA's namespace metadata (OpenShift's Thanos
	// Querier tenancy port, prom-label-proxy): a trigger whose
	// serverAddress is one of them and whose namespace is the object's own
	// reads only that namespace, so its selectors need no namespace
	// matcher of their own.
	TenancyProxies []TenancyProxy `json:"tenancyProxies,omitempty"`
}

// TenancyProxy is a Prometheus endpoint that injects a namespace label
// matcher, taken from the request's namespace parameter, into every query.
type TenancyProxy struct {
	// Host is the Service, as <service>.<namespace>; a serverAddress host of
	// <service>.<namespace>, <service>.<namespace>.svc or
	// <service>.<namespace>.svc.<cluster domain> matches it.
	Host string `json:"host"`
	// Port is the port that enforces the namespace (OpenShift's Thanos
	// Querier: 9092; its 9091 does not).
	Port int32 `json:"port"`
	// Label is the label the proxy sets to the namespace ("namespace" when
	// empty).
	Label string `json:"label,omitempty"`
}

// EnforcedLabel is the label the proxy sets to the namespace.
func (t TenancyProxy) EnforcedLabel() string {
	if t.Label == "" {
		return "namespace"
	}
	return t.Label
}

// ScopeProfile says when a selector is scoped to one workload.
type ScopeProfile struct {
	// Name names the profile in messages.
	Name string `json:"name"`
	// MetricPrefix selects the metrics the profile applies to; empty for
	// the default profile and for a profile given by Metrics alone.
	MetricPrefix string `json:"metricPrefix,omitempty"`
	// Metrics selects metrics by exact name, for a component whose names
	// share another's prefix (the vLLM production-stack router's vllm:
	// names beside the engine's). A histogram's or counter's base name
	// also selects its _bucket, _sum, _count, _total and _created series.
	// An exact name wins over any prefix.
	Metrics []string `json:"metrics,omitempty"`
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
	// NamespacedLabels are workload labels whose values start with the
	// namespace of what they name and a dash (NVIDIA Dynamo's
	// dynamo_namespace is <namespace>-<graph deployment>): an equality
	// matcher on one whose value starts with the object's namespace and a
	// dash also scopes the selector to that namespace.
	NamespacedLabels []string `json:"namespacedLabels,omitempty"`
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
			// The vLLM production-stack router (src/vllm_router) runs with
			// its engines in the Helm release's namespace and exports vllm:
			// series of its own, labelled by the engine URL it sends to
			// (server) or the requested model (model); namespace and pod
			// are the router's. Only the names no vLLM engine exposes are
			// listed: vllm:num_requests_waiting and the others both expose
			// stay with the engine's profile.
			Name:             "vllm-router",
			Metrics:          vllmRouterMetrics,
			RequireNamespace: true,
			WorkloadLabels:   []string{"model", "server"},
		}, {
			// The Gateway API Inference Extension's endpoint picker (EPP,
			// also llm-d's inference scheduler) runs beside its InferencePool
			// in the pool's namespace. Pool gauges carry the pool's name.
			Name:             "inference-pool",
			MetricPrefix:     "inference_pool_",
			RequireNamespace: true,
			WorkloadLabels:   []string{"name"},
		}, {
			// EPP request metrics per model (v1.1 and later).
			Name:             "inference-objective",
			MetricPrefix:     "inference_objective_",
			RequireNamespace: true,
			WorkloadLabels:   []string{"model_name", "target_model_name"},
		}, {
			// EPP request metrics per model (v1.0 and earlier).
			Name:             "inference-model",
			MetricPrefix:     "inference_model_",
			RequireNamespace: true,
			WorkloadLabels:   []string{"model_name", "target_model_name"},
		}, {
			// EPP scheduler and flow-control metrics.
			Name:             "inference-extension",
			MetricPrefix:     "inference_extension_",
			RequireNamespace: true,
			WorkloadLabels:   []string{"inference_pool", "model_name", "target_model_name"},
		}, {
			// llm-d's inference scheduler decisions per model.
			Name:             "llm-d-inference-scheduler",
			MetricPrefix:     "llm_d_inference_scheduler_",
			RequireNamespace: true,
			WorkloadLabels:   []string{"model_name"},
		}, {
			// NVIDIA Dynamo's frontend labels requests by model; the
			// operator's monitors add dynamo_namespace, which is
			// <namespace>-<DynamoGraphDeployment>.
			Name:             "dynamo-frontend",
			MetricPrefix:     "dynamo_frontend_",
			RequireNamespace: true,
			WorkloadLabels:   []string{"dynamo_namespace", "model"},
			NamespacedLabels: []string{"dynamo_namespace"},
		}, {
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
		TenancyProxies: []TenancyProxy{{
			// OpenShift monitoring: the Thanos Querier's tenancy port.
			Host: "thanos-querier.openshift-monitoring", Port: 9092,
		}},
	}
}

// vllmRouterMetrics are the series only the vLLM production-stack router
// exposes (src/vllm_router/services/metrics_service/__init__.py and
// src/vllm_router/experimental/semantic_cache_integration.py,
// vllm-stack-0.1.12).
var vllmRouterMetrics = []string{
	"vllm:current_qps", "vllm:avg_decoding_length", "vllm:num_prefill_requests", "vllm:num_decoding_requests",
	"vllm:num_incoming_requests_total", "vllm:healthy_pods_total", "vllm:avg_latency", "vllm:avg_itl",
	"vllm:input_tokens_total", "vllm:output_tokens_total", "vllm:request_errors_total", "vllm:request_latency_seconds",
	"vllm:semantic_cache_hits", "vllm:semantic_cache_misses", "vllm:semantic_cache_hit_ratio",
	"vllm:semantic_cache_size", "vllm:semantic_cache_latency",
}

// seriesSuffixes are what a histogram or counter adds to its base name.
var seriesSuffixes = []string{"_bucket", "_sum", "_count", "_created", "_total"}

// selects reports whether the profile names the metric exactly: the name
// itself, or a series of a listed histogram or counter.
func (p *ScopeProfile) selects(name string) bool {
	base := name
	for _, suf := range seriesSuffixes {
		if b, ok := strings.CutSuffix(name, suf); ok {
			base = b
			break
		}
	}
	for _, m := range p.Metrics {
		if name == m || base == m {
			return true
		}
	}
	return false
}

// IsDefault reports whether the profile is chosen by neither prefix nor
// name: the default profile.
func (p ScopeProfile) IsDefault() bool {
	return p.MetricPrefix == "" && len(p.Metrics) == 0
}

// ProfileFor returns the scope profile of a metric name: the profile that
// names it exactly, else the profile with the longest prefix of name, else
// the default profile. An empty name (a
// selector without a literal metric name) gets the default profile.
func (s PromQLSettings) ProfileFor(name string) ScopeProfile {
	best := s.Default
	bestLen := -1
	if name == "" {
		return best
	}
	// By index: a profile is a struct of several slices, copied only once
	// chosen.
	bestIdx := -1
	for i := range s.Profiles {
		p := &s.Profiles[i]
		if len(p.Metrics) > 0 && p.selects(name) {
			return *p
		}
		if p.MetricPrefix != "" && strings.HasPrefix(name, p.MetricPrefix) && len(p.MetricPrefix) > bestLen {
			bestIdx, bestLen = i, len(p.MetricPrefix)
		}
	}
	if bestIdx >= 0 {
		best = s.Profiles[bestIdx]
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
	if len(s.Default.Metrics) > 0 {
		errs = append(errs, "promql.default.metrics: must be empty (the default profile applies to every other metric)")
	}
	errs = append(errs, s.Default.validate("promql.default")...)
	seen, named := map[string]bool{}, map[string]bool{}
	for i, p := range s.Profiles {
		where := fmt.Sprintf("promql.profiles[%d]", i)
		switch {
		case p.MetricPrefix == "" && len(p.Metrics) == 0:
			errs = append(errs, where+".metricPrefix: required (or metrics)")
		case p.MetricPrefix != "" && seen[p.MetricPrefix]:
			errs = append(errs, fmt.Sprintf("%s.metricPrefix: %q is used by another profile", where, p.MetricPrefix))
		}
		seen[p.MetricPrefix] = true
		for j, m := range p.Metrics {
			switch {
			case !model.LegacyValidation.IsValidMetricName(m):
				errs = append(errs, fmt.Sprintf("%s.metrics[%d]: %q is not a metric name", where, j, m))
			case named[m]:
				errs = append(errs, fmt.Sprintf("%s.metrics[%d]: %q is named by another profile", where, j, m))
			}
			named[m] = true
		}
		errs = append(errs, p.validate(where)...)
	}
	for i, m := range s.ExtraMetrics {
		if !model.LegacyValidation.IsValidMetricName(m) {
			errs = append(errs, fmt.Sprintf("promql.extraMetrics[%d]: %q is not a metric name", i, m))
		}
	}
	for i, t := range s.TenancyProxies {
		where := fmt.Sprintf("promql.tenancyProxies[%d]", i)
		if t.Host == "" || strings.ContainsAny(t.Host, ":/ ") {
			errs = append(errs, fmt.Sprintf("%s.host: %q is not a host name such as thanos-querier.openshift-monitoring", where, t.Host))
		}
		if t.Port < 1 || t.Port > 65535 {
			errs = append(errs, fmt.Sprintf("%s.port: %d is not a port", where, t.Port))
		}
		if t.Label != "" && !model.LegacyValidation.IsValidLabelName(t.Label) {
			errs = append(errs, fmt.Sprintf("%s.label: %q is not a label name", where, t.Label))
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
	for i, l := range p.NamespacedLabels {
		found := false
		for _, w := range p.WorkloadLabels {
			found = found || w == l
		}
		if !found {
			errs = append(errs, fmt.Sprintf("%s.namespacedLabels[%d]: %q is not one of the workload labels", where, i, l))
		}
	}
	return errs
}
