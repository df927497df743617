package promql

import (
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/scaleguard/scaleguard/policies"
)

// shape is what the outer operation of a query makes of the load.
type shape int

const (
	// unknown: nothing can be said (an unusual operator or function).
	unknown shape = iota
	// constant: no series at all (vector(0), a number, absent()).
	constant
	// perSeries: no aggregation, one value per scraped series.
	perSeries
	// total: a sum or a count over the replicas; grows with the load.
	total
	// level: one value standing for a replica (avg, max, a quantile, a
	// ratio); does not grow with the load the way a total does.
	level
	// perGroup: an aggregation by (or without) labels the selectors do not
	// pin, one series per group.
	perGroup
)

// outer is a query's outer operation and its shape.
type outer struct {
	shape shape
	// op is the operation as a person reads it: "avg", "histogram_quantile", "/".
	op string
	// what says what a level is: "an average", "a quantile", ...
	what string
	// free are the grouping labels of a perGroup aggregation no selector
	// pins; empty for "without", which keeps labels not listed.
	free []string
}

// levelOps say what each level-making aggregation or function returns.
var levelOps = map[string]string{
	"avg": "an average", "min": "one replica's value", "max": "one replica's value",
	"quantile": "a quantile", "stddev": "a spread", "stdvar": "a spread",
	"topk": "single series", "bottomk": "single series", "limitk": "single series", "limit_ratio": "single series",
	"histogram_quantile": "a quantile", "histogram_avg": "an average", "histogram_fraction": "a fraction",
	"histogram_stddev": "a spread", "histogram_stdvar": "a spread",
}

// passThrough functions keep the shape of their first argument.
var passThrough = map[string]bool{
	"abs": true, "ceil": true, "floor": true, "round": true, "exp": true, "ln": true, "log2": true, "log10": true,
	"sqrt": true, "sgn": true, "clamp": true, "clamp_min": true, "clamp_max": true,
	"label_replace": true, "label_join": true, "sort": true, "sort_desc": true,
	"sort_by_label": true, "sort_by_label_desc": true, "scalar": true, "vector": true,
	"histogram_count": true, "histogram_sum": true,
}

// overRange functions turn each series of a range into one value; over a
// subquery they keep the subquery's shape.
var overRange = map[string]bool{
	"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true, "deriv": true,
	"resets": true, "changes": true, "predict_linear": true, "double_exponential_smoothing": true, "holt_winters": true,
	"avg_over_time": true, "min_over_time": true, "max_over_time": true, "sum_over_time": true,
	"count_over_time": true, "quantile_over_time": true, "stddev_over_time": true, "stdvar_over_time": true,
	"last_over_time": true, "first_over_time": true, "mad_over_time": true,
}

