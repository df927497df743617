package promql

import (
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

const qf = "spec.triggers[0].metadata.query"

// ok is a selector body scoped to the test workload.
const ok = `namespace="serving", modelserving_volcano_sh_name="llm"`

type queryCase struct {
	query string
	// edit changes the default query (KEDA, namespace serving, ModelServing llm).
	edit func(*Query)
	// settings changes the default settings.
	settings func(*policies.PromQLSettings)
	want     []policytest.Want
}

func runQueryCases(t *testing.T, cases map[string]queryCase) {
	t.Helper()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			q := Query{
				Text: c.query, Field: field.NewPath("spec", "triggers").Index(0).Child("metadata", "query"),
				Namespace: "serving", Consumer: KEDA, Workload: Workload{ModelServing: "llm", PodPrefix: "llm-"},
			}
			if c.edit != nil {
				c.edit(&q)
			}
			s := policies.DefaultSettings().PromQL
			if c.settings != nil {
				c.settings(&s)
			}
			policytest.Expect(t, CheckQuery(q, &s), c.want...)
		})
	}
}

func valueType(q *Query) { q.MetricType = autoscalingv2.ValueMetricType }

func unscoped(fragments ...string) policytest.Want {
	return policytest.Deny(UnscopedID, qf, fragments...)
}

