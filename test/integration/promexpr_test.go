package integration

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// exported is what /metrics endpoints serve: each family's type and the
// label names of its samples.
type exported map[string]family

type family struct {
	typ    dto.MetricType
	labels map[string]bool
}

func (e exported) add(families map[string]*dto.MetricFamily) {
	for name, f := range families {
		fam := family{typ: f.GetType(), labels: map[string]bool{}}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				fam.labels[l.GetName()] = true
			}
		}
		e[name] = fam
	}
}

// series resolves a selector's metric name to its family and the labels a
// query may use on it: a histogram's _bucket series add le.
func (e exported) series(name string) (map[string]bool, error) {
	if f, ok := e[name]; ok {
		return f.labels, nil
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if f, found := e[base]; ok && found && (f.typ == dto.MetricType_HISTOGRAM || f.typ == dto.MetricType_SUMMARY) {
			out := maps(f.labels)
			if suffix == "_bucket" {
				out["le"] = true
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("metric %s is not exported", name)
}

func maps(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// checkExpr parses expr as a stock Prometheus does and returns every
// metric or label it uses that e does not export, and the labels of its
// result.
func (e exported) checkExpr(expr string) (problems []string, result map[string]bool, err error) {
	parsed, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, nil, err
	}
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			have, err := e.series(selectorName(n))
			if err != nil {
				problems = append(problems, err.Error())
				return nil
			}
			for _, m := range n.LabelMatchers {
				if m.Name != labels.MetricName && !have[m.Name] {
					problems = append(problems, fmt.Sprintf("%s has no label %s", selectorName(n), m.Name))
				}
			}
		case *parser.AggregateExpr:
			inner := e.resultLabels(n.Expr)
			for _, g := range n.Grouping {
				if !inner[g] {
					problems = append(problems, fmt.Sprintf("%s groups by %s, which %s does not carry", n.Op, g, n.Expr))
				}
			}
		case *parser.BinaryExpr:
			if n.VectorMatching != nil {
				for _, l := range append(slices.Clone(n.VectorMatching.MatchingLabels), n.VectorMatching.Include...) {
					if !e.resultLabels(n.LHS)[l] && !e.resultLabels(n.RHS)[l] {
						problems = append(problems, fmt.Sprintf("%s matches on %s, which neither side carries", n.Op, l))
					}
				}
			}
		}
		return nil
	})
	return problems, e.resultLabels(parsed), nil
}

func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName {
			return m.Value
		}
	}
	return ""
}

// resultLabels is the label set of an expression's result, as far as the
// expressions the dashboard and alerts use go.
func (e exported) resultLabels(expr parser.Expr) map[string]bool {
	switch n := expr.(type) {
	case *parser.VectorSelector:
		have, _ := e.series(selectorName(n))
		return maps(have)
	case *parser.MatrixSelector:
		return e.resultLabels(n.VectorSelector)
	case *parser.SubqueryExpr:
		return e.resultLabels(n.Expr)
	case *parser.ParenExpr:
		return e.resultLabels(n.Expr)
	case *parser.AggregateExpr:
		if !n.Without {
			out := map[string]bool{}
			for _, g := range n.Grouping {
				out[g] = true
			}
			return out
		}
		out := e.resultLabels(n.Expr)
		for _, g := range n.Grouping {
			delete(out, g)
		}
		return out
	case *parser.Call:
		switch n.Func.Name {
		case "time", "vector", "scalar":
			return map[string]bool{}
		case "histogram_quantile":
			out := e.resultLabels(n.Args[1])
			delete(out, "le")
			return out
		}
		for _, a := range n.Args {
			if a.Type() == parser.ValueTypeVector || a.Type() == parser.ValueTypeMatrix {
				return e.resultLabels(a)
			}
		}
		return map[string]bool{}
	case *parser.BinaryExpr:
		if n.LHS.Type() == parser.ValueTypeScalar {
			return e.resultLabels(n.RHS)
		}
		return e.resultLabels(n.LHS)
	}
	return map[string]bool{}
}

// templateLabels are the labels an alert annotation ({{ $labels.x }}) or a
// Grafana legend ({{x}}) names.
var (
	alertTemplateLabel  = regexp.MustCompile(`\$labels\.(\w+)`)
	legendTemplateLabel = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)
)
