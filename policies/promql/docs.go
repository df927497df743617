package promql

import (
	"fmt"
	"strings"

	"github.com/scaleguard/scaleguard/policies"
)

// The rules' documentation, rendered into docs/rules.md.

const where = "Queries are read from ScaledObject `spec.triggers[i]` of `type: prometheus` (`metadata.query`), " +
	"InferenceService `spec.{predictor,transformer,explainer}.autoScaling.metrics[i].external.metric` with `backend: prometheus`, " +
	"and Kthena AutoscalingPolicy `metricSources.<metric>.prometheus.query` under `spec.homogeneousTarget.target`, " +
	"`spec.heterogeneousTarget.params[i].target` and `spec.disaggregatedTarget.roles.<role>`. " +
	"Every query is parsed with the Prometheus parser (experimental functions accepted) and its whole syntax tree is walked: " +
	"both sides of binary operators, aggregation parameters, function arguments, subqueries and matrix selectors, with their `offset` and `@` modifiers."

// docLimits documents the bounds checked before a query is parsed.
var docLimits = fmt.Sprintf("Also denied, before the query is parsed: a query longer than %d bytes, nesting deeper than %d levels, or holding more than %d selectors "+
	"(settings `limits.maxQueryLength`, `limits.maxQueryDepth`, `limits.maxQuerySelectors`). Prometheus's parser cannot be interrupted and its cost grows with the "+
	"square of the nesting (a query of 60,000 nested parentheses takes seconds of CPU), so a query is first measured in one pass of Prometheus's lexer: "+
	"each open parenthesis (of a group, a function call, an aggregation or a grouping list), unary sign and binary operator on the way to a term counts one level, "+
	"and each metric name or `{...}` outside matchers one selector. The message gives the limit and the size measured. "+
	"The queries KEDA, KServe, Kthena and vLLM production-stack publish are under 300 bytes, nest at most 4 levels and hold at most 2 selectors.",
	defaultLimits.QueryLength(), defaultLimits.QueryDepth(), defaultLimits.QuerySelectors())

var defaultLimits = policies.DefaultSettings().Limits

var docInvalid = "A query that does not parse never yields a value, so nothing scales. The message gives the parser's error with its line:column position.\n\n" +
	"Also denied: a query returning a range vector or a string (a scalar too for KEDA, whose prometheus scaler reads only an instant vector: " +
	"`scalar(...)` at the top fails, `sum(...) or vector(0)` is fine); a missing `query` or `serverAddress`; `metricType: Utilization` on a prometheus trigger; " +
	"a `threshold` (required) or `activationThreshold` that KEDA cannot read as a number (it decodes them as JSON numbers: `\"0.5\"` works, `\".5\"` does not), " +
	"a threshold of 0 or less, or one KEDA rounds to 0 (it keeps three decimals); `customHeaders` or `queryParameters` entries that are not `key=value` (entries are not echoed). " +
	"For an InferenceService the threshold is `external.target.value`, which KServe copies verbatim into the trigger (`averageValue` is ignored, so a target with only `averageValue` gets threshold 0). " +
	"For an AutoscalingPolicy the divisor is the `targetValue` of the `spec.metrics` (or role `metrics`) entry named like the source; it must be above 0, and a source without an entry is warned about because Kthena never evaluates it.\n\n" +
	docLimits + "\n\n" + where

