package promql

// The rules' documentation, rendered into docs/rules.md.

const where = "Queries are read from ScaledObject `spec.triggers[i]` of `type: prometheus` (`metadata.query`), " +
	"InferenceService `spec.{predictor,transformer,explainer}.autoScaling.metrics[i].external.metric` with `backend: prometheus`, " +
	"and Kthena AutoscalingPolicy `metricSources.<metric>.prometheus.query` under `spec.homogeneousTarget.target`, " +
	"`spec.heterogeneousTarget.params[i].target` and `spec.disaggregatedTarget.roles.<role>`. " +
	"Every query is parsed with the Prometheus parser (experimental functions accepted) and its whole syntax tree is walked: " +
	"both sides of binary operators, aggregation parameters, function arguments, subqueries and matrix selectors, with their `offset` and `@` modifiers."

const docInvalid = "A query that does not parse never yields a value, so nothing scales. The message gives the parser's error with its line:column position.\n\n" +
	"Also denied: a query returning a range vector or a string (a scalar too for KEDA, whose prometheus scaler reads only an instant vector: " +
	"`scalar(...)` at the top fails, `sum(...) or vector(0)` is fine); a missing `query` or `serverAddress`; `metricType: Utilization` on a prometheus trigger; " +
	"a `threshold` (required) or `activationThreshold` that KEDA cannot read as a number (it decodes them as JSON numbers: `\"0.5\"` works, `\".5\"` does not), " +
	"a threshold of 0 or less, or one KEDA rounds to 0 (it keeps three decimals); `customHeaders` or `queryParameters` entries that are not `key=value` (entries are not echoed). " +
	"For an InferenceService the threshold is `external.target.value`, which KServe copies verbatim into the trigger (`averageValue` is ignored, so a target with only `averageValue` gets threshold 0). " +
	"For an AutoscalingPolicy the divisor is the `targetValue` of the `spec.metrics` (or role `metrics`) entry named like the source; it must be above 0, and a source without an entry is warned about because Kthena never evaluates it.\n\n" +
	where

const docUnscoped = "A selector without label filters aggregates every model in the cluster: `avg(vllm:num_requests_waiting)` averages all vLLM pods, " +
	"`sum(kthena_router_active_downstream_requests)` counts every model behind the shared router. The workload then scales on someone else's load.\n\n" +
	"Each vector or matrix selector must satisfy its metric's scope profile (settings `promql`):\n\n" +
	"- the default profile (workload-local metrics: `vllm:*`, `sglang:*` and anything no other profile claims) requires `namespace=\"<the object's namespace>\"` " +
	"(a regex counts only when it is that literal name) and a matcher on a workload label: `pod`, `model_name`, `model`, `service`, `deployment`, `job`, " +
	"`modelserving_volcano_sh_name`, `serving_kserve_io_inferenceservice` or `app`;\n" +
	"- the `kthena-router` profile (prefix `kthena_router_`) requires a `model` matcher and no namespace: the router lives in its own namespace.\n\n" +
	"Administrators add profiles for other shared gateways and exporters, change the workload labels, or name another namespace label " +
	"(`namespaceLabel`, e.g. `kubernetes_namespace`) in the settings.\n\n" +
	"A workload matcher is an equality with a non-empty value or a regex that matches neither arbitrary values (`.*`, `.+`, `[^/]+`) nor the empty string " +
	"(which also selects series without the label); `!=` and `!~` never scope. A selector given only by `{__name__=~\"...\"}` uses the default profile; " +
	"a query without selectors (`vector(1)`) has nothing to scope. Recording-rule series (`level:metric:operations`) are judged like any other metric: " +
	"if their level dropped every workload label they cannot be scoped, and scaling on them reads more than this workload.\n\n" +
	"One finding per offending selector, quoting it as written, naming what it lacks and the selector to write, with values taken from the object: " +
	"`modelserving_volcano_sh_name` for a ModelServing, `model_name` (from `--model_name`, else the InferenceService's name) for a KServe predictor's vLLM or SGLang metrics, " +
	"`pod=~\"<workload>-.*\"` otherwise, and `<model>` where the object does not tell the model clients send through the router.\n\n" + where

