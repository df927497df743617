package livequery_test

import (
	"os"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
	"github.com/scaleguard/scaleguard/policies/livequery"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

const queryField = "spec.triggers[0].metadata.query"

func judge(t *testing.T, live *policies.Live) []policies.Finding {
	t.Helper()
	b, err := os.ReadFile("testdata/scaledobject.yaml")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := policies.NewEngine(policies.Default).Validate(policies.Request{
		GVK: apis.ScaledObject, Operation: policies.Create, Object: raw,
		View: clusterview.NewManifests(), Live: live,
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []policies.Finding
	for _, f := range res.Findings {
		if f.Rule == livequery.NoSeriesID || f.Rule == livequery.ManySeriesID {
			out = append(out, f)
		}
	}
	return out
}

func TestLiveQueryRules(t *testing.T) {
	const query = `sum(vllm:num_requests_waiting{namespace="serving", pod=~"llama-.*"})`
	const server = "http://127.0.0.1:9090"
	one := func(series int, labels []map[string]string, ignoreNull bool) *policies.Live {
		return &policies.Live{Queries: []policies.LiveQuery{{
			Field: queryField, Query: query, Server: server, Series: series, Labels: labels, IgnoreNullValues: ignoreNull,
		}}}
	}
	for name, c := range map[string]struct {
		live *policies.Live
		want []policytest.Want
	}{
		"no live observation: neither rule runs (webhook, check)": {live: nil},
		"one series": {live: one(1, []map[string]string{{"model": "llama"}}, true)},
		"no series: KEDA reads 0": {
			live: one(0, nil, true),
			want: []policytest.Want{{Rule: livequery.NoSeriesID, Action: policies.Warn, Field: queryField,
				Fragments: []string{"returned no series from " + server, "0 series for `" + query + "`", "reads that as 0", "minReplicaCount"}}},
		},
		"no series with ignoreNullValues false: KEDA errors": {
			live: one(0, nil, false),
			want: []policytest.Want{{Rule: livequery.NoSeriesID, Action: policies.Warn, Field: queryField,
				Fragments: []string{"returned no series", `ignoreNullValues: "false"`, "target may be lost"}}},
		},
		"duplicated series: KEDA fails": {
			live: one(2, []map[string]string{{"pod": "llama-0", "model": "llama"}, {"pod": "llama-1", "model": "llama"}}, true),
			want: []policytest.Want{{Rule: livequery.ManySeriesID, Action: policies.Warn, Field: queryField,
				Fragments: []string{"returned 2 series from " + server, "(they differ in pod)", "returned multiple elements", "sum(" + query + ")", "narrow the matchers on pod"}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			policytest.Expect(t, judge(t, c.live), c.want...)
		})
	}
}

// TestAuditOnlyRulesNeverRunOnAdmission judges through the full admission
// chain, as the webhook and check do: the live rules stay silent.
func TestAuditOnlyRulesNeverRunOnAdmission(t *testing.T) {
	b, err := os.ReadFile("testdata/scaledobject.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := policytest.Admit(t, string(b))
	for _, f := range c.Result.Findings {
		if f.Rule == livequery.NoSeriesID || f.Rule == livequery.ManySeriesID {
			t.Errorf("audit-only rule ran on admission: %s", f)
		}
	}
	for _, r := range policies.Default.Rules() {
		if (r.ID == livequery.NoSeriesID || r.ID == livequery.ManySeriesID) && !r.AuditOnly {
			t.Errorf("%s is not marked audit-only", r.ID)
		}
	}
}

func TestAuditOnlyRuleMustWarn(t *testing.T) {
	reg := policies.NewRegistry()
	r := livequery.Rules()[0]
	r.Action = policies.Deny
	if err := reg.Register(r); err == nil {
		t.Fatal("an audit-only deny rule was registered")
	}
}
