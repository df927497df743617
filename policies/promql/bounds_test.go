package promql

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// publishedQueries are every query of the fixtures (which reproduce the
// queries KEDA, KServe, Kthena and vLLM production-stack publish, each
// citing its source) and of the examples.
func publishedQueries(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"testdata", "../../examples"} {
		if err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := manifests.Read(files, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "query" {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for _, o := range objs {
		var v any
		if err := json.Unmarshal(o.JSON, &v); err != nil {
			t.Fatal(err)
		}
		walk(v)
	}
	return out
}

// longPublished are the longest queries found published beside the
// fixtures, rewritten here with their shape kept.
var longPublished = []string{
	// fastmachinelearning/SuperSONIC, helm/supersonic/templates/_scaling-metric.tpl
	// (the chart's default server-load metric, rendered for release "triton").
	"sum by (release) (\n    rate(nv_inference_queue_duration_us{release=~\"triton\"}[15s])\n)\n  /\n" +
		"sum by (release) (\n    (rate(nv_inference_exec_count{release=~\"triton\"}[15s]) * 1000) + 0.001\n)",
	// A Rancher-monitoring ScaledObject joining a workload's pods to their
	// owner (kube-prometheus's namespace_workload_pod:kube_pod_owner:relabel).
	`sum(irate(container_network_receive_bytes_total{cluster="",namespace=~"default"}[5m]) * on (namespace,pod) group_left(workload,workload_type) ` +
		`namespace_workload_pod:kube_pod_owner:relabel{cluster="",namespace=~"default", workload=~"adapter-service", workload_type="deployment"})`,
}

// TestPublishedQueriesAreFarWithinTheLimits measures the queries the
// ecosystem publishes against the default limits: each limit is at least
// ten times (depth: eight times) what the largest of them needs.
func TestPublishedQueriesAreFarWithinTheLimits(t *testing.T) {
	l := policies.DefaultSettings().Limits
	qs := append(publishedQueries(t), longPublished...)
	var length, depth, sels int
	for _, q := range qs {
		s := measure(q)
		length, depth, sels = max(length, len(q)), max(depth, s.depth), max(sels, s.selectors)
		if _, bad := checkBounds(q, field.NewPath("q"), l); bad {
			t.Errorf("published query refused: %s", q)
		}
	}
	t.Logf("%d queries: longest %d bytes, deepest %d levels, most selectors %d", len(qs), length, depth, sels)
	if len(qs) < 30 {
		t.Fatalf("only %d queries found in the fixtures", len(qs))
	}
	if length*10 > l.QueryLength() || depth*8 > l.QueryDepth() || sels*10 > l.QuerySelectors() {
		t.Errorf("a default limit is not far above the published queries: length %d/%d, depth %d/%d, selectors %d/%d",
			length, l.QueryLength(), depth, l.QueryDepth(), sels, l.QuerySelectors())
	}
}

func TestMeasure(t *testing.T) {
	cases := map[string]struct {
		query            string
		depth, selectors int
	}{
		"a selector":          {`vllm:num_requests_waiting`, 0, 1},
		"a braced selector":   {`{__name__="vllm:num_requests_waiting", namespace="a"}`, 0, 1},
		"matchers":            {`x{a="(((", b=~"-+-"}`, 0, 1},
		"aggregation":         {`sum by (le) (rate(x{a="b"}[5m]))`, 2, 1},
		"grouping after":      {`sum(rate(x[5m])) by (pod)`, 2, 1},
		"two sides":           {`sum(a) / sum(b)`, 2, 2},
		"a join":              {`a * on(pod) group_left(node) b`, 2, 2},
		"function arguments":  {`label_replace(up, "a", "$1", "b", "(.*)")`, 1, 1},
		"commas reset":        {`clamp(a + b, 1 + 1, 2 - 1)`, 2, 2},
		"subquery":            {`max_over_time(sum(x)[10m:1m])`, 2, 1},
		"offset and at":       {`x offset -5m @ start()`, 3, 1},
		"unary chain":         {`- - - -x`, 4, 1},
		"binary chain":        {`a + b + c + d`, 3, 4},
		"nested parentheses":  {`((((x))))`, 4, 1},
		"comment":             {"x # y z\n+ w", 1, 2},
		"numbers only":        {`1 + 2`, 1, 0},
		"unclosed stops":      {`((((x`, 4, 1},
		"unbalanced stops":    {`x)) + y`, 0, 1},
		"info's label filter": {`info(x, {k="v"})`, 1, 2},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := measure(c.query); got.depth != c.depth || got.selectors != c.selectors {
				t.Errorf("measure(%q) = depth %d, %d selectors; want %d, %d", c.query, got.depth, got.selectors, c.depth, c.selectors)
			}
		})
	}
}