const docCrossNamespace = "Tenants must not scale on, or read, another namespace's load. Denied: a default-profile selector whose `namespace` matcher names another namespace " +
	"(equality, or a regex listing names), and KEDA's `metadata.namespace` (or an InferenceService metric's `namespace`), which KEDA sends to Prometheus as the tenant " +
	"namespace (Thanos/Cortex tenancy), when it differs from the object's namespace. Selectors of shared-router profiles are exempt: the router's own namespace is where its metrics live."

const docMetricName = "A query naming a metric the server does not expose finds no series; KEDA then reads 0 (`ignoreNullValues` defaults to true) and the workload sits at its minimum. " +
	"Warned, with the right name: names vLLM V1 renamed or dropped (`vllm:gpu_cache_usage_perc` → `vllm:kv_cache_usage_perc`, `vllm:time_per_output_token_seconds` → " +
	"`vllm:inter_token_latency_seconds`, the V0 hit-rate and throughput gauges), `vllm_num_requests_running`-style underscores for vLLM's and SGLang's colon names, " +
	"counters without `_total` (`vllm:generation_tokens` → `vllm:generation_tokens_total`), a histogram's bare name (query `_bucket`, `_sum` or `_count`), " +
	"SGLang's own names (`sglang:num_queue_reqs`, `sglang:token_usage`), and other names under `vllm:`, `sglang:` or `kthena_router_` that the catalogue lacks (with the nearest name when one is close).\n\n" +
	"The catalogue is data (`policies/promql/catalogue.go`), read from vLLM's `vllm/v1/metrics/loggers.py`, SGLang's `python/sglang/srt/metrics/collector.py` and Kthena's " +
	"`pkg/kthena-router/metrics/metrics.go`; add names a newer release exposes to the settings' `promql.extraMetrics`. Names of other exporters are not judged, " +
	"nor recording-rule names (two or more colons)."

const docAggregation = "The outer operation of a query decides how its value becomes replicas. With `AverageValue` (KEDA's default when a trigger sets no `metricType`) " +
	"the HPA computes desired = ceil(value / threshold), independent of the current replica count, so the query must return a total: an outer `avg`, `min`, `max`, `quantile`, " +
	"`histogram_quantile` (a latency) or a ratio of two sums stays near one replica whatever the load; the fix is `sum()` for an average, else `metricType: Value`. " +
	"With `Value` the HPA computes desired = ceil(replicas × value / threshold), so an outer `sum` or `count` is counted once per replica and scaling runs away to `maxReplicaCount`; " +
	"the fix is `AverageValue` or `avg()`.\n\n" +
	"KServe generates its KEDA trigger without a `metricType`, so an InferenceService's external metric is always judged as AverageValue, whatever `target.type` says " +
	"(the KServe docs' `target: {type: Value, value: \"2\"}` scales to ceil(value / 2)); a latency there needs `autoscalerClass: external` and a ScaledObject of your own with `metricType: Value`. " +
	"Kthena computes ceil(value / targetValue) for a prometheus source, like AverageValue.\n\n" +
	"Also warned: a query with no outer aggregation (a bare selector or `rate(...)`), which returns one series per pod; KEDA fails with \"returned multiple elements\" once two pods serve " +
	"(not warned when every selector names one `pod`). Not judged: triggers combined by `spec.advanced.scalingModifiers.formula`, where the HPA sees only the formula's result, " +
	"and outer operations whose effect is unclear (`*` of two vectors, unknown functions). `vector(...)` and `or vector(0)` fallbacks do not count as the outer operation."

const docInlineSecret = "Trigger metadata is stored in plain text and readable by everyone who can read the object. Denied: `customHeaders` carrying `Authorization`, " +
	"`Proxy-Authorization`, `Cookie`, `X-API-Key` or any header named like a token, password, secret or session (or any value starting with `Bearer ` or `Basic `); " +
	"user info in `serverAddress` (`https://user:pass@host`) or credential query parameters in it or in `queryParameters`; metadata keys such as `bearerToken`, `token`, " +
	"`password`, `key`, `apiKey`, `customAuthValue` or `clientSecret` (which KEDA reads only from a TriggerAuthentication, so inline they are also ignored). " +
	"The same applies to an InferenceService metric's `serverAddress` and a Kthena source's `serverURL`.\n\n" +
	"The message names the key and points at `TriggerAuthentication`/`ClusterTriggerAuthentication` (for an InferenceService, `external.authenticationRef`); " +
	"it never echoes the value. Keys ending in `FromEnv`, `URI` or `URL` name where a credential is, not the credential, and are not flagged."
