package promql

import (
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// The family's stable rule IDs.
const (
	InvalidID        = "promql-invalid"
	UnscopedID       = "promql-unscoped"
	CrossNamespaceID = "promql-cross-namespace"
	MetricNameID     = "promql-metric-name"
	AggregationID    = "promql-aggregation"
	InlineSecretID   = "trigger-inline-secret"
)

// kinds are the objects that carry PromQL. AutoscalingPolicyBinding (Kthena
// v0.2 to v0.4) has none: its metrics came from pods.
var kinds = []schema.GroupVersionKind{apis.ScaledObject, apis.InferenceService, apis.AutoscalingPolicy}

func init() {
	policies.MustRegister(
		rule(InvalidID, policies.Deny,
			"a PromQL query does not parse or returns what the autoscaler cannot read, or a threshold is not a positive number",
			docInvalid),
		rule(UnscopedID, policies.Deny,
			"a selector of a prometheus trigger, KServe external metric or Kthena prometheus source is not scoped to the object's namespace and workload",
			docUnscoped),
		rule(CrossNamespaceID, policies.Deny,
			"a selector (or KEDA's namespace metadata) reads another namespace's metrics",
			docCrossNamespace),
		rule(MetricNameID, policies.Warn,
			"a query names a metric under vllm:, sglang: or kthena_router_ that none of the catalogued emitters (vLLM V1, the production-stack router, SGLang, the Kthena router) exposes",
			docMetricName),
		rule(AggregationID, policies.Warn,
			"the query's outer aggregation fights the way its value becomes replicas (metricType AverageValue or Value)",
			docAggregation),
		rule(InlineSecretID, policies.Deny,
			"credentials written inline in trigger metadata, a custom header or a server address instead of a TriggerAuthentication",
			docInlineSecret),
	)
}

func rule(id string, action policies.Action, summary, doc string) policies.Rule {
	return policies.Rule{
		ID: id, Kinds: kinds, Action: action, Summary: summary, Doc: doc,
		Check: func(in *policies.Input) []policies.Finding {
			// The family's rules share one analysis of the object.
			// trigger-inline-secret reads no query: when it is the only
			// rule of the family on, it analyzes without parsing them;
			// otherwise it takes its findings from the shared analysis,
			// which holds the same ones.
			queries := id != InlineSecretID || queryRulesOn(in.Settings)
			all := in.Memo(analysisKey{queries}, func() any { return analyze(in, queries) }).([]policies.Finding)
			return only(id, all)
		},
	}
}

// queryRulesOn reports whether a rule of the family that reads queries is
// on.
func queryRulesOn(s *policies.Settings) bool {
	for _, id := range []string{InvalidID, UnscopedID, CrossNamespaceID, MetricNameID, AggregationID} {
		if s.Enforcement(id) != policies.Off {
			return true
		}
	}
	return false
}

// analysisKey keys the family's shared analysis in Input.Memo.
type analysisKey struct{ queries bool }

// analyze judges every query (when queries is true), threshold and
// credential of an object and returns the findings of all the family's
// rules.
func analyze(in *policies.Input, queries bool) []policies.Finding {
	check := func(q Query) []policies.Finding {
		// Parsing is the family's costly step: past the request's
		// deadline, stop (the engine discards the judgement).
		if !queries || in.Expired() {
			return nil
		}
		q.Limits = in.Settings.Limits
		return CheckQuery(q, &in.Settings.PromQL)
	}
	switch o := in.Object.(type) {
	case *kedav1alpha1.ScaledObject:
		return analyzeScaledObject(o, in, check)
	case *kservev1beta1.InferenceService:
		return analyzeInferenceService(o, in, check)
	case *kthenav1alpha1.AutoscalingPolicy:
		return analyzeAutoscalingPolicy(o, in, check)
	}
	return nil
}

// checker judges one query.
type checker func(Query) []policies.Finding

// only keeps the findings of one rule.
func only(id string, fs []policies.Finding) []policies.Finding {
	var out []policies.Finding
	for _, f := range fs {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}