var docUnscoped = "A selector without label filters aggregates every model in the cluster: `avg(vllm:num_requests_waiting)` averages all vLLM pods, " +
	"`sum(kthena_router_active_downstream_requests)` counts every model behind the shared router. The workload then scales on someone else's load.\n\n" +
	"Each vector or matrix selector must satisfy its metric's scope profile (settings `promql`): an equality matcher setting one of the profile's namespace labels " +
	"to the object's namespace (a regex counts only when it is that literal name), and a matcher on one of its workload labels. The built-in profiles:\n\n" +
	profileDocs(policies.DefaultPromQLSettings()) + "\n\n" +
	"Exporters that report other pods' metrics (a GPU's, an Ingress's, a container's energy) label them with that pod's namespace and name, while `namespace` and `pod` " +
	"are the exporter's own target labels; when the scrape does not honor the exporter's labels (`honorLabels: false`, the dcgm-exporter chart's default), " +
	"Prometheus stores the clashing ones as `exported_namespace`, `exported_pod`, `exported_container` and `exported_service`. A fix for such a metric uses the " +
	"label family the selector already writes (else the profile's first), and gives the other family as the alternative with the condition under which it holds. " +
	"A profile naming the metric exactly (`metrics`) wins, then the most specific prefix. Administrators add profiles for other gateways and exporters, or change the labels, in the settings; " +
	"for a metric that neither the metric catalogue nor a profile describes, the fix holds only if the series come from the workload's own pods, " +
	"and the message says so and points at `promql.profiles`.\n\n" +
	"Where a metric comes from decides its labels. Routers and gateways in front of the engine pods emit series of their own, whose `namespace` and `pod` are the router's: " +
	"the vLLM production-stack router (`vllm:current_qps`, `vllm:num_incoming_requests_total`, … labelled by `server`, the engine URL, or `model`), " +
	"the Gateway API Inference Extension's endpoint picker used by llm-d (`inference_pool_*` by the pool's `name`, `inference_objective_*` and `inference_model_*` by `model_name`), " +
	"llm-d's scheduler (`llm_d_inference_scheduler_*` by `model_name`), NVIDIA Dynamo's frontend (`dynamo_frontend_*` by `model` and `dynamo_namespace`) and the Kthena router. " +
	"A fix for them uses the labels that router sets on that metric, never a pod regex (which would select none of their series). " +
	"Names both the engine and the production-stack router expose (`vllm:num_requests_waiting`, `vllm:num_requests_running`) are scoped by either's labels, and fixed as the engine's. " +
	"`dynamo_namespace` is `<namespace>-<DynamoGraphDeployment>`: an equality on it that starts with the object's namespace scopes the namespace too (profile `namespacedLabels`). " +
	"The catalogue (`policies/promql/catalogue.go`, `routers.go`) cites each family's source and version.\n\n" +
	"Tenancy proxies: OpenShift's Thanos Querier tenancy port (`thanos-querier.openshift-monitoring`, 9092) and prom-label-proxy enforce a namespace on every query from KEDA's `namespace` metadata. " +
	"A trigger whose `serverAddress` is one of `promql.tenancyProxies` and whose `namespace` is the object's own is namespace-scoped without a namespace matcher; " +
	"it still needs a workload label. A `namespace` of another namespace is promql-cross-namespace's.\n\n" +
	"Denied: a selector with no namespace scope, and one with nothing narrowing it within the namespace. Warned instead of denied: a selector pinned to its namespace " +
	"and narrowed only by labels no scope profile lists and the catalogue cannot place (say `endpoint_name=~\".*prefill.*\"`): it may select one workload, and the warning names the label " +
	"and how to declare it in a scope profile. Labels scaleguard places and that name no workload do not count: a histogram's `le`, labels an exporter sets such as vLLM's `finished_reason`, " +
	"and for a router's or exporter's profile the scrape target's own labels (`pod`, `service`, `instance`, …).\n\n" +
	"A workload matcher is an equality with a non-empty value or a regex that matches neither arbitrary values (`.*`, `.+`, `[^/]+`) nor the empty string " +
	"(which also selects series without the label); `!=` and `!~` never scope. A selector given only by `{__name__=~\"...\"}` uses the default profile; " +
	"a query without selectors (`vector(1)`) has nothing to scope. Recording-rule series (`level:metric:operations`) are judged like any other metric: " +
	"if their level dropped every workload label they cannot be scoped, and scaling on them reads more than this workload.\n\n" +
	"One finding per offending selector, quoting it as written, naming what it lacks and the selector to write, with values taken from the object: " +
	"`model_name` (from `--model_name`, else the InferenceService's name) for a KServe predictor's vLLM or SGLang metrics; for a ModelServing " +
	"`pod=~\"<modelserving>-[0-9]+-.*\"` (Kthena names its pods `<modelserving>-<group index>-<role>-<role index>-<pod index>`), with " +
	"`modelserving_volcano_sh_name` as the alternative where a PodMonitor copies the pod label `modelserving.volcano.sh/name` (podTargetLabels); " +
	"`pod=~\"<workload>-.*\"` otherwise; and `<model>` where the object does not tell the model clients send through the router.\n\n" + where

