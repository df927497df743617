package promql

// The routers and gateways in front of engine pods, and engines beside
// vLLM and SGLang. Their series are emitted by a component that is not the
// scaled workload (or, for Triton, by the workload with labels of its
// own), so their scope profiles (settings promql.profiles) and the fixes
// scaleguard suggests follow the labels listed here, read from each
// project's source at the version cited.
var (
	// The vLLM production-stack router, src/vllm_router/services/
	// metrics_service/__init__.py (gauges set per engine URL in
	// src/vllm_router/routers/metrics_router.py) and
	// src/vllm_router/experimental/semantic_cache_integration.py,
	// vllm-stack-0.1.12. It shares the vllm: prefix with the engine, and also
	// exports vllm:num_requests_running, vllm:num_requests_waiting,
	// vllm:num_requests_swapped and vllm:gpu_prefix_cache_* per engine URL:
	// those stay with the engine's scope profile.
	vllmRouter = exporter{
		Name: "the vLLM production-stack router", Prefix: "vllm:", Emits: router, Complete: true,
		Source: "vllm-project/production-stack src/vllm_router/services/metrics_service/__init__.py, vllm-stack-0.1.12",
		Labels: []string{"model", "server"}, OtherLabels: []string{"error_type", "status"},
		// The gauges are set per engine URL only (routers/metrics_router.py).
		MetricLabels: map[string][]string{
			"vllm:num_requests_running":           {"server"},
			"vllm:num_requests_waiting":           {"server"},
			"vllm:num_requests_swapped":           {"server"},
			"vllm:gpu_prefix_cache_hit_rate":      {"server"},
			"vllm:gpu_prefix_cache_hits_total":    {"server"},
			"vllm:gpu_prefix_cache_queries_total": {"server"},
			"vllm:current_qps":                    {"server"},
			"vllm:avg_decoding_length":            {"server"},
			"vllm:num_prefill_requests":           {"server"},
			"vllm:num_decoding_requests":          {"server"},
			"vllm:healthy_pods_total":             {"server"},
			"vllm:avg_latency":                    {"server"},
			"vllm:avg_itl":                        {"server"},
			"vllm:semantic_cache_hits":            {"server"},
			"vllm:semantic_cache_misses":          {"server"},
			"vllm:semantic_cache_hit_ratio":       {"server"},
			"vllm:semantic_cache_size":            {"server"},
			"vllm:semantic_cache_latency":         {"server"},
			"vllm:num_incoming_requests_total":    {"model"},
			"vllm:input_tokens_total":             {"server", "model"},
			"vllm:output_tokens_total":            {"server", "model"},
			"vllm:request_errors_total":           {"server", "model"},
			"vllm:request_latency_seconds":        {"server", "model"},
		},
		Metrics: map[string]metricType{
			"vllm:num_requests_running":           gauge,
			"vllm:num_requests_waiting":           gauge,
			"vllm:num_requests_swapped":           gauge,
			"vllm:gpu_prefix_cache_hit_rate":      gauge,
			"vllm:gpu_prefix_cache_hits_total":    gauge,
			"vllm:gpu_prefix_cache_queries_total": gauge,
			"vllm:current_qps":                    gauge,
			"vllm:avg_decoding_length":            gauge,
			"vllm:num_prefill_requests":           gauge,
			"vllm:num_decoding_requests":          gauge,
			"vllm:healthy_pods_total":             gauge,
			"vllm:avg_latency":                    gauge,
			"vllm:avg_itl":                        gauge,
			"vllm:num_incoming_requests_total":    counter,
			"vllm:input_tokens_total":             counter,
			"vllm:output_tokens_total":            counter,
			"vllm:request_errors_total":           counter,
			"vllm:request_latency_seconds":        histogram,
			"vllm:semantic_cache_hits":            gauge,
			"vllm:semantic_cache_misses":          gauge,
			"vllm:semantic_cache_hit_ratio":       gauge,
			"vllm:semantic_cache_size":            gauge,
			"vllm:semantic_cache_latency":         gauge,
		}}

	// The Gateway API Inference Extension's endpoint picker (EPP; llm-d's
	// inference scheduler embeds it), pkg/epp/metrics/metrics.go, v1.0.0 to
	// v1.5.0 (kubernetes-sigs/gateway-api-inference-extension) and
	// llm-d/llm-d-inference-scheduler v0.8.0. Listed, not complete: names
	// are added release by release, so unknown ones are not judged.
	eppPool = exporter{
		Name: "the inference extension's endpoint picker", Prefix: "inference_pool_", Emits: router,
		Source: "kubernetes-sigs/gateway-api-inference-extension pkg/epp/metrics/metrics.go, v1.0.0 to v1.5.0",
		Labels: []string{"name"},
		Metrics: map[string]metricType{
			"inference_pool_average_kv_cache_utilization": gauge,
			"inference_pool_average_queue_size":           gauge,
			"inference_pool_average_running_requests":     gauge,
			"inference_pool_ready_pods":                   gauge,
		}}
	eppObjective = exporter{
		Name: "the inference extension's endpoint picker", Prefix: "inference_objective_", Emits: router,
		Source: "kubernetes-sigs/gateway-api-inference-extension pkg/epp/metrics/metrics.go, v1.1.0 to v1.5.0",
		Labels: []string{"model_name", "target_model_name"}, OtherLabels: []string{"priority", "error_code", "type"},
		MetricLabels: map[string][]string{"inference_objective_running_requests": {"model_name"}},
		Metrics: map[string]metricType{
			"inference_objective_request_total":                            counter,
			"inference_objective_request_error_total":                      counter,
			"inference_objective_request_duration_seconds":                 histogram,
			"inference_objective_request_sizes":                            histogram,
			"inference_objective_response_sizes":                           histogram,
			"inference_objective_input_tokens":                             histogram,
			"inference_objective_output_tokens":                            histogram,
			"inference_objective_running_requests":                         gauge,
			"inference_objective_normalized_time_per_output_token_seconds": histogram,
		}}
	// The same metrics before v1.1.0 renamed InferenceModel to
	// InferenceObjective.
	eppModel = exporter{
		Name: "the inference extension's endpoint picker", Prefix: "inference_model_", Emits: router,
		Source: "kubernetes-sigs/gateway-api-inference-extension pkg/epp/metrics/metrics.go, v0.3.0 to v1.0.0",
		Labels: []string{"model_name", "target_model_name"}, OtherLabels: []string{"error_code"},
		MetricLabels: map[string][]string{"inference_model_running_requests": {"model_name"}},
		Metrics: map[string]metricType{
			"inference_model_request_total":            counter,
			"inference_model_request_error_total":      counter,
			"inference_model_request_duration_seconds": histogram,
			"inference_model_running_requests":         gauge,
		}}
	eppExtension = exporter{
		Name: "the inference extension's endpoint picker", Prefix: "inference_extension_", Emits: router,
		Source: "kubernetes-sigs/gateway-api-inference-extension pkg/epp/metrics/metrics.go, v1.5.0",
		Labels: []string{"inference_pool", "model_name", "target_model_name"},
		OtherLabels: []string{"status", "pod_name", "port", "fairness_id", "priority", "outcome",
			"extension_point", "plugin_type", "plugin_name", "commit", "build_ref"},
		Metrics: map[string]metricType{
			"inference_extension_flow_control_queue_size":      gauge,
			"inference_extension_flow_control_pool_saturation": gauge,
			"inference_extension_scheduler_attempts_total":     counter,
		}}
	// llm-d's inference scheduler, pkg/metrics/metrics.go, v0.8.0.
	llmdScheduler = exporter{
		Name: "llm-d's inference scheduler", Prefix: "llm_d_inference_scheduler_", Emits: router,
		Source: "llm-d/llm-d-inference-scheduler pkg/metrics/metrics.go, v0.8.0",
		Labels: []string{"model_name"}, OtherLabels: []string{"decision_type", "source_type", "extractor_type"},
		Metrics: map[string]metricType{
			"llm_d_inference_scheduler_pd_decision_total":     counter,
			"llm_d_inference_scheduler_disagg_decision_total": counter,
		}}

	// NVIDIA Dynamo's HTTP frontend, lib/runtime/src/metrics/
	// prometheus_names.rs (frontend_service) and lib/llm/src/http/service/
	// metrics.rs, main of 2026. Requests are labelled by model; the
	// operator's monitors add dynamo_namespace (<namespace>-<graph
	// deployment>, ComputeDynamoNamespace in deploy/operator).
	dynamoFrontend = exporter{
		Name: "NVIDIA Dynamo's frontend", Prefix: "dynamo_frontend_", Emits: router,
		Source: "ai-dynamo/dynamo lib/runtime/src/metrics/prometheus_names.rs and lib/llm/src/http/service/metrics.rs, main (2026)",
		Labels: []string{"dynamo_namespace", "model"},
		OtherLabels: []string{"dynamo_component", "dynamo_endpoint", "status", "request_type", "error_type",
			"worker_id", "dp_rank", "worker_type", "migration_type", "operation"},
		Metrics: map[string]metricType{
			"dynamo_frontend_requests_total":              counter,
			"dynamo_frontend_queued_requests":             gauge,
			"dynamo_frontend_inflight_requests":           gauge,
			"dynamo_frontend_disconnected_clients":        gauge,
			"dynamo_frontend_request_duration_seconds":    histogram,
			"dynamo_frontend_input_sequence_tokens":       histogram,
			"dynamo_frontend_output_sequence_tokens":      histogram,
			"dynamo_frontend_output_tokens_total":         counter,
			"dynamo_frontend_time_to_first_token_seconds": histogram,
			"dynamo_frontend_inter_token_latency_seconds": histogram,
		}}

	// Triton Inference Server, triton-inference-server/core src/metrics.cc
	// and src/metric_model_reporter.cc: per-model families labelled model
	// and version, emitted by the server pods themselves. prometheus-cpp
	// exposes its counters under the name given, without _total, so every
	// name is listed as exposed.
	triton = exporter{
		Name: "Triton Inference Server", Prefix: "nv_inference_", Emits: enginePod,
		Source: "triton-inference-server/core src/metrics.cc and src/metric_model_reporter.cc, r23 and later",
		Labels: []string{"model"}, OtherLabels: []string{"version"},
		Metrics: map[string]metricType{
			"nv_inference_request_success":       gauge,
			"nv_inference_request_failure":       gauge,
			"nv_inference_count":                 gauge,
			"nv_inference_exec_count":            gauge,
			"nv_inference_request_duration_us":   gauge,
			"nv_inference_queue_duration_us":     gauge,
			"nv_inference_pending_request_count": gauge,
		}}
)
