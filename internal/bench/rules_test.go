package bench_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// The rule benchmarks judge each bench.Case through the engine, as the
// webhook does, against serve's ClusterView (bench.CacheView) holding a
// bench.Population: SCALEGUARD_BENCH_VIEW objects of each main kind for
// the family breakdown (default 10,000: 10,000 Deployments, 10,000
// ScaledObjects, 2,000 Services, 500 ModelServings), and each of
// SCALEGUARD_BENCH_SIZES for the growth (default 100,1000,10000), spread
// over namespaces of 100 or crowded into the judged object's namespace.
//
//	go test ./internal/bench -run '^$' -bench . -benchmem

// now is the time of every benchmark request.
var now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// view builds a cache view of a population of n (spread when ns is empty)
// and the cases' related objects.
func view(tb testing.TB, ctx context.Context, n int, ns string, cases []bench.Case) *clusterview.Cache {
	tb.Helper()
	objs, err := bench.Population(n, ns)
	if err != nil {
		tb.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range objs {
		seen[key(o)] = true
	}
	for _, c := range cases {
		for _, o := range c.Related {
			if !seen[key(o)] {
				seen[key(o)] = true
				objs = append(objs, o)
			}
		}
	}
	v, err := bench.CacheView(ctx, objs)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// validateLoop checks that req is admitted, then measures its validating
// phase.
func validateLoop(b *testing.B, engine *policies.Engine, req policies.Request) {
	b.Helper()
	if res, err := engine.Validate(req); err != nil || res.Denied() {
		b.Fatalf("want an admitted object, got %v %v", res.Findings, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := engine.Validate(req); err != nil {
			b.Fatal(err)
		}
	}
}

func key(o client.Object) string {
	return fmt.Sprintf("%T/%s/%s", o, o.GetNamespace(), o.GetName())
}

func request(c bench.Case, v policies.ClusterView, s *policies.Settings) policies.Request {
	return policies.Request{GVK: c.GVK, Operation: policies.Create, Object: c.Object, View: v, Settings: s, Now: now, Context: context.Background()}
}

func cases(tb testing.TB) []bench.Case {
	tb.Helper()
	cs, err := bench.Cases()
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

func env(tb testing.TB, name string, def []int) []int {
	tb.Helper()
	v, err := bench.EnvInts(name, def)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// BenchmarkRuleFamilies judges each case's validating phase with every
// rule off ("none": decoding and the engine), with one family on at a
// time, and with every rule ("all"); and the whole admission chain
// (mutating phase, then validating) with every rule ("admit").
func BenchmarkRuleFamilies(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := env(b, "SCALEGUARD_BENCH_VIEW", []int{10000})[0]
	cs := cases(b)
	v := view(b, ctx, n, "", cs)
	engine := policies.NewEngine(policies.Default)
	b.Logf("load average %s", bench.LoadAverage())
	for _, c := range cs {
		sets := []string{"none"}
		sets = append(sets, bench.FamiliesFor(policies.Default, c.GVK)...)
		sets = append(sets, "all", "admit")
		for _, set := range sets {
			var s *policies.Settings
			switch set {
			case "none":
				s = bench.Only(policies.Default)
			case "all", "admit":
				s = policies.DefaultSettings()
			default:
				s = bench.Only(policies.Default, set)
			}
			req := request(c, v, s)
			judge := engine.Validate
			if set == "admit" {
				judge = engine.Admit
			}
			if res, err := judge(req); err != nil || res.Denied() {
				b.Fatalf("%s, %s: want an admitted object, got %v %v", c.Name, set, res.Findings, err)
			}
			b.Run(fmt.Sprintf("%s/view=%d/%s", c.Name, n, set), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := judge(req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRuleGrowth judges each case's validating phase with every rule
// against views of each size, spread over namespaces of 100 and crowded
// into the judged object's namespace: a case whose cost grows with the
// view reads more of it than it needs.
func BenchmarkRuleGrowth(b *testing.B) {
	cs := cases(b)
	engine := policies.NewEngine(policies.Default)
	for _, n := range env(b, "SCALEGUARD_BENCH_SIZES", []int{100, 1000, 10000}) {
		for _, layout := range []string{"spread", "crowded"} {
			for _, c := range cs {
				b.Run(fmt.Sprintf("%s/%s/view=%d", c.Name, layout, n), func(b *testing.B) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					ns := ""
					if layout == "crowded" {
						ns = c.Namespace
					}
					validateLoop(b, engine, request(c, view(b, ctx, n, ns, []bench.Case{c}), policies.DefaultSettings()))
				})
			}
		}
	}
}

// fiveQueries are the five-trigger ScaledObject's queries.
var fiveQueries = []string{
	`histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{namespace="kserve-demo",model_name="opt-125m"}[2m])))`,
	`sum(rate(vllm:prompt_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m])) + sum(rate(vllm:generation_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m]))`,
	`sum(vllm:num_requests_running{namespace="kserve-demo",model_name="opt-125m"})`,
	`max(vllm:kv_cache_usage_perc{namespace="kserve-demo",model_name="opt-125m"})`,
	`sum(kthena_router_active_downstream_requests{model="opt-125m"})`,
}

// BenchmarkFiveTriggerTarget measures the five-trigger ScaledObject's
// validating phase (every rule, the 10,000-object view) call by call,
// alternating with a fixed reference computation, Prometheus's parser
// parsing its five queries: on a shared machine both meet the same load,
// and the ratio of their medians stands for the target (50 µs) wherever
// the reference's own time is known. It reports both medians, their ratio
// and the validating phase's allocations.
func BenchmarkFiveTriggerTarget(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := env(b, "SCALEGUARD_BENCH_VIEW", []int{10000})[0]
	cs := cases(b)
	c := cs[0]
	req := request(c, view(b, ctx, n, "", cs[:1]), policies.DefaultSettings())
	engine := policies.NewEngine(policies.Default)
	if res, err := engine.Validate(req); err != nil || len(res.Findings) != 0 {
		b.Fatalf("want a clean verdict, got %v %v", res.Findings, err)
	}
	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: true, EnableBinopFillModifiers: true})
	reference := func() {
		for _, q := range fiveQueries {
			if _, err := p.ParseExpr(q); err != nil {
				b.Fatal(err)
			}
		}
	}
	validate := func() {
		if _, err := engine.Validate(req); err != nil {
			b.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(200, validate)
	// The thread's CPU time, beside the wall time: on a loaded machine
	// the wall time of a call includes the time other work held the core.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tRef, tVal []time.Duration
	var cpuRef, cpuVal int64
	b.ResetTimer()
	for b.Loop() {
		c0, t0 := bench.ThreadCPU(), time.Now()
		reference()
		c1, t1 := bench.ThreadCPU(), time.Now()
		validate()
		tVal = append(tVal, time.Since(t1))
		cpuVal += bench.ThreadCPU() - c1
		tRef = append(tRef, t1.Sub(t0))
		cpuRef += c1 - c0
	}
	mr, mv := bench.Median(tRef), bench.Median(tVal)
	b.ReportMetric(float64(mr.Nanoseconds()), "parse5-median-ns")
	b.ReportMetric(float64(mv.Nanoseconds()), "validate-median-ns")
	b.ReportMetric(float64(mv)/float64(mr), "validate/parse5")
	b.ReportMetric(float64(cpuRef)/float64(len(tRef)), "parse5-cpu-ns")
	b.ReportMetric(float64(cpuVal)/float64(len(tVal)), "validate-cpu-ns")
	b.ReportMetric(allocs, "validate-allocs")
}

// TestRuleBenchmarksSmoke runs each benchmark's judgement once over a
// small view, so that `make test` keeps the benchmarks working; it
// asserts that every case is admitted, never a time.
func TestRuleBenchmarksSmoke(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := cases(t)
	engine := policies.NewEngine(policies.Default)
	for _, layout := range []string{"spread", "crowded"} {
		for _, c := range cs {
			ns := ""
			if layout == "crowded" {
				ns = c.Namespace
			}
			v := view(t, ctx, 20, ns, []bench.Case{c})
			for _, set := range append([]string{""}, bench.FamiliesFor(policies.Default, c.GVK)...) {
				s := bench.Only(policies.Default, set)
				if set == "" {
					s = policies.DefaultSettings()
				}
				res, err := engine.Admit(request(c, v, s))
				if err != nil || res.Denied() {
					t.Errorf("%s, %s, family %q: want an admitted object, got %v %v", c.Name, layout, set, res.Findings, err)
				}
			}
		}
	}
}

// TestFamiliesCoverEveryRule keeps the family breakdown complete: a rule
// no family claims would go unmeasured.
func TestFamiliesCoverEveryRule(t *testing.T) {
	for _, r := range policies.Default.Rules() {
		if r.AuditOnly {
			continue
		}
		if bench.FamilyOf(r.ID) == "" {
			t.Errorf("rule %q belongs to no family of bench.Families", r.ID)
		}
	}
}

// A PodMonitor reads what its selector may select, not its namespace: in a
// namespace crowded with thousands of workloads it does not select, its
// judgement allocates what it does in a namespace of a few (serve's cache
// finds the candidates through its template-label index). Allocations,
// unlike times, do not depend on the machine's load.
func TestPodMonitorReadsWhatItSelects(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var c bench.Case
	for _, k := range cases(t) {
		if k.Name == "PodMonitor over one release" {
			c = k
		}
	}
	if c.Object == nil {
		t.Fatal("no PodMonitor case")
	}
	engine := policies.NewEngine(policies.Default)
	allocs := map[int]float64{}
	for _, n := range []int{20, 2000} {
		req := request(c, view(t, ctx, n, c.Namespace, []bench.Case{c}), policies.DefaultSettings())
		res, err := engine.Validate(req)
		if err != nil || res.Denied() || len(res.Findings) != 0 {
			t.Fatalf("view of %d: want a clean verdict, got %v %v", n, res.Findings, err)
		}
		allocs[n] = testing.AllocsPerRun(20, func() {
			if _, err := engine.Validate(req); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Logf("allocations per judgement: %v", allocs)
	if allocs[2000] > allocs[20] {
		t.Errorf("judging the PodMonitor among 2,000 workloads of its namespace allocated %v times, among 20 %v: it reads workloads its selector cannot select", allocs[2000], allocs[20])
	}
}

// BenchmarkAutoscalerGrowth judges the cases the conflict rules read the
// autoscaler catalogue for (the ScaledObjects, the InferenceService and
// the HPA) in a namespace that also holds each of SCALEGUARD_BENCH_SIZES
// catalogued autoscalers on other workloads (bench.Autoscalers: AIBrix
// PodAutoscalers and Knative Services), over a spread population of 100.
//
//	SCALEGUARD_BENCH_SIZES=100,1000,10000 go test ./internal/bench -run '^$' -bench AutoscalerGrowth -benchmem
func BenchmarkAutoscalerGrowth(b *testing.B) {
	engine := policies.NewEngine(policies.Default)
	for _, n := range env(b, "SCALEGUARD_BENCH_SIZES", []int{100, 1000, 10000}) {
		for _, c := range cases(b) {
			if c.GVK.Kind == "PodMonitor" || c.GVK.Kind == "ServiceMonitor" || c.GVK.Kind == "ModelServing" {
				continue
			}
			b.Run(fmt.Sprintf("%s/autoscalers=%d", c.Name, n), func(b *testing.B) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				objs, err := bench.Population(100, "")
				if err != nil {
					b.Fatal(err)
				}
				objs = append(objs, c.Related...)
				crowd, err := bench.Autoscalers(n, c.Namespace)
				if err != nil {
					b.Fatal(err)
				}
				v, err := bench.CacheView(ctx, append(objs, crowd...))
				if err != nil {
					b.Fatal(err)
				}
				validateLoop(b, engine, request(c, v, policies.DefaultSettings()))
			})
		}
	}
}