// TestBounds refuses queries beyond each limit with promql-invalid, naming
// the limit and the size measured, before the parser runs; queries within
// them are judged as before.
func TestBounds(t *testing.T) {
	sel := `vllm:num_requests_waiting{` + ok + `}`
	within := "sum(" + sel + ")"
	long := "sum(" + sel + strings.Repeat(" ", 16384) + ")"
	nested := strings.Repeat("(", 60000) + within + strings.Repeat(")", 60000)
	cases := map[string]queryCase{
		"a published query": {query: within},
		"too long": {query: long, want: []policytest.Want{policytest.Deny(InvalidID, qf, fmt.Sprintf(
			"is %d bytes long, over the limit of 16384 (settings limits.maxQueryLength), so it is not parsed", len(long)))}},
		"60,000 nested parentheses": {query: nested, want: []policytest.Want{
			policytest.Deny(InvalidID, qf, fmt.Sprintf("is %d bytes long, over the limit of 16384", len(nested)))}},
		"too deep": {query: strings.Repeat("(", 65) + within + strings.Repeat(")", 65), want: []policytest.Want{policytest.Deny(InvalidID, qf,
			"nests 66 levels deep (parentheses, unary signs and operators), over the limit of 64 (settings limits.maxQueryDepth), so it is not parsed")}},
		"just deep enough": {query: strings.Repeat("(", 63) + within + strings.Repeat(")", 63)},
		"a chain of unary minus signs": {query: strings.Repeat("-", 10000) + within, want: []policytest.Want{policytest.Deny(InvalidID, qf,
			"nests 10001 levels deep")}},
		"a chain of binary operators": {query: within + strings.Repeat(" + 1", 100), want: []policytest.Want{policytest.Deny(InvalidID, qf,
			"nests 100 levels deep")}},
		"unclosed parentheses": {query: strings.Repeat("(", 5000), want: []policytest.Want{policytest.Deny(InvalidID, qf,
			"nests 5000 levels deep")}},
		"too many selectors": {query: "sum(" + strings.Repeat(sel+" or ", 10) + sel + ")" + strings.Repeat(" or sum("+sel+")", 60),
			want: []policytest.Want{policytest.Deny(InvalidID, qf,
				"holds 71 selectors, over the limit of 64 (settings limits.maxQuerySelectors), so it is not parsed")}},
		"a lower limit from the settings": {query: within, edit: func(q *Query) { q.Limits.MaxQueryLength = 20 },
			want: []policytest.Want{policytest.Deny(InvalidID, qf, fmt.Sprintf("is %d bytes long, over the limit of 20", len(within)))}},
		"a higher limit from the settings": {query: strings.Repeat("(", 100) + within + strings.Repeat(")", 100),
			edit: func(q *Query) { q.Limits.MaxQueryDepth = 200 }},
	}
	runQueryCases(t, cases)
}

// TestBoundsRefuseAtOnce times the refusal of the deepest query the length
// limit lets through against the check of a published query, in the same
// run: the pass before the parser costs what lexing costs, linear in the
// length, where parsing the same query would take its square.
func TestBoundsRefuseAtOnce(t *testing.T) {
	s := policies.DefaultSettings().PromQL
	q := func(text string) Query {
		return Query{Text: text, Field: field.NewPath("q"), Namespace: "serving", Consumer: KEDA, Workload: Workload{ModelServing: "llm"}}
	}
	fastest := func(text string) time.Duration {
		best := time.Duration(1 << 62)
		for range 20 {
			start := time.Now()
			CheckQuery(q(text), &s)
			best = min(best, time.Since(start))
		}
		return best
	}
	published := fastest(longPublished[0])
	deep := strings.Repeat("(", 8000) + "x" + strings.Repeat(")", 8000) // 16001 bytes
	refused := fastest(deep)
	nested := fastest(strings.Repeat("(", 60000) + "x" + strings.Repeat(")", 60000))
	start := time.Now()
	_, _ = prom.ParseExpr(deep)
	parse := time.Since(start)
	t.Logf("published query checked in %v; 16 KB nesting refused in %v (parsing it: %v); 120 KB nesting refused in %v", published, refused, parse, nested)
	if refused > 200*published {
		t.Errorf("refusing a 16 KB nested query took %v, over 200 times the %v a published query takes", refused, published)
	}
	if nested > refused {
		t.Errorf("a query over the length limit took %v to refuse, more than lexing 16 KB (%v)", nested, refused)
	}
	if parse < 4*refused {
		t.Errorf("parsing the nested query took %v, refusing it %v: the bound saves little", parse, refused)
	}
}
