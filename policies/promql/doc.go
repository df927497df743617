// Package promql holds the PromQL rule family: promql-invalid,
// promql-unscoped, promql-cross-namespace, promql-metric-name,
// promql-aggregation and trigger-inline-secret.
//
// They judge every PromQL query an object hands an autoscaler: a
// ScaledObject's prometheus triggers, an InferenceService's prometheus
// external metrics (KServe turns them into KEDA triggers) and a Kthena
// AutoscalingPolicy's prometheus metric sources. CheckQuery is the query
// checker: it parses a query with the Prometheus parser, walks the whole
// syntax tree and judges each selector against its metric's scope profile
// (policies.PromQLSettings), each metric name against the catalogue of
// vLLM V1, SGLang and Kthena router metrics, and the outer operation
// against the HPA math of the consumer.
package promql
