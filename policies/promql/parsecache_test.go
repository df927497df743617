package promql

import (
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

func TestParseCacheIsBounded(t *testing.T) {
	c := NewParseCache(prom, 8, 64)
	for i := range 100 {
		if _, err := c.Parse(fmt.Sprintf(`up{job="a%d"}`, i)); err != nil {
			t.Fatal(err)
		}
		// Errors are cached too, within the same bound.
		if _, err := c.Parse(fmt.Sprintf(`sum(up{job="b%d"}`, i)); err == nil {
			t.Fatal("an unclosed parenthesis parsed")
		}
		if n := c.Len(); n > 8 {
			t.Fatalf("after %d queries the cache holds %d, over its capacity of 8", 2*(i+1), n)
		}
	}
	// The query in use stays cached while others come and go.
	hot := `sum(rate(vllm:num_requests_waiting{namespace="serving"}[1m]))`
	for i := range 100 {
		if _, err := c.Parse(hot); err != nil {
			t.Fatal(err)
		}
		c.Parse(fmt.Sprintf(`up{job="c%d"}`, i))
	}
	if c.get(hot) == nil {
		t.Error("the query parsed on every round was evicted")
	}
	long := `up{job="` + strings.Repeat("x", 64) + `"}`
	before := c.Len()
	c.Parse(long)
	if c.get(long) != nil || c.Len() > before {
		t.Error("a query longer than the cache's text bound was cached")
	}
}

// TestCachedQueriesMeetTheLimits judges a query once under the default
// limits (caching it), then under lower ones: each lower limit refuses
// it as if it had never been parsed. A query beyond the limits is never
// cached.
func TestCachedQueriesMeetTheLimits(t *testing.T) {
	text := `sum(rate(vllm:num_requests_waiting{namespace="serving", model_name="llm-cached-limits"}[1m])) / sum(up{namespace="serving"})`
	s := policies.DefaultSettings().PromQL
	judge := func(l policies.LimitSettings) []policies.Finding {
		return CheckQuery(Query{Text: text, Field: field.NewPath("q"), Namespace: "serving", Consumer: KEDA, Limits: l,
			Workload: Workload{ModelServing: "llm"}}, &s)
	}
	for _, f := range judge(policies.LimitSettings{}) {
		if f.Rule == InvalidID {
			t.Fatalf("the query is refused under the default limits: %s", f)
		}
	}
	if queries.get(text) == nil {
		t.Fatal("a query judged within the limits was not cached")
	}
	for name, c := range map[string]struct {
		limits policies.LimitSettings
		want   string
	}{
		"length":    {policies.LimitSettings{MaxQueryLength: 20}, "over the limit of 20 (settings limits.maxQueryLength)"},
		"depth":     {policies.LimitSettings{MaxQueryDepth: 1}, "over the limit of 1 (settings limits.maxQueryDepth)"},
		"selectors": {policies.LimitSettings{MaxQuerySelectors: 1}, "over the limit of 1 (settings limits.maxQuerySelectors)"},
	} {
		got := judge(c.limits)
		if len(got) != 1 || got[0].Rule != InvalidID || !strings.Contains(got[0].Message, c.want) {
			t.Errorf("%s: a cached query under a lower limit gave %v, want one %s finding with %q", name, got, InvalidID, c.want)
		}
	}

	deep := strings.Repeat("(", 70) + `up{namespace="serving"}` + strings.Repeat(")", 70)
	CheckQuery(Query{Text: deep, Field: field.NewPath("q"), Namespace: "serving", Consumer: KEDA}, &s)
	if queries.get(deep) != nil {
		t.Error("a query beyond the limits was parsed and cached")
	}
}
