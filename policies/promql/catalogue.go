package promql

// metricType is how an exporter exposes a metric family.
type metricType int

const (
	gauge metricType = iota
	// counter families are exposed as <name>_total (and <name>_created).
	counter
	// histogram families are exposed as <name>_bucket, _sum, _count (and
	// _created); the base name itself is not a series.
	histogram
)

// emitter is what produces a family's series. It decides which labels can
// name the scaled workload: an engine pod's series carry that pod's
// namespace and name as target labels, a router's or gateway's carry the
// router's, so only the labels the router sets itself (the model, the
// engine it sent to) say which workload a series is about.
type emitter int

const (
	// enginePod: the scaled pods themselves (vLLM, SGLang, Triton).
	enginePod emitter = iota
	// router: a router or gateway in front of the engine pods (the Kthena
	// router, the vLLM production-stack router, the Gateway API Inference
	// Extension's endpoint picker, NVIDIA Dynamo's frontend).
	router
)

// exporter is a family of metric names: the prefix that claims a name for
// it, who emits it, the labels it sets and the names it exposes.
type exporter struct {
	// Name names the exporter in messages.
	Name string
	// Prefix claims a metric name for the exporter; two families may share
	// one (vllm: is the engine's and the production-stack router's).
	Prefix string
	// Source says where the names and labels were read, and at which
	// version.
	Source string
	// Emits says who emits the series.
	Emits emitter
	// Complete: every name the project exposes under Prefix is listed
	// (across the families sharing it), so a name missing from the lists
	// is wrong. Only then does promql-metric-name judge names.
	Complete bool
	// Labels are the labels the exporter sets that name what a series is
	// about (model_name, model, server, the InferencePool's name).
	Labels []string
	// OtherLabels are labels the exporter sets that name no workload
	// (finished_reason, engine): narrowing by them scopes nothing.
	OtherLabels []string
	// MetricLabels, when set, are the Labels each metric carries (by base
	// name) where they differ from metric to metric.
	MetricLabels map[string][]string
	// Metrics are the exposed base names (counters with their _total).
	Metrics map[string]metricType
}

