package promql

import (
	"errors"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// Consumer is who evaluates a query and turns its value into replicas.
type Consumer int

// Consumers of queries.
const (
	// KEDA is a ScaledObject's prometheus trigger.
	KEDA Consumer = iota
	// KServe is an InferenceService external metric: KServe generates a
	// KEDA trigger from it, without a metricType.
	KServe
	// Kthena is an AutoscalingPolicy's prometheus metric source: desired =
	// ceil(value / targetValue), like KEDA's AverageValue.
	Kthena
)

// Query is one PromQL query an object carries, with what judging it needs.
type Query struct {
	// Text is the query as written.
	Text string
	// Field is the query's field path.
	Field *field.Path
	// Namespace is the namespace whose load the query must read: the
	// object's, or the namespace of the target it scales.
	Namespace string
	// NamespaceOf says whose namespace Namespace is, for messages ("this
	// object's" when empty).
	NamespaceOf string
	// Consumer evaluates the query.
	Consumer Consumer
	// MetricType is the trigger's metricType as written (KEDA only; empty
	// means KEDA's default, AverageValue).
	MetricType autoscalingv2.MetricTargetType
	// Composite is true when KEDA combines the triggers with a
	// scalingModifiers formula, so no single query meets the HPA math.
	Composite bool
	// Workload is what the object scales, for the fixes messages suggest.
	Workload Workload
	// Limits bound the queries read (the zero value means the defaults).
	Limits policies.LimitSettings
	// TenantLabel, when set, is the label a tenancy proxy in front of
	// Prometheus sets to Namespace on every selector of the query (KEDA
	// sends its namespace metadata, the proxy enforces it).
	TenantLabel string
}

// prom parses with the experimental functions enabled: a query a
// Prometheus with its feature flags on accepts is not refused here.
var prom = parser.NewParser(parser.Options{EnableExperimentalFunctions: true, EnableBinopFillModifiers: true})

// CheckQuery judges one query and returns the findings of every promql-*
// rule about it (Rule set). A query that does not parse yields exactly one
// promql-invalid finding.
func CheckQuery(q Query, s *policies.PromQLSettings) []policies.Finding {
	if strings.TrimSpace(q.Text) == "" {
		return []policies.Finding{deny(InvalidID, q.Field, "is empty; write the PromQL query %s evaluates", consumerName(q.Consumer))}
	}
	// Positions are relative to the field's value as written.
	text := q.Text
	// The bounds run first, on every judgement; the parse is cached
	// (parsecache.go).
	if f, bad := checkLength(text, q.Field, q.Limits); bad {
		return []policies.Finding{f}
	}
	p, cached := parseMeasured(text)
	if f, bad := checkSize(p.size, q.Field, q.Limits); bad {
		return []policies.Finding{f}
	}
	if !cached {
		p = parseAfter(text, p)
	}
	if p.err != nil {
		return []policies.Finding{deny(InvalidID, q.Field, "does not parse at %s, so %s never gets a value; fix the query",
			parseError(p.err, text), consumerName(q.Consumer))}
	}
	expr := p.expr
	if f, bad := checkType(expr, q); bad {
		return []policies.Finding{f}
	}
	sels := p.sels
	var out []policies.Finding
	out = append(out, checkScope(sels, q, s)...)
	out = append(out, checkNames(sels, q, s)...)
	out = append(out, checkAggregation(expr, sels, q)...)
	return out
}

// parseError renders a parse error as "line:column: what".
func parseError(err error, text string) string {
	var errs parser.ParseErrors
	if errors.As(err, &errs) && len(errs) > 0 && errs[0].Err != nil {
		e := errs[0]
		return e.PositionRange.StartPosInput(text, 0) + ": " + e.Err.Error()
	}
	return "?: " + err.Error()
}

// checkType refuses result types the consumer cannot read: KEDA reads an
// instant vector only; Kthena a vector or a scalar.
func checkType(expr parser.Expr, q Query) (policies.Finding, bool) {
	switch t := expr.Type(); t {
	case parser.ValueTypeVector:
		return policies.Finding{}, false
	case parser.ValueTypeScalar:
		if q.Consumer == Kthena {
			return policies.Finding{}, false
		}
		return deny(InvalidID, q.Field, "returns a scalar, and KEDA's prometheus scaler reads only an instant vector; drop the outer scalar() or wrap a number in vector()"), true
	case parser.ValueTypeMatrix:
		return deny(InvalidID, q.Field, "returns a range vector, and %s needs one value per evaluation; wrap the range in rate(), increase() or an *_over_time() function",
			consumerName(q.Consumer)), true
	default:
		return deny(InvalidID, q.Field, "returns a %s, and %s needs a number; query a metric", t, consumerName(q.Consumer)), true
	}
}

// namespaceOwner says whose namespace q.Namespace is.
func (q Query) namespaceOwner() string {
	if q.NamespaceOf == "" {
		return "this object's namespace"
	}
	return q.NamespaceOf
}

func consumerName(c Consumer) string {
	if c == Kthena {
		return "Kthena's autoscaler"
	}
	return "KEDA"
}

// selector is one vector selector of a query.
type selector struct {
	vs *parser.VectorSelector
	// text is the selector as written.
	text string
	// name is its literal metric name, "" when a regex gives it.
	name string
}

// selectors lists every vector selector of expr in query order, walking
// every node: both sides of binary operators, aggregation parameters,
// function arguments, subqueries and matrix selectors. With text empty
// the selectors' text is left empty.
func selectors(expr parser.Expr, text string) []selector {
	var out []selector
	var walk func(n parser.Node)
	walk = func(n parser.Node) {
		switch n := n.(type) {
		case nil:
		case *parser.VectorSelector:
			if n.BypassEmptyMatcherCheck {
				// info()'s second argument filters info-metric labels; it
				// selects no series of its own.
				return
			}
			sel := selector{vs: n, name: metricName(n)}
			if text != "" {
				sel.text = written(text, n)
			}
			out = append(out, sel)
		case *parser.MatrixSelector:
			walk(n.VectorSelector)
		case *parser.SubqueryExpr:
			walk(n.Expr)
		case *parser.AggregateExpr:
			walk(n.Param)
			walk(n.Expr)
		case *parser.BinaryExpr:
			walk(n.LHS)
			walk(n.RHS)
		case *parser.Call:
			for _, a := range n.Args {
				walk(a)
			}
		case *parser.ParenExpr:
			walk(n.Expr)
		case *parser.UnaryExpr:
			walk(n.Expr)
		case *parser.StepInvariantExpr:
			walk(n.Expr)
		case parser.Expressions:
			for _, e := range n {
				walk(e)
			}
		}
		// Number, string and duration literals select nothing.
	}
	walk(expr)
	return out
}

// written is the text of a node as the query spells it.
func written(text string, n parser.Node) string {
	r := n.PositionRange()
	start, end := int(r.Start), int(r.End)
	if start < 0 || end > len(text) || start >= end {
		return n.String()
	}
	return text[start:end]
}

// metricName is a selector's literal metric name: its name, or the value of
// an equality matcher on __name__.
func metricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m != nil && m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

func deny(rule string, path *field.Path, format string, args ...any) policies.Finding {
	f := policies.Denyf(path, format, args...)
	f.Rule = rule
	return f
}

func warn(rule string, path *field.Path, format string, args ...any) policies.Finding {
	f := policies.Warnf(path, format, args...)
	f.Rule = rule
	return f
}

// quoted renders PromQL as written for a message, on one line.
func quoted(s string) string {
	return "`" + strings.Join(strings.Fields(s), " ") + "`"
}

// code renders PromQL scaleguard wrote (a fix) for a message.
func code(s string) string {
	return "`" + s + "`"
}