func TestScope(t *testing.T) {
	runQueryCases(t, map[string]queryCase{
		"scoped": {query: `sum(vllm:num_requests_waiting{` + ok + `})`},
		"no matcher at all": {query: `sum(vllm:num_requests_waiting)`, want: []policytest.Want{unscoped(
			"selector `vllm:num_requests_waiting` lacks namespace=\"serving\" and a workload label (one of pod, model_name, model, service, …)",
			"reads every matching series in the cluster",
			"write `vllm:num_requests_waiting{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"}`")}},
		"namespace only": {query: `sum(vllm:num_requests_waiting{namespace="serving"})`, want: []policytest.Want{unscoped(
			"lacks a workload label", "reads every matching workload in the namespace",
			"write `vllm:num_requests_waiting{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"}`")}},
		"workload only": {query: `sum(vllm:num_requests_waiting{pod=~"llm-.*"})`, want: []policytest.Want{unscoped(
			"lacks namespace=\"serving\",", "write `vllm:num_requests_waiting{namespace=\"serving\", pod=~\"llm-.*\"}`")}},
		"regex .* never scopes, and the fix narrows that label": {query: `sum(x{namespace="serving", pod=~".*"})`, want: []policytest.Want{unscoped(
			"selector `x{namespace=\"serving\", pod=~\".*\"}` lacks a workload label", "write `x{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"}`")}},
		"regex .+ never scopes":                            {query: `sum(x{namespace="serving", model_name=~".+"})`, want: []policytest.Want{unscoped("lacks a workload label")}},
		"a regex accepting anything never scopes":          {query: `sum(x{namespace="serving", pod=~"[^/]+"})`, want: []policytest.Want{unscoped("lacks a workload label")}},
		"a regex matching the empty string does not scope": {query: `sum(x{namespace="serving", pod=~"llm-.*|"})`, want: []policytest.Want{unscoped("lacks a workload label")}},
		"an empty equality does not scope":                 {query: `sum(x{namespace="serving", pod=""})`, want: []policytest.Want{unscoped("lacks a workload label")}},
		"!= and !~ never scope":                            {query: `sum(x{namespace="serving", pod!="llm-0", app!~"a.*"})`, want: []policytest.Want{unscoped("lacks a workload label")}},
		"a narrowing regex scopes":                         {query: `sum(x{namespace="serving", pod=~"llm-.*"})`},
		"a literal namespace regex scopes":                 {query: `sum(x{namespace=~"serving", pod="llm-0"})`},
		"a namespace pattern does not scope":               {query: `sum(x{namespace=~"serv.*", pod="llm-0"})`, want: []policytest.Want{unscoped("lacks namespace=\"serving\"", "write `x{namespace=\"serving\", pod=\"llm-0\"}`")}},
		"a negative namespace matcher does not scope":      {query: `sum(x{namespace!="kube-system", pod="llm-0"})`, want: []policytest.Want{unscoped("lacks namespace=\"serving\"")}},
		"both sides of an arithmetic operator":             {query: `sum(a{` + ok + `}) + sum(b)`, want: []policytest.Want{unscoped("selector `b`")}},
		"both sides of or":                                 {query: `sum(a) or sum(b{` + ok + `})`, want: []policytest.Want{unscoped("selector `a`")}},
		"the right side of unless":                         {query: `sum(a{` + ok + `}) unless sum(b)`, want: []policytest.Want{unscoped("selector `b`")}},
		"function arguments and matrix selectors": {
			query: `histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket[2m])))`, edit: valueType,
			want: []policytest.Want{unscoped("selector `vllm:time_to_first_token_seconds_bucket`",
				"write `vllm:time_to_first_token_seconds_bucket{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"}`")}},
		"subqueries": {query: `max_over_time(sum(x)[10m:1m])`, want: []policytest.Want{unscoped("selector `x`")}},
		"offset and @ stay in the fix": {query: `sum(a{` + ok + `} offset 5m) - sum(b offset 1h) + sum(c @ 1700000000)`, want: []policytest.Want{
			unscoped("selector `b offset 1h`", "write `b{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"} offset 1h`"),
			unscoped("selector `c @ 1700000000`", "write `c{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"} @ 1700000000.000`"),
		}},
		"an aggregation parameter": {query: `quantile(scalar(sum(q)), x{` + ok + `})`, edit: valueType, want: []policytest.Want{unscoped("selector `q`")}},
		"a __name__ regex uses the default profile": {query: `sum({__name__=~"kthena_router_active_.*"})`, want: []policytest.Want{unscoped(
			"lacks namespace=\"serving\" and a workload label",
			"write `{namespace=\"serving\", __name__=~\"kthena_router_active_.*\", pod=~\"llm-[0-9]+-.*\"}`")}},
		"a query without selectors has nothing to scope":     {query: `vector(1)`},
		"a vector(0) fallback":                               {query: `sum(x{` + ok + `}) or vector(0)`},
		"one finding per selector as written":                {query: `sum(x) / count(x) + sum(x)`, edit: valueType, want: []policytest.Want{unscoped("selector `x`")}},
		"router scoped by model":                             {query: `sum(kthena_router_active_downstream_requests{model="qwen"})`},
		"router in its own namespace is not cross-namespace": {query: `sum(kthena_router_active_downstream_requests{namespace="kthena-system", model="qwen"})`},
		"router without model": {query: `sum(kthena_router_active_downstream_requests)`, want: []policytest.Want{unscoped(
			"selector `kthena_router_active_downstream_requests` lacks a matcher on model", "counts every model behind the shared kthena-router",
			"write `kthena_router_active_downstream_requests{model=\"<model>\"}` with the model name clients request")}},
		"router model known from the workload": {query: `sum(kthena_router_active_downstream_requests)`, edit: func(q *Query) { q.Workload.ModelName = "fbopt" },
			want: []policytest.Want{unscoped("write `kthena_router_active_downstream_requests{model=\"fbopt\"}`")}},
		"grouping by model does not scope": {query: `sum by (model) (kthena_router_active_downstream_requests)`, want: []policytest.Want{
			unscoped("lacks a matcher on model"), policytest.Warn(AggregationID, qf, "outer sum by (model) returns one series per model")}},
		"vLLM metrics get model_name when the model is known": {query: `sum(vllm:num_requests_running)`,
			edit: func(q *Query) { q.Workload = Workload{ModelName: "fbopt", PodPrefix: "fbopt-predictor-"} },
			want: []policytest.Want{unscoped("write `vllm:num_requests_running{namespace=\"serving\", model_name=\"fbopt\"}`")}},
		"an unprofiled metric: the fix is conditional and points at promql.profiles": {query: `sum(rate(http_requests_total[1m]))`,
			edit: func(q *Query) { q.Workload = Workload{PodPrefix: "web-"} },
			want: []policytest.Want{unscoped("selector `http_requests_total` lacks namespace=\"serving\" and a workload label",
				"write `http_requests_total{namespace=\"serving\", pod=~\"web-.*\"}` if its series come from the workload's own pods; "+
					"if an exporter reports the workload in labels of its own (such as exported_namespace), an administrator adds a scope profile for the metric to the settings' promql.profiles")}},
		// Exporters reporting other pods' metrics: their namespace and pod
		// labels are the exporter's own; the workload's come as
		// exported_* (honorLabels false, the charts' default) or in labels
		// of their own.
		"DCGM scoped by exported labels": {query: `avg(DCGM_FI_DEV_GPU_UTIL{exported_namespace="serving",exported_pod=~"frontend-.*"})`, edit: valueType},
		"DCGM scoped by honored labels":  {query: `avg(DCGM_FI_DEV_GPU_UTIL{namespace="serving", pod=~"frontend-.*"})`, edit: valueType},
		"DCGM scoped by container":       {query: `avg(DCGM_FI_DEV_GPU_UTIL{exported_namespace="serving", exported_container="vllm"})`, edit: valueType},
		"DCGM unscoped: exported labels first, honored as the alternative": {query: `sum(DCGM_FI_DEV_GPU_UTIL)`,
			edit: func(q *Query) { q.Workload = Workload{ModelName: "fbopt", PodPrefix: "fbopt-predictor-"} },
			want: []policytest.Want{unscoped("lacks exported_namespace=\"serving\" and a workload label (one of exported_pod, pod, exported_container, container, …)",
				"write `DCGM_FI_DEV_GPU_UTIL{exported_namespace=\"serving\", exported_pod=~\"fbopt-predictor-.*\"}`, "+
					"or `DCGM_FI_DEV_GPU_UTIL{namespace=\"serving\", pod=~\"fbopt-predictor-.*\"}` if its ServiceMonitor or PodMonitor sets honorLabels: true")}},
		"DCGM: the fix keeps the family written": {query: `sum(DCGM_FI_DEV_GPU_UTIL{exported_pod=~"llm-.*"})`,
			want: []policytest.Want{unscoped("lacks exported_namespace=\"serving\", so",
				"write `DCGM_FI_DEV_GPU_UTIL{exported_namespace=\"serving\", exported_pod=~\"llm-.*\"}`, or `DCGM_FI_DEV_GPU_UTIL{namespace=\"serving\", pod=~\"llm-.*\"}` if")}},
		"DCGM: another namespace in the exported label": {query: `sum(DCGM_FI_DEV_GPU_UTIL{exported_namespace="other", exported_pod=~"llm-.*"})`,
			want: []policytest.Want{policytest.Deny(CrossNamespaceID, qf, `reads namespace "other"`, "write `DCGM_FI_DEV_GPU_UTIL{exported_namespace=\"serving\", exported_pod=~\"llm-.*\"}`")}},
		"DCGM: pinning the exporter's own namespace names another namespace": {query: `sum(DCGM_FI_DEV_GPU_UTIL{exported_namespace="serving", namespace="gpu-operator", exported_pod=~"llm-.*"})`,
			want: []policytest.Want{policytest.Deny(CrossNamespaceID, qf, `reads namespace "gpu-operator"`, "write `DCGM_FI_DEV_GPU_UTIL{exported_namespace=\"serving\", exported_pod=~\"llm-.*\"}`")}},
		"ingress-nginx scoped by exported_namespace": {query: `sum(rate(nginx_ingress_controller_requests{exported_namespace="serving",ingress="frontend"}[2m]))`},
		"ingress-nginx scoped by honored labels":     {query: `sum(rate(nginx_ingress_controller_requests{namespace="serving", exported_service="frontend"}[2m]))`},
		"ingress-nginx unscoped": {query: `sum(rate(nginx_ingress_controller_requests{status=~"5.."}[2m]))`, want: []policytest.Want{unscoped(
			// status may name a workload as far as scaleguard knows: only
			// the namespace is said to be missing.
			"lacks exported_namespace=\"serving\", so",
			"write `nginx_ingress_controller_requests{exported_namespace=\"serving\", status=~\"5..\", ingress=\"<workload>\"}`, "+
				"or `nginx_ingress_controller_requests{namespace=\"serving\", status=~\"5..\", ingress=\"<workload>\"}` if its ServiceMonitor or PodMonitor sets honorLabels: true")}},
		"ingress-nginx: a label of no family leaves the profile's order": {query: `sum(rate(nginx_ingress_controller_requests{ingress="frontend"}[2m]))`, want: []policytest.Want{unscoped(
			"lacks exported_namespace=\"serving\", so",
			"write `nginx_ingress_controller_requests{exported_namespace=\"serving\", ingress=\"frontend\"}`, "+
				"or `nginx_ingress_controller_requests{namespace=\"serving\", ingress=\"frontend\"}` if its ServiceMonitor or PodMonitor sets honorLabels: true")}},
		"Kepler scoped by its own labels": {query: `sum(rate(kepler_container_joules_total{container_namespace="serving", pod_name=~"llm-.*"}[5m]))`},
		"Kepler: namespace and pod are Kepler's own": {query: `sum(rate(kepler_container_joules_total{namespace="serving", pod=~"llm-.*"}[5m]))`, want: []policytest.Want{unscoped(
			"lacks container_namespace=\"serving\" and a workload label (one of pod_name, container_name)",
			"write `kepler_container_joules_total{container_namespace=\"serving\", pod_name=~\"llm-[0-9]+-.*\"}`")}},
		"Kepler pod metrics": {query: `sum(rate(kepler_pod_cpu_joules_total{pod_namespace="serving", pod_name=~"llm-.*"}[5m]))`},
		"Kepler pod metrics have no container_namespace": {query: `sum(rate(kepler_pod_cpu_joules_total{container_namespace="serving", pod_name=~"llm-.*"}[5m]))`, want: []policytest.Want{unscoped(
			"lacks pod_namespace=\"serving\",", "write `kepler_pod_cpu_joules_total{pod_namespace=\"serving\", pod_name=~\"llm-.*\"}`")}},
		"a ModelServing's pods, and the relabeled label as the alternative": {query: `sum(vllm:num_requests_waiting)`, want: []policytest.Want{unscoped(
			"write `vllm:num_requests_waiting{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"}` (or modelserving_volcano_sh_name=\"llm\" where a PodMonitor copies the pod label modelserving.volcano.sh/name with podTargetLabels)")}},
		"a ModelServing's pod regex does not match a sibling's pods": {query: `sum(vllm:num_requests_waiting{namespace="serving", pod=~"llm-[0-9]+-.*"})`},
		"a namespace-level recording rule cannot be scoped":          {query: `sum(namespace:vllm_requests:sum{namespace="serving"})`, want: []policytest.Want{unscoped("lacks a workload label")}},
		"a recording rule that keeps a workload label":               {query: `sum(namespace_model_name:vllm_requests:sum{namespace="serving", model_name="m"})`},
		"a profile from the settings": {query: `sum(gateway_requests_total{route="r"})`, settings: func(s *policies.PromQLSettings) {
			s.Profiles = append(s.Profiles, policies.ScopeProfile{Name: "gateway", MetricPrefix: "gateway_", WorkloadLabels: []string{"route"}})
		}},
		"the namespace label from the settings": {query: `sum(x{kubernetes_namespace="serving", pod="llm-0"}) + sum(y{namespace="serving", pod="llm-0"})`, settings: func(s *policies.PromQLSettings) {
			s.Default.NamespaceLabels = []string{"kubernetes_namespace"}
		}, want: []policytest.Want{unscoped("lacks kubernetes_namespace=\"serving\",", "write `y{kubernetes_namespace=\"serving\", pod=\"llm-0\"}`")}},
		"namespace labels from the settings": {query: `sum(x{tenant="serving", pod="llm-0"}) + sum(y{namespace="serving", pod="llm-0"})`, settings: func(s *policies.PromQLSettings) {
			s.Default.NamespaceLabels = []string{"namespace", "tenant"}
		}},
		"workload labels from the settings": {query: `sum(x{namespace="serving", pod=~".+"})`, settings: func(s *policies.PromQLSettings) {
			s.Default.WorkloadLabels = []string{"app"}
		}, want: []policytest.Want{unscoped("lacks a matcher on app", "write `x{namespace=\"serving\", pod=~\".+\", app=\"<workload>\"}`")}},
		// A label no profile lists may name the workload: warned, with how
		// to declare it, never denied.
		"a label the settings no longer list is not placed": {query: `sum(x{namespace="serving", pod="llm-0"})`, settings: func(s *policies.PromQLSettings) {
			s.Default.WorkloadLabels = []string{"app"}
		}, want: []policytest.Want{policytest.Warn(UnscopedID, qf, `is pinned to namespace "serving" but narrowed only by "pod"`,
			"declare a scope profile for it", "otherwise write `x{namespace=\"serving\", pod=\"llm-0\", app=\"<workload>\"}`")}},
	})
}

