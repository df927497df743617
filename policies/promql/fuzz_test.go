package promql

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// FuzzCheckQuery feeds arbitrary text to the query checker: it never
// panics, a query the parser refuses yields exactly one promql-invalid
// denial, a query it accepts never yields a parse error, and the verdict
// is the same every time.
func FuzzCheckQuery(f *testing.F) {
	for _, seed := range []string{
		`avg(vllm:num_requests_waiting)`,
		`sum(kthena_router_active_downstream_requests)`,
		`vllm:num_requests_running`,
		`histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{namespace="kserve-demo",model_name="opt-125m"}[2m])))`,
		`sum(rate(vllm:prompt_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m])) + sum(rate(vllm:generation_tokens_total{namespace="kserve-demo",model_name="opt-125m"}[2m]))`,
		`sum(vllm:num_requests_waiting{namespace="serving", pod=~"raw-vllm-.*"})`,
		`max_over_time(sum(x offset 5m @ 1700000000)[10m:1m]) or vector(0)`,
		`{__name__=~"vllm:.*", namespace=~"a|b"}`,
		`scalar(sum(x))`, `x[5m]`, `"s"`, ``, `sum(`, `1 + `, `-(2)`,
		"sum(a)\n+ sum(b",
	} {
		f.Add(seed)
	}
	settings := policies.DefaultSettings().PromQL
	path := field.NewPath("spec", "triggers").Index(0).Child("metadata", "query")
	f.Fuzz(func(t *testing.T, text string) {
		q := Query{Text: text, Field: path, Namespace: "serving", Consumer: KEDA, Workload: Workload{ModelServing: "llm", PodPrefix: "llm-"}}
		got := CheckQuery(q, &settings)
		_, err := prom.ParseExpr(text)
		refused := err != nil || strings.TrimSpace(text) == ""
		if refused {
			if len(got) != 1 || got[0].Rule != InvalidID || got[0].Action != policies.Deny {
				t.Fatalf("query %q (parse error %v): want one promql-invalid denial, got %v", text, err, got)
			}
		}
		for _, f := range got {
			if !refused && strings.HasPrefix(f.Message, "does not parse") {
				t.Fatalf("query %q parses, yet: %s", text, f)
			}
			if f.Field != path.String() {
				t.Fatalf("query %q: finding on %q, want %q", text, f.Field, path)
			}
			switch f.Rule {
			case InvalidID, UnscopedID, CrossNamespaceID, MetricNameID, AggregationID:
			default:
				t.Fatalf("query %q: unexpected rule in %s", text, f)
			}
		}
		if again := CheckQuery(q, &settings); !reflect.DeepEqual(got, again) {
			t.Fatalf("query %q: verdicts differ:\n%v\n%v", text, got, again)
		}
	})
}
