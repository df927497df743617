package promql

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// An aggregation by labels returns one series per group, which KEDA
// ("returned multiple elements") and Kthena ("must return a single sample
// vector") refuse, unless every grouping label is pinned to one value.

// unwrap strips parentheses.
func unwrap(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// grouped reports whether an aggregation returns one series per group:
// "without" always does (it keeps every label but the listed), "by" when
// some grouping label, other than those consumed by the caller, is not
// pinned to one value by an equality matcher in every selector aggregated.
func grouped(a *parser.AggregateExpr, consumed []string) (outer, bool) {
	if !a.Without && len(a.Grouping) == 0 {
		return outer{}, false
	}
	var free []string
	if !a.Without {
		sels := selectors(a.Expr, "")
		for _, l := range a.Grouping {
			if !has(consumed, l) && !pinnedBy(sels, l) {
				free = append(free, l)
			}
		}
		if len(free) == 0 {
			return outer{}, false
		}
	}
	kind := "by"
	if a.Without {
		kind = "without"
	}
	return outer{shape: perGroup, op: a.Op.String() + " " + kind + " (" + strings.Join(a.Grouping, ", ") + ")", free: free}, true
}

// pinnedBy reports whether every selector pins label to one value (an
// equality, or a regex matching one literal).
func pinnedBy(sels []selector, label string) bool {
	if len(sels) == 0 {
		return false
	}
	for _, s := range sels {
		one := false
		for _, m := range s.vs.LabelMatchers {
			if m == nil || m.Name != label {
				continue
			}
			switch m.Type {
			case labels.MatchEqual:
				one = one || m.Value != ""
			case labels.MatchRegexp:
				set := m.SetMatches()
				one = one || (len(set) == 1 && set[0] != "")
			}
		}
		if !one {
			return false
		}
	}
	return true
}
