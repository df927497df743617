package promql

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// deployment is the workload of a ScaledObject on a Deployment "engine".
func deployment(q *Query) { q.Workload = Workload{PodPrefix: "engine-"} }

// TestRouterFamilies: metrics a router or gateway emits are scoped by the
// labels that router sets, and a fix never suggests a pod regex for them
// (their pod label is the router's own pod).
func TestRouterFamilies(t *testing.T) {
	runQueryCases(t, map[string]queryCase{
		// vLLM production-stack router.
		"router requests by model":    {query: `sum(rate(vllm:num_incoming_requests_total{namespace="serving", model="llama3"}[1m]))`, edit: deployment},
		"router gauges by engine URL": {query: `sum(vllm:current_qps{namespace="serving", server=~"http://llama3-engine-service.*"})`, edit: deployment},
		"router requests without a workload label: the fix names the model, not a pod": {
			query: `sum(rate(vllm:num_incoming_requests_total{namespace="serving"}[1m]))`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a workload label (one of model, server)",
				"write `vllm:num_incoming_requests_total{namespace=\"serving\", model=\"<model>\"}` with the model name clients request")}},
		"router gauges carry only server: the fix uses it": {
			query: `sum(vllm:current_qps{namespace="serving"})`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a workload label (one of model, server)",
				"write `vllm:current_qps{namespace=\"serving\", server=\"<engine URL>\"}` with the URL the router sends")}},
		"router without namespace is still denied": {query: `sum(rate(vllm:num_incoming_requests_total{model="llama3"}[1m]))`, edit: deployment,
			want: []policytest.Want{unscoped("lacks namespace=\"serving\",", "write `vllm:num_incoming_requests_total{namespace=\"serving\", model=\"llama3\"}`")}},
		"router: its own pod does not scope it": {query: `sum(vllm:current_qps{namespace="serving", pod=~"vllm-router-.*"})`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a workload label (one of model, server)")}},
		"a pool gauge narrowed by the model servers' pods: the fix drops the pod matcher": {
			query: `sum(inference_pool_average_queue_size{namespace="serving", pod=~"engine-.*"})`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a matcher on name",
				"write `inference_pool_average_queue_size{namespace=\"serving\", name=\"<InferencePool>\"}` with the name of the InferencePool that serves this workload (without the pod matcher: these series come from a router")}},
		// A name both the engine and the router expose is the engine's.
		"a name both expose keeps the engine's labels": {query: `sum(vllm:num_requests_waiting{namespace="serving", pod=~"engine-.*"})`, edit: deployment},
		// The router sets server on its own vllm:num_requests_waiting: the
		// catalogue makes it a workload label of that name.
		"a name both expose, narrowed by the router's server label": {
			query: `sum(vllm:num_requests_waiting{namespace="serving", server=~"http://engine.*"})`, edit: deployment},
		"a name both expose: the fix follows the engine, never the router's model": {
			query: `sum(vllm:num_requests_waiting{namespace="serving"})`, edit: func(q *Query) { q.Workload = Workload{PodPrefix: "engine-", ModelName: "m"} },
			want: []policytest.Want{unscoped("write `vllm:num_requests_waiting{namespace=\"serving\", model_name=\"m\"}`")}},

		// The inference extension's endpoint picker (llm-d).
		"pool gauges by pool name": {query: `sum(inference_pool_average_queue_size{namespace="serving", name="qwen-pool"})`, edit: deployment},
		"pool gauges without a name": {query: `sum(inference_pool_average_queue_size{namespace="serving"})`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a matcher on name",
				"write `inference_pool_average_queue_size{namespace=\"serving\", name=\"<InferencePool>\"}` with the name of the InferencePool")}},
		"objective requests by model": {query: `sum(rate(inference_objective_request_total{namespace="serving", model_name="qwen"}[1m]))`, edit: deployment},
		"objective requests without a model: no pod regex": {query: `sum(rate(inference_objective_request_total{namespace="serving"}[1m]))`, edit: deployment,
			want: []policytest.Want{unscoped("write `inference_objective_request_total{namespace=\"serving\", model_name=\"<model>\"}`")}},
		"llm-d scheduler decisions by model": {query: `sum(rate(llm_d_inference_scheduler_disagg_decision_total{namespace="serving", model_name="qwen"}[5m]))`, edit: deployment},

		// NVIDIA Dynamo's frontend: dynamo_namespace is <namespace>-<graph>.
		"dynamo_namespace of this namespace scopes namespace and workload": {
			query: `sum(dynamo_frontend_queued_requests{dynamo_namespace="serving-sglang-agg"})`, edit: deployment},
		"dynamo_namespace of another namespace does not": {
			query: `sum(dynamo_frontend_queued_requests{dynamo_namespace="staging-sglang-agg"})`, edit: deployment,
			want: []policytest.Want{unscoped("lacks namespace=\"serving\",")}},
		"dynamo frontend by model and namespace": {query: `sum(dynamo_frontend_inflight_requests{namespace="serving", model="qwen/qwen3-0.6b"})`, edit: deployment},
		"dynamo frontend unscoped: the fix names the graph deployment": {
			query: `sum(dynamo_frontend_queued_requests)`, edit: deployment,
			want: []policytest.Want{unscoped("lacks namespace=\"serving\" and a workload label (one of dynamo_namespace, model)",
				"write `dynamo_frontend_queued_requests{namespace=\"serving\", dynamo_namespace=\"serving-<DynamoGraphDeployment>\"}` with the name of the DynamoGraphDeployment")}},

		// Triton's series come from the server pods and carry model.
		"Triton by model": {query: `sum(nv_inference_pending_request_count{namespace="serving", model="resnet50"})`, edit: deployment},
		"Triton unscoped: the pod fix holds": {query: `sum(nv_inference_pending_request_count)`, edit: deployment,
			want: []policytest.Want{unscoped("write `nv_inference_pending_request_count{namespace=\"serving\", pod=~\"engine-.*\"}`")}},
	})
}