// TestUnprofiledHedge: only a metric neither the catalogue nor a profile
// describes gets a conditional fix pointing at promql.profiles.
func TestUnprofiledHedge(t *testing.T) {
	s := policies.DefaultSettings().PromQL
	for query, hedged := range map[string]bool{
		`sum(http_requests_total)`:                      true,
		`sum({__name__=~"http_.*"})`:                    true,
		`sum(namespace:http_requests:sum)`:              true,
		`sum(vllm:num_requests_running)`:                false,
		`sum(vllm_num_requests_running)`:                false,
		`sum(sglang:num_queue_reqs)`:                    false,
		`sum(DCGM_FI_DEV_GPU_UTIL)`:                     false,
		`sum(kepler_container_joules_total)`:            false,
		`sum(kthena_router_active_downstream_requests)`: false,
	} {
		q := Query{Text: query, Field: field.NewPath("q"), Namespace: "serving", Consumer: KEDA, Workload: Workload{PodPrefix: "web-"}}
		var found bool
		for _, f := range CheckQuery(q, &s) {
			if f.Rule != UnscopedID {
				continue
			}
			found = true
			if got := strings.Contains(f.Message, "promql.profiles"); got != hedged {
				t.Errorf("%s: points at promql.profiles = %v, want %v: %s", query, got, hedged, f.Message)
			}
		}
		if !found {
			t.Errorf("%s: no promql-unscoped finding", query)
		}
	}
}