const docCrossNamespace = "Tenants must not scale on, or read, another namespace's load. Denied: a selector whose namespace labels (see promql-unscoped's profiles) " +
	"name another namespace (equality, or a regex listing names), and KEDA's `metadata.namespace` (or an InferenceService metric's `namespace`), which KEDA sends to Prometheus as the tenant " +
	"namespace (Thanos/Cortex tenancy), when it differs from the object's namespace (through a tenancy proxy too: the proxy then reads that namespace). Selectors of shared-router profiles are exempt: the router's own namespace is where its metrics live. " +
	"A selector naming an exporter's own namespace beside the workload's (`exported_namespace=\"shop\", namespace=\"gpu-operator\"`) is denied too: drop the exporter's.\n\n" +
	"An AutoscalingPolicy's queries are judged against the namespace of the ModelServing each target scales (`targetRef.namespace`, the policy's when empty): " +
	"this rule does not judge the targetRef itself (the conflict rules judge targets in other namespaces)."

const docMetricName = "A query naming a metric the server does not expose finds no series; KEDA then reads 0 (`ignoreNullValues` defaults to true) and the workload sits at its minimum. " +
	"Warned only where scaleguard knows: inside a prefix whose families the catalogue lists completely (`vllm:` for the vLLM V1 engine and the vLLM production-stack router, `sglang:`, `kthena_router_`), " +
	"a name none of them exposes. With the right name: names vLLM V1 renamed or dropped (`vllm:gpu_cache_usage_perc` → `vllm:kv_cache_usage_perc`, `vllm:time_per_output_token_seconds` → " +
	"`vllm:inter_token_latency_seconds`, the V0 throughput gauges), `vllm_num_requests_running`-style underscores for vLLM's and SGLang's colon names, " +
	"counters without `_total` (`vllm:generation_tokens` → `vllm:generation_tokens_total`), a histogram's bare name (query `_bucket`, `_sum` or `_count`), " +
	"SGLang's own names (`sglang:num_queue_reqs`, `sglang:token_usage`), and other names under those prefixes (with the nearest name when one is close). " +
	"A name the production-stack router exposes is not warned about even where the V1 engine dropped it (`vllm:num_requests_swapped`, `vllm:gpu_prefix_cache_hit_rate`).\n\n" +
	"The catalogue is data (`policies/promql/catalogue.go` and `routers.go`), read from vLLM's `vllm/v1/metrics/loggers.py`, SGLang's `python/sglang/srt/metrics/collector.py`, Kthena's " +
	"`pkg/kthena-router/metrics/metrics.go` and the production-stack router's `src/vllm_router/services/metrics_service/__init__.py`, each family with its version; add names a newer release exposes to the settings' `promql.extraMetrics`. " +
	"Names the catalogue lists only in part (the inference extension's `inference_*`, llm-d's, Dynamo's `dynamo_frontend_*`, Triton's `nv_inference_*`) and names of other exporters are not judged, " +
	"nor recording-rule names (two or more colons)."

const docAggregation = "The outer operation of a query decides how its value becomes replicas. With `AverageValue` (KEDA's default when a trigger sets no `metricType`) " +
	"the HPA computes desired = ceil(value / threshold), independent of the current replica count, so the query must return a total: an outer `avg`, `min`, `max`, `quantile`, " +
	"`histogram_quantile` (a latency) or a ratio of two sums stays near one replica whatever the load; the fix is `sum()` for an average, else `metricType: Value`. " +
	"With `Value` the HPA computes desired = ceil(replicas × value / threshold), so with an outer `sum` or `count` it adds replicas until the total itself falls to the threshold: " +
	"a queue the added replicas drain settles there (the threshold is then a target for the whole workload, not per replica), but a total they do not bring down " +
	"(a request or token rate, requests in flight, a count of pods) multiplies the replicas every sync up to `maxReplicaCount` while above the threshold and drops them to the minimum below it; " +
	"the fix is `AverageValue` or `avg()`.\n\n" +
	"KServe generates its KEDA trigger without a `metricType`, so an InferenceService's external metric is always judged as AverageValue, whatever `target.type` says " +
	"(the KServe docs' `target: {type: Value, value: \"2\"}` scales to ceil(value / 2)); a latency there needs `autoscalerClass: external` and a ScaledObject of your own with `metricType: Value`. " +
	"Kthena computes ceil(value / targetValue) for a prometheus source, like AverageValue.\n\n" +
	"Also warned: a query that returns more than one series, which KEDA refuses (\"returned multiple elements\") and Kthena too (\"prometheus query must return a single sample vector\"): " +
	"no outer aggregation (a bare selector or `rate(...)`, one series per pod; not warned when every selector names one `pod`), and an outer aggregation `by` labels " +
	"the selectors do not all pin with an equality matcher, or `without` (one series per group). `le` is not counted under `histogram_quantile` and the other histogram functions, " +
	"which consume it: `histogram_quantile(0.95, sum by (le) (rate(..._bucket[2m])))` is one series. " +
	"Not judged: triggers combined by `spec.advanced.scalingModifiers.formula`, where the HPA sees only the formula's result, " +
	"and outer operations whose effect is unclear (`*` of two vectors, unknown functions). `vector(...)` and `or vector(0)` fallbacks do not count as the outer operation."