// The catalogue: metric names vLLM V1, SGLang and the Kthena router expose
// (the routers and gateways in front of engines are in routers.go).
var (
	// vLLM's V1 engine, vllm/v1/metrics/loggers.py (PrometheusStatLogger)
	// and vllm/v1/spec_decode/metrics.py, 0.11 to 0.12 and the later
	// additions marked; docs/design/metrics.md for how names are exposed.
	// Most carry the labels model_name (the served model name) and engine.
	vllm = exporter{Name: "vLLM V1", Prefix: "vllm:", Source: "vllm-project/vllm vllm/v1/metrics/loggers.py, 0.11 to 0.12",
		Emits: enginePod, Complete: true, Labels: []string{"model_name"}, OtherLabels: []string{"engine", "finished_reason"}, Metrics: map[string]metricType{
			"vllm:num_requests_running":           gauge,
			"vllm:num_requests_waiting":           gauge,
			"vllm:num_requests_waiting_by_reason": gauge,
			"vllm:kv_cache_usage_perc":            gauge,
			"vllm:engine_sleep_state":             gauge,
			"vllm:cache_config_info":              gauge,
			"vllm:lora_requests_info":             gauge,
			"vllm:engine_healthy":                 gauge,

			"vllm:prefix_cache_queries_total":                    counter,
			"vllm:prefix_cache_hits_total":                       counter,
			"vllm:external_prefix_cache_queries_total":           counter,
			"vllm:external_prefix_cache_hits_total":              counter,
			"vllm:mm_cache_queries_total":                        counter,
			"vllm:mm_cache_hits_total":                           counter,
			"vllm:num_preemptions_total":                         counter,
			"vllm:prompt_tokens_total":                           counter,
			"vllm:generation_tokens_total":                       counter,
			"vllm:request_success_total":                         counter,
			"vllm:corrupted_requests_total":                      counter,
			"vllm:prompt_tokens_by_source_total":                 counter,
			"vllm:prompt_tokens_cached_total":                    counter,
			"vllm:prompt_tokens_recomputed_total":                counter,
			"vllm:spec_decode_num_drafts_total":                  counter,
			"vllm:spec_decode_num_draft_tokens_total":            counter,
			"vllm:spec_decode_num_accepted_tokens_total":         counter,
			"vllm:spec_decode_num_accepted_tokens_per_pos_total": counter,
			"vllm:estimated_flops_per_gpu_total":                 counter,
			"vllm:estimated_read_bytes_per_gpu_total":            counter,
			"vllm:estimated_write_bytes_per_gpu_total":           counter,

			"vllm:request_prompt_tokens":              histogram,
			"vllm:request_generation_tokens":          histogram,
			"vllm:request_max_num_generation_tokens":  histogram,
			"vllm:request_params_max_tokens":          histogram,
			"vllm:request_params_n":                   histogram,
			"vllm:request_prefill_kv_computed_tokens": histogram,
			"vllm:request_num_preemptions":            histogram,
			// A histogram despite the name: exposed as ..._total_bucket etc.
			"vllm:iteration_tokens_total":                histogram,
			"vllm:time_to_first_token_seconds":           histogram,
			"vllm:inter_token_latency_seconds":           histogram,
			"vllm:request_time_per_output_token_seconds": histogram,
			"vllm:e2e_request_latency_seconds":           histogram,
			"vllm:request_queue_time_seconds":            histogram,
			"vllm:request_inference_time_seconds":        histogram,
			"vllm:request_prefill_time_seconds":          histogram,
			"vllm:request_decode_time_seconds":           histogram,
			"vllm:kv_block_lifetime_seconds":             histogram,
			"vllm:kv_block_idle_before_evict_seconds":    histogram,
			"vllm:kv_block_reuse_gap_seconds":            histogram,
		}}

	// SGLang, python/sglang/srt/metrics/collector.py (scheduler and
	// tokenizer collectors, storage and radix-cache collectors); exported
	// with --enable-metrics. Labels include model_name.
	sglang = exporter{Name: "SGLang", Prefix: "sglang:", Source: "sgl-project/sglang python/sglang/srt/metrics/collector.py, main at 00ae9c1 (2026)",
		Emits: enginePod, Complete: true, Labels: []string{"model_name"}, OtherLabels: []string{"finished_reason", "tp_rank", "pp_rank", "dp_rank"}, Metrics: map[string]metricType{
			"sglang:num_running_reqs":                           gauge,
			"sglang:num_used_tokens":                            gauge,
			"sglang:token_usage":                                gauge,
			"sglang:pending_prealloc_token_usage":               gauge,
			"sglang:swa_token_usage":                            gauge,
			"sglang:mamba_usage":                                gauge,
			"sglang:decode_sum_seq_lens":                        gauge,
			"sglang:gen_throughput":                             gauge,
			"sglang:num_queue_reqs":                             gauge,
			"sglang:num_grammar_queue_reqs":                     gauge,
			"sglang:num_running_reqs_offline_batch":             gauge,
			"sglang:cache_hit_rate":                             gauge,
			"sglang:max_total_num_tokens":                       gauge,
			"sglang:spec_accept_length":                         gauge,
			"sglang:spec_accept_rate":                           gauge,
			"sglang:num_retracted_reqs":                         gauge,
			"sglang:num_paused_reqs":                            gauge,
			"sglang:num_prefill_prealloc_queue_reqs":            gauge,
			"sglang:num_prefill_inflight_queue_reqs":            gauge,
			"sglang:num_decode_prealloc_queue_reqs":             gauge,
			"sglang:num_decode_transfer_queue_reqs":             gauge,
			"sglang:kv_transfer_speed_gb_s":                     gauge,
			"sglang:kv_transfer_latency_ms":                     gauge,
			"sglang:kv_transfer_bootstrap_ms":                   gauge,
			"sglang:kv_transfer_alloc_ms":                       gauge,
			"sglang:kv_transfer_total_mb":                       gauge,
			"sglang:utilization":                                gauge,
			"sglang:max_running_requests_under_SLO":             gauge,
			"sglang:engine_startup_time":                        gauge,
			"sglang:engine_load_weights_time":                   gauge,
			"sglang:new_token_ratio":                            gauge,
			"sglang:is_cuda_graph":                              gauge,
			"sglang:num_unique_running_routing_keys":            gauge,
			"sglang:lora_pool_slots_used":                       gauge,
			"sglang:lora_pool_slots_total":                      gauge,
			"sglang:lora_pool_utilization":                      gauge,
			"sglang:routing_key_running_req_count":              gauge,
			"sglang:routing_key_all_req_count":                  gauge,
			"sglang:eplb_gpu_physical_count":                    gauge,
			"sglang:num_retracted_requests_total":               counter,
			"sglang:num_retracted_input_tokens_total":           counter,
			"sglang:num_retracted_output_tokens_total":          counter,
			"sglang:num_bootstrap_failed_reqs_total":            counter,
			"sglang:num_transfer_failed_reqs_total":             counter,
			"sglang:num_prefill_retries_total":                  counter,
			"sglang:num_grammar_cache_hit_total":                counter,
			"sglang:num_grammar_aborted_total":                  counter,
			"sglang:num_grammar_timeout_total":                  counter,
			"sglang:num_grammar_total":                          counter,
			"sglang:cuda_graph_passes_total":                    counter,
			"sglang:realtime_tokens_total":                      counter,
			"sglang:gpu_execution_seconds_total":                counter,
			"sglang:dp_cooperation_realtime_tokens_total":       counter,
			"sglang:dp_cooperation_gpu_execution_seconds_total": counter,
			"sglang:prefill_delayer_outcomes_total":             counter,
			"sglang:prompt_tokens_total":                        counter,
			"sglang:generation_tokens_total":                    counter,
			"sglang:cached_tokens_total":                        counter,
			"sglang:num_requests_total":                         counter,
			"sglang:num_so_requests_total":                      counter,
			"sglang:num_aborted_requests_total":                 counter,
			"sglang:prefetched_tokens_total":                    counter,
			"sglang:backuped_tokens_total":                      counter,
			"sglang:evicted_tokens_total":                       counter,
			"sglang:load_back_tokens_total":                     counter,
			"sglang:queue_time_seconds":                         histogram,
			"sglang:grammar_compilation_time_seconds":           histogram,
			"sglang:grammar_schema_count":                       histogram,
			"sglang:grammar_ebnf_size":                          histogram,
			"sglang:grammar_tree_traversal_time_avg":            histogram,
			"sglang:grammar_tree_traversal_time_max":            histogram,
			"sglang:per_stage_req_latency_seconds":              histogram,
			"sglang:prefill_delayer_wait_forward_passes":        histogram,
			"sglang:prefill_delayer_wait_seconds":               histogram,
			"sglang:time_to_first_token_seconds":                histogram,
			"sglang:inter_token_latency_seconds":                histogram,
			"sglang:e2e_request_latency_seconds":                histogram,
			"sglang:num_retractions":                            histogram,
			"sglang:prompt_tokens_histogram":                    histogram,
			"sglang:generation_tokens_histogram":                histogram,
			"sglang:prefetch_pgs":                               histogram,
			"sglang:backup_pgs":                                 histogram,
			"sglang:prefetch_bandwidth":                         histogram,
			"sglang:backup_bandwidth":                           histogram,
			"sglang:eviction_duration_seconds":                  histogram,
			"sglang:load_back_duration_seconds":                 histogram,
			// A Summary: exposed as _sum and _count like a histogram without buckets.
			"sglang:eplb_balancedness": histogram,
		}}

	// The Kthena router, pkg/kthena-router/metrics/metrics.go (v0.1.0 to
	// v1.0.0 and main). Per-model families carry the label model.
	kthenaRouter = exporter{Name: "the Kthena router", Prefix: "kthena_router_", Source: "volcano-sh/kthena pkg/kthena-router/metrics/metrics.go, v0.1.0 to v1.0.0",
		Emits: router, Complete: true, Labels: []string{"model"}, Metrics: map[string]metricType{
			"kthena_router_requests_total":                          counter,
			"kthena_router_request_duration_seconds":                histogram,
			"kthena_router_request_prefill_duration_seconds":        histogram,
			"kthena_router_request_decode_duration_seconds":         histogram,
			"kthena_router_tokens_total":                            counter,
			"kthena_router_scheduler_plugin_duration_seconds":       histogram,
			"kthena_router_rate_limit_exceeded_total":               counter,
			"kthena_router_active_requests":                         gauge,
			"kthena_router_active_downstream_requests":              gauge,
			"kthena_router_active_upstream_requests":                gauge,
			"kthena_router_fairness_queue_size":                     gauge,
			"kthena_router_fairness_queue_duration_seconds":         histogram,
			"kthena_router_fairness_queue_cancelled_total":          counter,
			"kthena_router_fairness_queue_dequeue_total":            counter,
			"kthena_router_fairness_queue_inflight":                 gauge,
			"kthena_router_fairness_queue_priority_refresh_total":   counter,
			"kthena_router_fairness_queue_heap_rebuild_total":       counter,
			"kthena_router_tokenizer_unsupported_engine_total":      counter,
			"kthena_router_prefix_cache_match_ratio":                histogram,
			"kthena_router_prefix_cache_evictions_total":            counter,
			"kthena_router_prefix_cache_entries":                    gauge,
			"kthena_router_kvcache_aware_match_ratio":               histogram,
			"kthena_router_kvcache_aware_redis_duration_seconds":    histogram,
			"kthena_router_kvcache_aware_tokenize_duration_seconds": histogram,
			"kthena_router_kvcache_aware_errors_total":              counter,
			"kthena_router_session_boost_queue_size":                gauge,
			"kthena_router_session_boost_queue_duration_seconds":    histogram,
			"kthena_router_session_boost_queue_cancelled_total":     counter,
			"kthena_router_session_boost_queue_dequeue_total":       counter,
			"kthena_router_session_boost_queue_inflight":            gauge,
		}}

	exporters = []*exporter{&vllm, &sglang, &kthenaRouter, &vllmRouter,
		&eppPool, &eppObjective, &eppModel, &eppExtension, &llmdScheduler, &dynamoFrontend, &triton}
)

