package promql_test

import (
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/promql"
)

// fiveTriggers is a ScaledObject with five scoped prometheus triggers of
// the shapes the seeds use: a latency quantile, a sum of rates, a gauge
// sum, a KV-cache maximum under Value and the router's per-model count.
const fiveTriggers = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: opt-125m, namespace: kserve-demo}
spec:
  scaleTargetRef: {name: opt-125m-predictor}
  triggers:
    - type: prometheus
      metricType: Value
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        query: histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{namespace="kserve-demo",model_name="opt-125m"}[2m])))
        threshold: "2"
    - type: prometheus
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        query: sum(rate(vllm:prompt_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m])) + sum(rate(vllm:generation_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m]))
        threshold: "100"
    - type: prometheus
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        query: sum(vllm:num_requests_running{namespace="kserve-demo",model_name="opt-125m"})
        threshold: "4"
    - type: prometheus
      metricType: Value
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        query: max(vllm:kv_cache_usage_perc{namespace="kserve-demo",model_name="opt-125m"})
        threshold: "0.8"
        customHeaders: X-Scope-OrgID=kserve-demo
    - type: prometheus
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        query: sum(kthena_router_active_downstream_requests{model="opt-125m"})
        threshold: "10"
`

// benchQueries are the five queries of fiveTriggers; the first and the
// fourth have metricType Value.
var benchQueries = []string{
	`histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{namespace="kserve-demo",model_name="opt-125m"}[2m])))`,
	`sum(rate(vllm:prompt_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m])) + sum(rate(vllm:generation_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m]))`,
	`sum(vllm:num_requests_running{namespace="kserve-demo",model_name="opt-125m"})`,
	`max(vllm:kv_cache_usage_perc{namespace="kserve-demo",model_name="opt-125m"})`,
	`sum(kthena_router_active_downstream_requests{model="opt-125m"})`,
}

// BenchmarkFiveTriggerScaledObject judges the ScaledObject through the
// engine's validating phase with the family on ("promql") and with every
// rule of the family off ("baseline": decoding and the engine alone).
// "interleaved" alternates the two in one loop, so that both see the same
// load on a shared machine, and reports their ratio.
func BenchmarkFiveTriggerScaledObject(b *testing.B) {
	js, err := yaml.YAMLToJSON([]byte(fiveTriggers))
	if err != nil {
		b.Fatal(err)
	}
	engine := policies.NewEngine(policies.Default)
	on := policies.DefaultSettings()
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{}
	for _, id := range []string{promql.InvalidID, promql.UnscopedID, promql.CrossNamespaceID, promql.MetricNameID, promql.AggregationID, promql.InlineSecretID} {
		off.Rules[id] = policies.RuleOverride{Action: policies.Off}
	}
	view := clusterview.NewManifests()
	reqs := map[string]policies.Request{}
	for name, s := range map[string]*policies.Settings{"baseline": off, "promql": on} {
		reqs[name] = policies.Request{GVK: apis.ScaledObject, Operation: policies.Create, Object: js, View: view, Settings: s}
		if res, err := engine.Validate(reqs[name]); err != nil || len(res.Findings) != 0 {
			b.Fatalf("%s: want a clean verdict, got %v %v", name, res.Findings, err)
		}
	}
	validate := func(b *testing.B, name string) func() {
		return func() {
			if _, err := engine.Validate(reqs[name]); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The webhook decodes the object once, before the phase
	// (apis.DecodeExact), and hands the engine the decoded object:
	// "promql-decoded" is the validating phase as the webhook runs it,
	// "decode" the decoding it is given.
	decoded, ok := apis.DecodeExact(apis.ScaledObject, js)
	if !ok {
		b.Fatal("the five-trigger ScaledObject does not decode in one pass")
	}
	pre := reqs["promql"]
	pre.Decoded = decoded
	reqs["promql-decoded"] = pre
	decode := func() {
		if _, ok := apis.DecodeExact(apis.ScaledObject, js); !ok {
			b.Fatal("not decoded")
		}
	}
	for _, name := range []string{"baseline", "promql", "promql-decoded"} {
		b.Run(name, func(b *testing.B) {
			run := validate(b, name)
			b.ReportAllocs()
			for b.Loop() {
				run()
			}
		})
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			decode()
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		interleave(b, "baseline", validate(b, "baseline"), "promql", validate(b, "promql"))
	})
	b.Run("interleaved-decoded", func(b *testing.B) {
		interleave(b, "decode", decode, "promql-decoded", validate(b, "promql-decoded"))
	})
}

// interleave runs base and subject alternately, timing each call, and
// reports the median time of each and the ratio of the medians: on a
// shared machine a stall then hits one sample, not the whole comparison.
func interleave(b *testing.B, baseName string, base func(), subjectName string, subject func()) {
	var tBase, tSubject []time.Duration
	for b.Loop() {
		t0 := time.Now()
		base()
		t1 := time.Now()
		subject()
		tSubject = append(tSubject, time.Since(t1))
		tBase = append(tBase, t1.Sub(t0))
	}
	mb, ms := median(tBase), median(tSubject)
	b.ReportMetric(float64(mb.Nanoseconds()), baseName+"-median-ns/op")
	b.ReportMetric(float64(ms.Nanoseconds()), subjectName+"-median-ns/op")
	b.ReportMetric(float64(ms)/float64(mb), subjectName+"/"+baseName)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkCheckQuery runs the query checker over the five queries
// ("check") against parsing them alone ("parse"), and both alternately
// ("interleaved").
func BenchmarkCheckQuery(b *testing.B) {
	s := policies.DefaultSettings().PromQL
	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: true, EnableBinopFillModifiers: true})
	parse := func() {
		for _, q := range benchQueries {
			if _, err := p.ParseExpr(q); err != nil {
				b.Fatal(err)
			}
		}
	}
	check := func() {
		for i, q := range benchQueries {
			query := promql.Query{Text: q, Namespace: "kserve-demo", Consumer: promql.KEDA, Workload: promql.Workload{ModelName: "opt-125m"}}
			if i == 0 || i == 3 {
				query.MetricType = autoscalingv2.ValueMetricType
			}
			if fs := promql.CheckQuery(query, &s); len(fs) != 0 {
				b.Fatalf("query %d: want no findings, got %v", i, fs)
			}
		}
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			parse()
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			check()
		}
	})
	b.Run("interleaved", func(b *testing.B) { interleave(b, "parse", parse, "check", check) })
}