func TestCrossNamespace(t *testing.T) {
	cross := func(fragments ...string) policytest.Want { return policytest.Deny(CrossNamespaceID, qf, fragments...) }
	runQueryCases(t, map[string]queryCase{
		"another namespace": {query: `sum(x{namespace="other", pod=~"llm-.*"})`, want: []policytest.Want{cross(
			"selector `x{namespace=\"other\", pod=~\"llm-.*\"}` reads namespace \"other\", not this object's namespace \"serving\"",
			"write `x{namespace=\"serving\", pod=~\"llm-.*\"}`")}},
		"a regex listing another namespace": {query: `sum(x{namespace=~"serving|other", pod="p"})`, want: []policytest.Want{cross(`reads namespace "other"`)}},
		"another namespace and no workload": {query: `sum(x{namespace="other"})`, want: []policytest.Want{
			cross(`reads namespace "other"`, "write `x{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"}`"),
			unscoped("lacks a workload label"),
		}},
		"own namespace": {query: `sum(x{namespace="serving", pod="p"})`},
	})
}

func TestInvalid(t *testing.T) {
	invalid := func(fragments ...string) policytest.Want { return policytest.Deny(InvalidID, qf, fragments...) }
	kthena := func(q *Query) { q.Consumer = Kthena }
	runQueryCases(t, map[string]queryCase{
		"does not parse":                        {query: `sum(vllm:num_requests_waiting{namespace="serving"`, want: []policytest.Want{invalid("does not parse at 1:50: unexpected end of input inside braces, so KEDA never gets a value")}},
		"line and column of a multi-line query": {query: "sum(a{" + ok + "})\n+ sum(b{" + ok + "}", want: []policytest.Want{invalid("does not parse at 2:")}},
		"unknown function":                      {query: `summ(x{` + ok + `})`, want: []policytest.Want{invalid("does not parse at 1:1: unknown function with name \"summ\"")}},
		"empty":                                 {query: "  \n", want: []policytest.Want{invalid("is empty")}},
		"scalar for KEDA":                       {query: `scalar(sum(x{` + ok + `}))`, want: []policytest.Want{invalid("returns a scalar", "instant vector")}},
		"scalar for Kthena":                     {query: `scalar(sum(x{` + ok + `}))`, edit: kthena},
		"a number for KEDA":                     {query: `1`, want: []policytest.Want{invalid("returns a scalar")}},
		"a range vector":                        {query: `x{` + ok + `}[5m]`, want: []policytest.Want{invalid("returns a range vector", "rate()")}},
		"a string":                              {query: `"up"`, want: []policytest.Want{invalid("returns a string")}},
		"experimental functions parse":          {query: `sort_by_label(sum by (pod) (x{namespace="serving", pod="llm-0"}), "pod")`},
	})
}

func TestMetricName(t *testing.T) {
	name := func(fragments ...string) policytest.Want { return policytest.Warn(MetricNameID, qf, fragments...) }
	runQueryCases(t, map[string]queryCase{
		"renamed in V1": {query: `sum(vllm:gpu_cache_usage_perc{` + ok + `})`, want: []policytest.Want{name(
			`vLLM V1 does not expose metric "vllm:gpu_cache_usage_perc"`, "renamed in vLLM 0.9.2", "use `vllm:kv_cache_usage_perc`")}},
		"underscores for colons": {query: `sum(vllm_num_requests_running{` + ok + `})`, want: []policytest.Want{name(
			`"vllm_num_requests_running"`, "its names start with vllm:", "use `vllm:num_requests_running`")}},
		"underscores and a rename": {query: `sum(vllm_gpu_cache_usage_perc{` + ok + `})`, want: []policytest.Want{name("use `vllm:kv_cache_usage_perc`", "renamed")}},
		"a counter without _total": {query: `sum(rate(vllm:generation_tokens{` + ok + `}[1m]))`, want: []policytest.Want{name(
			`"vllm:generation_tokens"`, "counters are exposed with the suffix _total", "use `vllm:generation_tokens_total`")}},
		"a renamed histogram keeps its suffix": {query: `histogram_quantile(0.9, sum by (le) (rate(vllm:time_per_output_token_seconds_bucket{` + ok + `}[5m])))`, edit: valueType,
			want: []policytest.Want{name("use `vllm:inter_token_latency_seconds_bucket`")}},
		"a histogram's bare name": {query: `sum(rate(vllm:time_to_first_token_seconds{` + ok + `}[5m]))`, want: []policytest.Want{name("is a histogram", "use `vllm:time_to_first_token_seconds_bucket`")}},
		"SGLang's own names":      {query: `sum(sglang:num_requests_waiting{` + ok + `})`, want: []policytest.Want{name(`SGLang does not expose`, "use `sglang:num_queue_reqs`")}},
		"a typo":                  {query: `sum(vllm:num_request_waiting{` + ok + `})`, want: []policytest.Want{name("did you mean `vllm:num_requests_waiting`?")}},
		"a router typo":           {query: `sum(kthena_router_active_downstream_request{model="m"})`, want: []policytest.Want{name("the Kthena router does not expose", "did you mean `kthena_router_active_downstream_requests`?")}},
		"an unknown vLLM name":    {query: `sum(vllm:completely_new_gauge{` + ok + `})`, want: []policytest.Want{name("neither vLLM V1 nor the vLLM production-stack router exposes", "no such metric in vllm-project/vllm vllm/v1/metrics/loggers.py, 0.11 to 0.12; vllm-project/production-stack", "promql.extraMetrics")}},
		"an extra name from the settings": {query: `sum(vllm:completely_new_gauge{` + ok + `})`, settings: func(s *policies.PromQLSettings) {
			s.ExtraMetrics = []string{"vllm:completely_new_gauge"}
		}},
		"known names":                              {query: `sum(vllm:num_requests_waiting{` + ok + `}) + sum(sglang:num_queue_reqs{` + ok + `}) + sum(rate(vllm:prompt_tokens_total{` + ok + `}[1m])) + sum(vllm:request_success_created{` + ok + `})`},
		"other exporters are not judged":           {query: `sum(DCGM_FI_DEV_GPU_UTIL{exported_namespace="serving", exported_pod=~"llm-.*"})`},
		"an underscore name vLLM never had":        {query: `sum(vllm_router_requests{` + ok + `})`},
		"recording rules are not judged":           {query: `sum(vllm:num_requests:sum{` + ok + `})`},
		"literal alternatives of a __name__ regex": {query: `sum({__name__=~"vllm:gpu_cache_usage_perc|vllm:kv_cache_usage_perc", ` + ok + `})`, want: []policytest.Want{name(`"vllm:gpu_cache_usage_perc"`)}},
		"once per name": {query: `sum(vllm:gpu_cache_usage_perc{` + ok + `}) / count(vllm:gpu_cache_usage_perc{` + ok + `})`, edit: valueType,
			want: []policytest.Want{name(`"vllm:gpu_cache_usage_perc"`)}},
	})
}

func TestAggregation(t *testing.T) {
	agg := func(fragments ...string) policytest.Want { return policytest.Warn(AggregationID, qf, fragments...) }
	averageValue := func(q *Query) { q.MetricType = autoscalingv2.AverageValueMetricType }
	consumer := func(c Consumer) func(*Query) { return func(q *Query) { q.Consumer = c } }
	runQueryCases(t, map[string]queryCase{
		"avg under KEDA's default": {query: `avg(vllm:num_requests_waiting{` + ok + `})`, want: []policytest.Want{agg(
			"outer avg() returns an average", "metricType AverageValue (KEDA's default) computes desired = ceil(value / threshold)",
			"use sum() to keep a per-replica threshold, or set metricType: Value")}},
		"max under an explicit AverageValue": {query: `max(vllm:kv_cache_usage_perc{` + ok + `})`, edit: averageValue, want: []policytest.Want{agg(
			"outer max() returns one replica's value, but metricType AverageValue computes", "set metricType: Value")}},
		"a latency under AverageValue": {query: `histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{` + ok + `}[2m])))`,
			want: []policytest.Want{agg("outer histogram_quantile() returns a quantile", "set metricType: Value")}},
		"a latency under Value": {query: `histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{` + ok + `}[2m])))`, edit: valueType},
		"sum under Value": {query: `sum(vllm:num_requests_running{` + ok + `})`, edit: valueType, want: []policytest.Want{agg(
			"outer sum() returns a total, but metricType Value computes desired = ceil(replicas × value / threshold), so the HPA adds replicas until the total itself falls to the threshold",
			"a queue the added replicas drain settles there, but a total they do not bring down", "remove metricType: Value")}},
		"count under Value":      {query: `count(vllm:num_requests_running{` + ok + `} > 0)`, edit: valueType, want: []policytest.Want{agg("outer count()")}},
		"sum under AverageValue": {query: `sum(vllm:num_requests_running{` + ok + `})`},
		"a ratio of totals": {query: `sum(rate(vllm:prefix_cache_hits_total{` + ok + `}[5m])) / sum(rate(vllm:prefix_cache_queries_total{` + ok + `}[5m]))`,
			want: []policytest.Want{agg("outer / returns a ratio")}},
		"a ratio under Value":        {query: `sum(rate(vllm:prefix_cache_hits_total{` + ok + `}[5m])) / sum(rate(vllm:prefix_cache_queries_total{` + ok + `}[5m]))`, edit: valueType},
		"a sum of sums":              {query: `sum(rate(vllm:prompt_tokens_total{` + ok + `}[2m])) + sum(rate(vllm:generation_tokens_total{` + ok + `}[2m]))`},
		"a total scaled by a number": {query: `2 * sum(x{` + ok + `}) / 1000`},
		"no aggregation": {query: `vllm:num_requests_running{` + ok + `}`, want: []policytest.Want{agg(
			"has no outer aggregation", `KEDA fails with "returned multiple elements"`, "wrap it in sum(...)")}},
		"rate without aggregation":              {query: `rate(vllm:prompt_tokens_total{` + ok + `}[1m])`, want: []policytest.Want{agg("has no outer aggregation")}},
		"one pod":                               {query: `vllm:num_requests_running{namespace="serving", pod="llm-0"}`},
		"a fallback is not the outer operation": {query: `avg(x{` + ok + `}) or vector(0)`, want: []policytest.Want{agg("outer avg()")}},
		"a comparison filter":                   {query: `avg(x{` + ok + `}) > 3`, want: []policytest.Want{agg("outer avg()")}},
		"a function around the aggregation":     {query: `clamp_min(avg(x{` + ok + `}), 0)`, want: []policytest.Want{agg("outer avg()")}},
		"over time of a total":                  {query: `max_over_time(sum(x{` + ok + `})[5m:])`},
		"composite triggers are not judged":     {query: `avg(x{` + ok + `})`, edit: func(q *Query) { q.Composite = true }},
		"KServe ignores target.type": {query: `avg(vllm:num_requests_running{` + ok + `})`, edit: consumer(KServe), want: []policytest.Want{agg(
			"the trigger KServe generates has no metricType, so KEDA's AverageValue computes desired = ceil(value / threshold) whatever target.type says", "use sum()")}},
		"a latency through KServe": {query: `histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{` + ok + `}[2m])))`, edit: consumer(KServe),
			want: []policytest.Want{agg("use autoscalerClass: external and your own ScaledObject with metricType: Value")}},
		"Kthena divides by targetValue": {query: `avg(x{` + ok + `})`, edit: consumer(Kthena), want: []policytest.Want{agg("Kthena computes desired = ceil(value / targetValue)")}},
		"Kthena needs one value":        {query: `x{` + ok + `}`, edit: consumer(Kthena), want: []policytest.Want{agg(`Kthena's autoscaler fails with "prometheus query must return a single sample vector"`)}},
		// by and without return one series per group unless equality
		// matchers pin every grouping label.
		"sum by pod": {query: `sum by (pod) (vllm:num_requests_waiting{` + ok + `})`, want: []policytest.Want{agg(
			"outer sum by (pod) returns one series per pod", `KEDA fails with "returned multiple elements" as soon as there are two`,
			"drop pod from the grouping, or pin it with an equality matcher in every selector")}},
		"sum by pod for Kthena": {query: `sum by (pod) (vllm:num_requests_waiting{` + ok + `})`, edit: consumer(Kthena), want: []policytest.Want{agg(
			"outer sum by (pod) returns one series per pod", `Kthena's autoscaler fails with "prometheus query must return a single sample vector"`)}},
		"sum without": {query: `sum without (instance) (vllm:num_requests_waiting{` + ok + `})`, want: []policytest.Want{agg(
			"outer sum without (instance) returns one series per combination of the labels it keeps", "drop the grouping")}},
		"avg by pod under Value":                      {query: `avg by (pod, model_name) (vllm:kv_cache_usage_perc{` + ok + `})`, edit: valueType, want: []policytest.Want{agg("outer avg by (pod, model_name) returns one series per pod and model_name")}},
		"grouping labels pinned by equality":          {query: `sum by (namespace, model_name) (vllm:num_requests_waiting{namespace="serving", model_name="m"})`},
		"grouping labels pinned in one selector only": {query: `sum by (model_name) (a{namespace="serving", model_name="m"} + b{` + ok + `})`, want: []policytest.Want{agg("one series per model_name")}},
		"by () is a total":                            {query: `sum by () (vllm:num_requests_waiting{` + ok + `})`},
		"le is consumed by histogram_quantile":        {query: `histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{` + ok + `}[2m])))`, edit: valueType},
		"le and pod under histogram_quantile": {query: `histogram_quantile(0.95, sum by (le, pod) (rate(vllm:time_to_first_token_seconds_bucket{` + ok + `}[2m])))`, edit: valueType,
			want: []policytest.Want{agg("outer histogram_quantile of sum by (le, pod) returns one series per pod")}},
		"sum by le outside histogram_quantile": {query: `sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{` + ok + `}[2m]))`, want: []policytest.Want{agg("one series per le")}},
		"a grouped ratio":                      {query: `sum by (pod) (rate(a{` + ok + `}[1m])) / sum by (pod) (rate(b{` + ok + `}[1m]))`, want: []policytest.Want{agg("outer sum by (pod)")}},
		"a grouped aggregation collapsed":      {query: `max(sum by (pod) (vllm:num_requests_running{` + ok + `}))`, edit: valueType},
	})
}