// classify finds the outer operation of an expression.
func classify(e parser.Expr) outer {
	switch e := e.(type) {
	case *parser.ParenExpr:
		return classify(e.Expr)
	case *parser.StepInvariantExpr:
		return classify(e.Expr)
	case *parser.UnaryExpr:
		return classify(e.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return outer{shape: constant}
	case *parser.VectorSelector, *parser.MatrixSelector:
		return outer{shape: perSeries}
	case *parser.SubqueryExpr:
		return classify(e.Expr)
	case *parser.AggregateExpr:
		op := e.Op.String()
		if g, ok := grouped(e, nil); ok {
			return g
		}
		switch e.Op {
		case parser.SUM, parser.COUNT:
			return outer{shape: total, op: op}
		case parser.GROUP:
			return outer{shape: constant, op: op}
		}
		if what, ok := levelOps[op]; ok {
			return outer{shape: level, op: op, what: what}
		}
		return outer{op: op}
	case *parser.Call:
		return classifyCall(e)
	case *parser.BinaryExpr:
		return classifyBinary(e)
	}
	return outer{}
}

func classifyCall(c *parser.Call) outer {
	if c.Func == nil {
		return outer{}
	}
	name := c.Func.Name
	switch {
	case strings.HasPrefix(name, "histogram_") && levelOps[name] != "":
		// A classic histogram's buckets are grouped by le, which the
		// function consumes; any other grouping label stays.
		for _, a := range c.Args {
			if agg, ok := unwrap(a).(*parser.AggregateExpr); ok {
				if g, ok := grouped(agg, []string{model.BucketLabel}); ok {
					g.op = name + " of " + g.op
					return g
				}
			}
		}
		return outer{shape: level, op: name, what: levelOps[name]}
	case levelOps[name] != "":
		return outer{shape: level, op: name, what: levelOps[name]}
	case name == "absent" || name == "absent_over_time" || name == "present_over_time" || len(c.Args) == 0:
		return outer{shape: constant, op: name}
	case passThrough[name]:
		return classify(c.Args[0])
	case overRange[name]:
		for _, a := range c.Args {
			if a.Type() == parser.ValueTypeMatrix {
				return classify(a)
			}
		}
	}
	return outer{op: name}
}

func classifyBinary(b *parser.BinaryExpr) outer {
	op := b.Op.String()
	l, r := classify(b.LHS), classify(b.RHS)
	switch {
	case b.Op == parser.LAND || b.Op == parser.LUNLESS:
		return l
	case b.Op == parser.LOR:
		// The right side is a fallback when the left finds nothing.
		if l.shape == constant {
			return r
		}
		return l
	case b.Op.IsComparisonOperator():
		if b.ReturnBool {
			return outer{op: op}
		}
		if l.shape == constant {
			return r
		}
		return l
	}
	// Arithmetic: a number scales a shape without changing it.
	if l.shape == constant {
		return r
	}
	if r.shape == constant {
		return l
	}
	if l.shape == perGroup && r.shape == perGroup {
		// Matched group by group: still one series per group.
		return l
	}
	switch b.Op {
	case parser.DIV:
		if l.shape == level {
			return l
		}
		if l.shape == total && r.shape == total {
			return outer{shape: level, op: op, what: "a ratio"}
		}
	case parser.ADD, parser.SUB:
		if l.shape == r.shape {
			return l
		}
	}
	return outer{op: op}
}

// checkAggregation yields the promql-aggregation warning: the outer
// operation fights the way the consumer turns the value into replicas.
func checkAggregation(expr parser.Expr, sels []selector, q Query) []policies.Finding {
	if q.Composite {
		return nil
	}
	o := classify(expr)
	averageValue := q.Consumer != KEDA || q.MetricType == "" || q.MetricType == autoscalingv2.AverageValueMetricType
	switch {
	case o.shape == perGroup && len(o.free) == 0:
		return []policies.Finding{warn(AggregationID, q.Field,
			"outer %s returns one series per combination of the labels it keeps, and %s; drop the grouping, or group by labels the selectors pin with equality matchers",
			o.op, multiSeries(q.Consumer, "as soon as there are two"))}
	case o.shape == perGroup:
		return []policies.Finding{warn(AggregationID, q.Field,
			"outer %s returns one series per %s, and %s; drop %s from the grouping, or pin it with an equality matcher in every selector",
			o.op, strings.Join(o.free, " and "), multiSeries(q.Consumer, "as soon as there are two"), strings.Join(o.free, ", "))}
	case o.shape == perSeries && !pinned(sels):
		return []policies.Finding{warn(AggregationID, q.Field,
			"has no outer aggregation, so it returns one series per scraped pod, and %s; wrap it in sum(...)", multiSeries(q.Consumer, "as soon as two pods serve"))}
	case o.shape == level && averageValue:
		return []policies.Finding{warn(AggregationID, q.Field, "%s", levelUnderAverage(o, q))}
	case o.shape == total && q.Consumer == KEDA && q.MetricType == autoscalingv2.ValueMetricType:
		return []policies.Finding{warn(AggregationID, q.Field,
			"outer %s() returns a total, but metricType Value computes desired = ceil(replicas × value / threshold), so the HPA adds replicas until the total itself falls to the threshold: "+
				"a queue the added replicas drain settles there, but a total they do not bring down (a request or token rate, requests in flight) multiplies the replicas every sync up to maxReplicaCount while above the threshold and drops them to the minimum below it; "+
				"remove metricType: Value (AverageValue computes ceil(value / threshold), a per-replica threshold) or use avg()",
			o.op)}
	}
	return nil
}

// pinned reports whether every selector names one pod, so that a query
// without aggregation still returns one series.
func pinned(sels []selector) bool {
	if len(sels) == 0 {
		return false
	}
	for _, s := range sels {
		one := false
		for _, m := range s.vs.LabelMatchers {
			if m != nil && m.Name == "pod" && m.Type == labels.MatchEqual && m.Value != "" {
				one = true
			}
		}
		if !one {
			return false
		}
	}
	return true
}

// multiSeries says how the consumer fails on more than one series; when
// says when there are two.
func multiSeries(c Consumer, when string) string {
	if c == Kthena {
		return `Kthena's autoscaler fails with "prometheus query must return a single sample vector" ` + when
	}
	return `KEDA fails with "returned multiple elements" ` + when
}

// levelUnderAverage explains why a level fails under ceil(value /
// threshold) and says what to change for this consumer.
func levelUnderAverage(o outer, q Query) string {
	op := o.op
	if !strings.ContainsAny(op, "/*+-") {
		op += "()"
	}
	var math, fix string
	switch q.Consumer {
	case KEDA:
		math = "metricType AverageValue"
		if q.MetricType == "" {
			math += " (KEDA's default)"
		}
		math += " computes desired = ceil(value / threshold)"
		fix = "set metricType: Value (desired = ceil(replicas × value / threshold))"
		if o.op == "avg" {
			fix = "use sum() to keep a per-replica threshold, or " + fix
		}
	case KServe:
		math = "the trigger KServe generates has no metricType, so KEDA's AverageValue computes desired = ceil(value / threshold) whatever target.type says"
		fix = "scale on a total such as sum(), or use autoscalerClass: external and your own ScaledObject with metricType: Value"
		if o.op == "avg" {
			fix = "use sum() to keep a per-replica target"
		}
	case Kthena:
		math = "Kthena computes desired = ceil(value / targetValue) for a prometheus source"
		fix = "return a total such as sum(...), or scale on a pod metric source"
	}
	return "outer " + op + " returns " + o.what + ", but " + math + ", which stays near one replica whatever the load; " + fix
}