const docInlineSecret = "Trigger metadata is stored in plain text and readable by everyone who can read the object. Judged on every trigger of a ScaledObject, whatever its type: " +
	"keys that hold a credential by name (`bearerToken`, `token`, `password`, `key`, `apiKey`, `customAuthValue`, `clientSecret`, `clientKey`, `accessKey`, `secretKey`, " +
	"`appKey`, `queryKey`, `credentials`, `keytab`, and any key containing token, password, passwd, secret or api key); " +
	"user info (`amqp://user:pass@host`, `https://user:pass@host`) or credential query parameters (`?token=`) in any value that is a URL; " +
	"credentials in connection strings (`user:pass@tcp(host)/db`, `Password=`, `AccountKey=`, libpq's `password=`); " +
	"and `customHeaders` carrying `Authorization`, `Proxy-Authorization`, `Cookie`, `X-API-Key` or any header named like a token, password, secret or session " +
	"(or any value starting with `Bearer ` or `Basic `), or credential `queryParameters`. " +
	"Not flagged: keys ending in `FromEnv` (and GCP's `credentialsFromEnvFile`), which name an environment variable of the scaled container; keys ending in `URI` or `URL`, " +
	"whose values are judged as addresses; Kafka's `saslTokenProvider` (a mechanism); kubernetes-resource's `key` (the entry of a ConfigMap or Secret). " +
	"For prometheus and metrics-api triggers, `bearerToken`, `token`, `password`, `key`, `customAuthValue` and `clientSecret` are read only from a TriggerAuthentication, " +
	"so inline they are also ignored, and the message says so. " +
	"The same address checks apply to an InferenceService metric's `serverAddress` and a Kthena source's `serverURL`.\n\n" +
	"The message names the key and points at `TriggerAuthentication`/`ClusterTriggerAuthentication` (for an InferenceService, `external.authenticationRef`); " +
	"it never echoes the value."

// profileDocs lists scope profiles, one Markdown item each.
func profileDocs(s policies.PromQLSettings) string {
	var items []string
	for _, p := range append([]policies.ScopeProfile{s.Default}, s.Profiles...) {
		item := "- `" + p.Name + "`"
		switch {
		case p.IsDefault():
			item += " (the default: workload-local metrics such as `vllm:*` and `sglang:*`, and anything no other profile claims)"
		case p.MetricPrefix == "":
			item += " (metrics " + codeList(p.Metrics) + ")"
		default:
			item += " (prefix `" + p.MetricPrefix + "`)"
		}
		if p.RequireNamespace {
			item += ": namespace labels " + codeList(p.Namespaces()) + "; workload labels " + codeList(p.WorkloadLabels)
			if len(p.NamespacedLabels) > 0 {
				item += " (" + codeList(p.NamespacedLabels) + " starting with `<namespace>-` scopes the namespace too)"
			}
		} else {
			item += ": workload labels " + codeList(p.WorkloadLabels) + ", no namespace (a component shared by every namespace)"
		}
		items = append(items, item)
	}
	return strings.Join(items, ";\n") + "."
}

func codeList(ls []string) string {
	return "`" + strings.Join(ls, "`, `") + "`"
}
