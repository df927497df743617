package livequery

import (
	"fmt"
	"sort"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

// Rule IDs of the family.
const (
	NoSeriesID   = "promql-no-series"
	ManySeriesID = "promql-many-series"
)

// kinds are the kinds whose trigger queries the audit evaluates: KEDA's
// ScaledObjects (an InferenceService with autoscalerClass keda is judged
// through the ScaledObject KServe generates for it).
var kinds = []schema.GroupVersionKind{apis.ScaledObject}

// Rules are the live query rules.
func Rules() []policies.Rule {
	return []policies.Rule{{
		ID:        NoSeriesID,
		Kinds:     kinds,
		Action:    policies.Warn,
		AuditOnly: true,
		Summary:   "audit only: the live Prometheus returns no series for a trigger query, so the autoscaler sees 0",
		Doc: "With a Prometheus to ask (`scaleguard audit --prometheus URL`, or the `prometheus.address` setting of serve's audit), " +
			"the audit sends each prometheus trigger's query the way KEDA's prometheus scaler does: an instant query at the current time, " +
			"with the trigger's `namespace`, `queryParameters`, `customHeaders` and the credentials of its TriggerAuthentication when they are readable. " +
			"An empty answer is what a query that parses and is scoped still returns when the metric is not scraped (a monitor port that matches nothing), " +
			"was renamed, or the matchers name a label the series do not carry. KEDA reads it as 0 (`ignoreNullValues` defaults to true) and scales " +
			"toward `minReplicaCount`; with `ignoreNullValues: \"false\"` the scaler errors instead. The finding names the server and the query; " +
			"check the series exist in Prometheus and fix the query or the scrape. Never on admission or in check, which do not reach Prometheus.",
		Check: policies.On(checkNoSeries),
	}, {
		ID:        ManySeriesID,
		Kinds:     kinds,
		Action:    policies.Warn,
		AuditOnly: true,
		Summary:   "audit only: the live Prometheus returns several series for a trigger query, and KEDA's prometheus scaler fails on that",
		Doc: "KEDA's prometheus scaler needs exactly one series: on more it fails with \"prometheus query ... returned multiple elements\", " +
			"the trigger reports an error and the ScaledObject falls back (`spec.fallback`) or stops scaling on that trigger. " +
			"The audit evaluates each trigger query as KEDA does (see promql-no-series) and reports the number of series and the labels in which they differ; " +
			"aggregate the query to one series (`sum(...)`, `max(...)`) or narrow its matchers on those labels.",
		Check: policies.On(checkManySeries),
	}}
}

func init() { policies.MustRegister(Rules()...) }

// checkNoSeries warns about every evaluated trigger query with an empty answer.
func checkNoSeries(_ *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	if in.Live == nil {
		return nil
	}
	var out []policies.Finding
	for _, q := range in.Live.Queries {
		if q.Series != 0 {
			continue
		}
		effect := "KEDA reads that as 0 (ignoreNullValues defaults to true) and scales toward minReplicaCount whatever the load"
		if !q.IgnoreNullValues {
			effect = `with ignoreNullValues: "false" KEDA's scaler errors ("target may be lost"), so the ScaledObject falls back (spec.fallback) or stops scaling on this trigger`
		}
		out = append(out, policies.Finding{Action: policies.Warn, Field: q.Field, Message: fmt.Sprintf(
			"returned no series from %s (0 series for %s): %s; check that the metric is scraped under that name and carries the labels the matchers name, "+
				"then fix the query or the scrape", q.Server, quote(q.Query), effect)})
	}
	return out
}

// checkManySeries warns about every evaluated trigger query whose answer
// holds more than one series.
func checkManySeries(_ *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	if in.Live == nil {
		return nil
	}
	var out []policies.Finding
	for _, q := range in.Live.Queries {
		if q.Series < 2 {
			continue
		}
		differ := differing(q.Labels)
		how := "aggregate it to one series, e.g. sum(" + q.Query + ")"
		where := ""
		if len(differ) > 0 {
			where = fmt.Sprintf(" (they differ in %s)", strings.Join(differ, ", "))
			how += fmt.Sprintf(", or narrow the matchers on %s", strings.Join(differ, ", "))
		}
		out = append(out, policies.Finding{Action: policies.Warn, Field: q.Field, Message: fmt.Sprintf(
			"returned %d series from %s for %s%s, and KEDA's prometheus scaler fails with \"returned multiple elements\", so this trigger errors "+
				"and the ScaledObject falls back (spec.fallback) or stops scaling on it; %s", q.Series, q.Server, quote(q.Query), where, how)})
	}
	return out
}

// differing lists the labels whose values are not the same in every
// series (absent counts as a value).
func differing(sets []map[string]string) []string {
	if len(sets) < 2 {
		return nil
	}
	names := map[string]bool{}
	for _, s := range sets {
		for k := range s {
			names[k] = true
		}
	}
	var out []string
	for k := range names {
		v0, ok0 := sets[0][k]
		for _, s := range sets[1:] {
			if v, ok := s[k]; ok != ok0 || v != v0 {
				out = append(out, k)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// quote shows a query on one line: newlines of a block scalar become
// spaces, and a very long query is cut.
func quote(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	const max = 300
	if len(q) > max {
		q = q[:max] + "…"
	}
	return "`" + q + "`"
}