// renamed are names an exporter used to expose (or that guides still
// print), with what to query instead and why.
var renamed = map[string]struct{ to, why string }{
	// vLLM: docs/design/metrics.md and the deprecation comments in loggers.py.
	"vllm:gpu_cache_usage_perc":                 {"vllm:kv_cache_usage_perc", "renamed in vLLM 0.9.2, removed in 0.12"},
	"vllm:gpu_prefix_cache_queries_total":       {"vllm:prefix_cache_queries_total", "renamed in vLLM 0.9, removed since"},
	"vllm:gpu_prefix_cache_hits_total":          {"vllm:prefix_cache_hits_total", "renamed in vLLM 0.9, removed since"},
	"vllm:gpu_prefix_cache_hit_rate":            {"rate(vllm:prefix_cache_hits_total[5m]) / rate(vllm:prefix_cache_queries_total[5m])", "a V0 gauge that V1 dropped"},
	"vllm:cpu_prefix_cache_hit_rate":            {"rate(vllm:prefix_cache_hits_total[5m]) / rate(vllm:prefix_cache_queries_total[5m])", "a V0 gauge that V1 dropped"},
	"vllm:cpu_cache_usage_perc":                 {"vllm:kv_cache_usage_perc", "V1 does not swap to CPU, so the gauge was dropped"},
	"vllm:num_requests_swapped":                 {"vllm:num_requests_waiting", "V1 does not swap to CPU, so the gauge was dropped"},
	"vllm:time_per_output_token_seconds":        {"vllm:inter_token_latency_seconds", "renamed in vLLM 0.11, removed in 0.13"},
	"vllm:time_in_queue_requests":               {"vllm:request_queue_time_seconds", "a V0 duplicate that V1 dropped"},
	"vllm:tokens_total":                         {"vllm:prompt_tokens_total + vllm:generation_tokens_total", "never implemented in V1"},
	"vllm:avg_prompt_throughput_toks_per_s":     {"rate(vllm:prompt_tokens_total[1m])", "a V0 gauge that V1 dropped"},
	"vllm:avg_generation_throughput_toks_per_s": {"rate(vllm:generation_tokens_total[1m])", "a V0 gauge that V1 dropped"},
	// SGLang: docs/references/production_metrics.md and collector.py.
	"sglang:time_per_output_token_seconds": {"sglang:inter_token_latency_seconds", "renamed in SGLang"},
	"sglang:num_requests_waiting":          {"sglang:num_queue_reqs", "SGLang's queue gauge has another name"},
	"sglang:num_requests_running":          {"sglang:num_running_reqs", "SGLang's running gauge has another name"},
	"sglang:kv_cache_usage_perc":           {"sglang:token_usage", "SGLang's KV-cache fraction has another name"},
}
