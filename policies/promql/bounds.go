package promql

import (
	"github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// Prometheus's parser cannot be interrupted, and its cost grows with the
// square of a query's nesting: 4,000 nested parentheses, unary minus signs
// or chained binary operators take tens of milliseconds, 16,000 half a
// second, 60,000 more than ten seconds. So a query is measured first, in
// one pass of Prometheus's own lexer (linear in its length), and refused
// by promql-invalid when it is longer, deeper or holds more selectors than
// the settings' limits allow. The parser then only ever sees queries whose
// parse is short.

// querySize is what the lexer pass measures of a query.
type querySize struct {
	// depth bounds the depth of the parsed expression from above: open
	// parentheses, plus the unary and binary operators met at each open
	// level (since its last comma).
	depth int
	// selectors counts the vector selectors: metric names not followed by
	// "(" outside matchers and grouping lists, and "{" not following one.
	selectors int
}

// measure lexes text and returns its shape. The pass stops at the first
// token the lexer refuses (the parser then reports the error, having read
// no further than the part measured).
func measure(text string) querySize {
	type level struct {
		// ops are the operators at this level since its last comma.
		ops int
		// labels is a grouping list (by, without, on, ignoring,
		// group_left, group_right): it holds label names, not selectors.
		labels bool
	}
	var (
		s        querySize
		stack    = []level{{}}
		depth    int  // len(stack)-1 plus the ops of every level.
		grouping bool // the last token opens a grouping list when "(" follows.
		braces   bool // inside a selector's matchers.
		name     bool // the last token is a name that may be a selector or a function.
		named    bool // the last token was a name counted as a selector.
	)
	top := func() *level { return &stack[len(stack)-1] }
	lex := parser.Lex(text)
	var it parser.Item
	for {
		lex.NextItem(&it)
		if it.Typ == parser.COMMENT {
			continue
		}
		// A name is a function when "(" follows, a selector otherwise.
		named = false
		if name {
			name = false
			if it.Typ != parser.LEFT_PAREN {
				s.selectors++
				named = true
			}
		}
		if it.Typ == parser.EOF || it.Typ == parser.ERROR {
			return s
		}
		if braces {
			if it.Typ == parser.RIGHT_BRACE {
				braces = false
			}
			continue
		}
		openList := grouping
		grouping = false
		switch t := it.Typ; {
		case t == parser.LEFT_BRACE:
			if !named {
				s.selectors++
			}
			braces = true
		case t == parser.LEFT_PAREN:
			stack = append(stack, level{labels: openList})
			depth++
		case t == parser.RIGHT_PAREN:
			if len(stack) == 1 {
				return s // unbalanced: the parser says where.
			}
			depth -= 1 + top().ops
			stack = stack[:len(stack)-1]
		case t == parser.IDENTIFIER || t == parser.METRIC_IDENTIFIER:
			if !top().labels {
				name = true
			}
		case t.IsOperator() || t == parser.EQL:
			// A unary sign or a binary operator: either is one more
			// level on the way to the terms after it.
			top().ops++
			depth++
		case t == parser.COMMA:
			depth -= top().ops
			top().ops = 0
		case t == parser.BY || t == parser.WITHOUT || t == parser.ON || t == parser.IGNORING ||
			t == parser.GROUP_LEFT || t == parser.GROUP_RIGHT:
			grouping = true
		}
		if depth > s.depth {
			s.depth = depth
		}
	}
}

// checkBounds refuses a query beyond the limits before it is parsed.
func checkBounds(text string, path *field.Path, l policies.LimitSettings) (policies.Finding, bool) {
	if f, bad := checkLength(text, path, l); bad {
		return f, true
	}
	return checkSize(measure(text), path, l)
}

// checkLength refuses a query longer than the limit, before it is even
// measured.
func checkLength(text string, path *field.Path, l policies.LimitSettings) (policies.Finding, bool) {
	if n, max := len(text), l.QueryLength(); n > max {
		return deny(InvalidID, path,
			"is %d bytes long, over the limit of %d (settings limits.maxQueryLength), so it is not parsed; write a shorter query (published ones are a few hundred bytes) or raise the limit",
			n, max), true
	}
	return policies.Finding{}, false
}

// checkSize refuses a measured query nested deeper or holding more
// selectors than the limits.
func checkSize(s querySize, path *field.Path, l policies.LimitSettings) (policies.Finding, bool) {
	if max := l.QueryDepth(); s.depth > max {
		return deny(InvalidID, path,
			"nests %d levels deep (parentheses, unary signs and operators), over the limit of %d (settings limits.maxQueryDepth), so it is not parsed; write a flatter query or raise the limit",
			s.depth, max), true
	}
	if max := l.QuerySelectors(); s.selectors > max {
		return deny(InvalidID, path,
			"holds %d selectors, over the limit of %d (settings limits.maxQuerySelectors), so it is not parsed; query fewer series or raise the limit",
			s.selectors, max), true
	}
	return policies.Finding{}, false
}

// WithinBounds reports whether a query is within the limits, so that it
// may be parsed: other families parsing queries check it first, as
// CheckQuery does.
func WithinBounds(text string, l policies.LimitSettings) bool {
	_, bad := checkBounds(text, nil, l)
	return !bad
}