// TestUnknownLabels: a selector pinned to its namespace and narrowed by a
// label scaleguard cannot place is warned about, naming the label and how
// to declare it; the denial stays for what is certainly unscoped.
func TestUnknownLabels(t *testing.T) {
	warned := func(fragments ...string) policytest.Want { return policytest.Warn(UnscopedID, qf, fragments...) }
	runQueryCases(t, map[string]queryCase{
		"an unknown label within the namespace": {query: `sum(vllm:num_requests_waiting{namespace="serving", endpoint_name=~".*prefill.*"})`, edit: deployment,
			want: []policytest.Want{warned("selector `vllm:num_requests_waiting{namespace=\"serving\", endpoint_name=~\".*prefill.*\"}` is pinned to namespace \"serving\"",
				`narrowed only by "endpoint_name", which no scope profile lists as a workload label`,
				"declare a scope profile for it (settings promql.profiles", "otherwise write `vllm:num_requests_waiting{namespace=\"serving\", endpoint_name=~\".*prefill.*\", pod=~\"engine-.*\"}`")}},
		"an unknown label without the namespace is still denied": {query: `sum(vllm:num_requests_waiting{endpoint_name=~".*prefill.*"})`, edit: deployment,
			want: []policytest.Want{unscoped("lacks namespace=\"serving\", so it reads every matching series in the cluster")}},
		"a label the exporter sets and that names no workload": {query: `sum(rate(vllm:request_success_total{namespace="serving", finished_reason="stop"}[1m]))`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a workload label")}},
		"a histogram's le names no workload": {query: `sum(rate(vllm:e2e_request_latency_seconds_bucket{namespace="serving", le="1"}[1m]))`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a workload label")}},
		"a label that does not narrow": {query: `sum(vllm:num_requests_waiting{namespace="serving", endpoint_name=~".*"})`, edit: deployment,
			want: []policytest.Want{unscoped("lacks a workload label")}},
		"a router profile: the label is declared in that profile": {query: `sum(vllm:current_qps{namespace="serving", release="prod"})`, edit: deployment,
			want: []policytest.Want{warned(`narrowed only by "release"`, `workloadLabels of the settings' scope profile "vllm-router"`)}},
		"a shared router's profile needs no namespace": {query: `sum(kthena_router_active_downstream_requests{route="qwen"})`,
			want: []policytest.Want{warned("is read from the shared kthena-router", `narrowed only by "route"`)}},
		"declared in a profile: scoped": {query: `sum(vllm:num_requests_waiting{namespace="serving", endpoint_name=~".*prefill.*"})`, edit: deployment,
			settings: func(s *policies.PromQLSettings) {
				s.Default.WorkloadLabels = append(s.Default.WorkloadLabels, "endpoint_name")
			}},
		"another namespace stays a cross-namespace denial": {query: `sum(vllm:num_requests_waiting{namespace="other", endpoint_name="p"})`, edit: deployment,
			want: []policytest.Want{policytest.Deny(CrossNamespaceID, qf, `reads namespace "other"`)}},
	})
}

// TestTenancy: behind a tenancy proxy the namespace comes from KEDA's
// namespace metadata, so a selector needs only its workload label.
func TestTenancy(t *testing.T) {
	tenancy := func(q *Query) { deployment(q); q.TenantLabel = "namespace" }
	runQueryCases(t, map[string]queryCase{
		"the proxy pins the namespace": {query: `sum(rate(http_requests_total{job="test-app"}[1m]))`, edit: tenancy},
		"the proxy does not narrow to a workload": {query: `sum(rate(http_requests_total[1m]))`, edit: tenancy,
			want: []policytest.Want{unscoped("lacks a workload label", "write `http_requests_total{namespace=\"serving\", pod=~\"engine-.*\"}`")}},
		"another namespace in the query is still denied": {query: `sum(rate(http_requests_total{namespace="other", job="a"}[1m]))`, edit: tenancy,
			want: []policytest.Want{policytest.Deny(CrossNamespaceID, qf, `reads namespace "other"`)}},
		"the proxy's label is not the profile's": {query: `sum(rate(kepler_container_joules_total{pod_name="engine-0"}[1m]))`, edit: tenancy,
			want: []policytest.Want{unscoped("lacks container_namespace=\"serving\",")}},
		"without the proxy the namespace is needed": {query: `sum(rate(http_requests_total{job="test-app"}[1m]))`, edit: deployment,
			want: []policytest.Want{unscoped("lacks namespace=\"serving\",")}},
	})
}

func TestTenantLabel(t *testing.T) {
	proxies := policies.DefaultPromQLSettings().TenancyProxies
	for _, c := range []struct {
		server, tenant string
		want           string
	}{
		{"https://thanos-querier.openshift-monitoring.svc.cluster.local:9092", "serving", "namespace"},
		{"https://thanos-querier.openshift-monitoring.svc:9092", "serving", "namespace"},
		{"https://thanos-querier.openshift-monitoring:9092", "serving", "namespace"},
		{" https://THANOS-QUERIER.openshift-monitoring.svc.cluster.local:9092/ ", "serving", "namespace"},
		// 9091 is the Querier's port without tenancy.
		{"https://thanos-querier.openshift-monitoring.svc.cluster.local:9091", "serving", ""},
		{"https://thanos-querier.openshift-monitoring.svc.cluster.local", "serving", ""},
		// The namespace KEDA sends must be the object's own.
		{"https://thanos-querier.openshift-monitoring.svc.cluster.local:9092", "other", ""},
		{"https://thanos-querier.openshift-monitoring.svc.cluster.local:9092", "", ""},
		{"https://thanos-querier.other.svc.cluster.local:9092", "serving", ""},
		{"https://thanos-querier.openshift-monitoring.example.com:9092", "serving", ""},
		{"http://prometheus-operated.monitoring.svc:9090", "serving", ""},
		{"::not a url", "serving", ""},
	} {
		if got := tenantLabel(c.server, c.tenant, "serving", proxies); got != c.want {
			t.Errorf("tenantLabel(%q, %q) = %q, want %q", c.server, c.tenant, got, c.want)
		}
	}
	custom := []policies.TenancyProxy{{Host: "prom-label-proxy.monitoring", Port: 8080, Label: "tenant"}}
	if got := tenantLabel("http://prom-label-proxy.monitoring.svc:8080", "serving", "serving", custom); got != "tenant" {
		t.Errorf("a configured prom-label-proxy enforces %q, want tenant", got)
	}
}

// TestMetricNamesOnlyWhereKnown: promql-metric-name judges a name only
// inside a family catalogued completely; names of the production-stack
// router are known, and gateways' names are not judged.
func TestMetricNamesOnlyWhereKnown(t *testing.T) {
	name := func(fragments ...string) policytest.Want { return policytest.Warn(MetricNameID, qf, fragments...) }
	const scoped = `namespace="serving", model="m"`
	runQueryCases(t, map[string]queryCase{
		"the router's requests counter": {query: `sum(rate(vllm:num_incoming_requests_total{` + scoped + `}[1m]))`},
		"the router's own queue gauge":  {query: `sum(vllm:num_requests_swapped{namespace="serving", server="http://e:8000"})`},
		"the router's V0-era hit rate":  {query: `avg(vllm:gpu_prefix_cache_hit_rate{namespace="serving", server="http://e:8000"})`, edit: valueType},
		"the router's counter without _total": {query: `sum(rate(vllm:num_incoming_requests{` + scoped + `}[1m]))`,
			want: []policytest.Want{name(`the vLLM production-stack router does not expose metric "vllm:num_incoming_requests"`, "use `vllm:num_incoming_requests_total`")}},
		"a name in neither vLLM list": {query: `sum(vllm:num_request_waiting{` + scoped + `})`,
			want: []policytest.Want{name(`"vllm:num_request_waiting"`, "did you mean `vllm:num_requests_waiting`")}},
		"a name in neither vLLM list, not close to any": {query: `sum(vllm:completely_new_gauge{` + scoped + `})`,
			want: []policytest.Want{name(`neither vLLM V1 nor the vLLM production-stack router exposes metric "vllm:completely_new_gauge"`)}},
		"a gateway name the catalogue does not list": {query: `sum(inference_pool_per_pod_queue_size{namespace="serving", name="p"})`},
		"a Dynamo name the catalogue does not list":  {query: `sum(dynamo_frontend_model_migration_total{namespace="serving", model="m"})`},
		"a Triton name the catalogue does not list":  {query: `sum(nv_inference_compute_infer_duration_us{namespace="serving", model="m"})`},
		"other exporters are not judged":             {query: `sum(http_requests_total{namespace="serving", job="a"})`},
	})
}

// TestCatalogueCitesSources: every family says where its names were read
// and at which version, and records the labels that name a workload.
func TestCatalogueCitesSources(t *testing.T) {
	for _, e := range exporters {
		if e.Source == "" || !strings.Contains(e.Source, "/") || !strings.Contains(e.Source, ",") {
			t.Errorf("%s: source %q must name the repository, the file and the version", e.Name, e.Source)
		}
		if len(e.Labels) == 0 {
			t.Errorf("%s: no labels recorded", e.Name)
		}
	}
}

// TestRouterFixesNeverSuggestAPodRegex: for every metric a router emits,
// the fix of an unscoped selector uses a label the router sets on that
// metric, never the pod name (the router's own pod).
func TestRouterFixesNeverSuggestAPodRegex(t *testing.T) {
	s := policies.DefaultPromQLSettings()
	for _, e := range exporters {
		if e.Emits != router {
			continue
		}
		for name, typ := range e.Metrics {
			series := name
			if typ == histogram {
				series += "_bucket"
			}
			if exposed[series] != e {
				continue // the engine's too: scoped as the engine's
			}
			q := Query{Text: "sum(" + series + ")", Field: field.NewPath("q"), Namespace: "serving", Consumer: KEDA,
				Workload: Workload{PodPrefix: "engine-"}}
			fs := CheckQuery(q, &s)
			found := false
			for _, f := range fs {
				if f.Rule != UnscopedID {
					continue
				}
				found = true
				fix := f.Message[strings.Index(f.Message, "; write "):]
				if strings.Contains(fix, "pod=~") || strings.Contains(fix, "engine-") {
					t.Errorf("%s: the fix suggests the pod: %s", series, f.Message)
				}
				if !carriesAny(series, e) {
					t.Errorf("%s: no label of %s is carried", series, e.Name)
				}
			}
			if !found {
				t.Errorf("%s: an unscoped selector is not reported", series)
			}
		}
	}
}

func carriesAny(metric string, e *exporter) bool {
	for _, l := range e.Labels {
		if carries(metric, l) {
			return true
		}
	}
	return false
}

// TestProfilesByName: an exact name wins over prefixes, and a histogram's
// or counter's series follow its base name.
func TestProfilesByName(t *testing.T) {
	s := policies.DefaultPromQLSettings()
	for metric, profile := range map[string]string{
		"vllm:current_qps":                            "vllm-router",
		"vllm:num_incoming_requests_total":            "vllm-router",
		"vllm:request_latency_seconds_bucket":         "vllm-router",
		"vllm:num_requests_waiting":                   "workload",
		"vllm:current_qps_total_of_something":         "workload",
		"inference_pool_average_queue_size":           "inference-pool",
		"inference_objective_request_total":           "inference-objective",
		"inference_model_request_total":               "inference-model",
		"inference_extension_flow_control_queue_size": "inference-extension",
		"llm_d_inference_scheduler_pd_decision_total": "llm-d-inference-scheduler",
		"dynamo_frontend_queued_requests":             "dynamo-frontend",
		"nv_inference_pending_request_count":          "workload",
	} {
		if got := s.ProfileFor(metric).Name; got != profile {
			t.Errorf("profile of %q is %q, want %q", metric, got, profile)
		}
	}
}

func TestSettingsValidateProfilesAndProxies(t *testing.T) {
	if err := policies.ValidateSettings(policies.DefaultSettings(), policies.Default); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	s := policies.DefaultSettings()
	s.PromQL.Default.Metrics = []string{"x"}
	s.PromQL.Profiles = append(s.PromQL.Profiles,
		policies.ScopeProfile{Name: "again", Metrics: []string{"vllm:current_qps", "not a name"}, WorkloadLabels: []string{"server"}},
		policies.ScopeProfile{Name: "graph", MetricPrefix: "graph_", WorkloadLabels: []string{"graph"}, NamespacedLabels: []string{"dynamo_namespace"}})
	s.PromQL.TenancyProxies = append(s.PromQL.TenancyProxies,
		policies.TenancyProxy{Host: "https://thanos:9092", Port: 9092}, policies.TenancyProxy{Host: "proxy.monitoring", Port: 0, Label: "bad-label"})
	err := policies.ValidateSettings(s, policies.Default)
	if err == nil {
		t.Fatal("invalid settings validated")
	}
	n := len(s.PromQL.Profiles)
	for _, frag := range []string{
		"promql.default.metrics: must be empty",
		fmt.Sprintf(`promql.profiles[%d].metrics[0]: "vllm:current_qps" is named by another profile`, n-2),
		fmt.Sprintf(`promql.profiles[%d].metrics[1]: "not a name" is not a metric name`, n-2),
		fmt.Sprintf(`promql.profiles[%d].namespacedLabels[0]: "dynamo_namespace" is not one of the workload labels`, n-1),
		`promql.tenancyProxies[1].host: "https://thanos:9092" is not a host name`,
		`promql.tenancyProxies[2].port: 0 is not a port`,
		`promql.tenancyProxies[2].label: "bad-label" is not a label name`,
	} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q lacks %q", err, frag)
		}
	}
}
