package promql

import (
	"sync"

	"github.com/prometheus/prometheus/promql/parser"
)

// Parsing is the costliest step of judging a query, and the same queries
// come back again and again: Argo CD re-applies and diffs the same
// objects, a deployment's ScaledObject is re-submitted on every sync, the
// mutating and validating webhooks see the same object in turn. So each
// distinct query text is parsed once per process and its tree kept in a
// bounded cache. The trees are shared between requests and goroutines:
// nothing that reads them may modify them (nothing in this package does;
// scope.go copies a selector before rendering it differently).
//
// Bounds (bounds.go) still run on every judgement before the cache is
// consulted for a tree: a query is measured before its first parse and
// the measure is kept beside the tree, so that limits set lower later (by
// another policy) refuse it again without parsing.

// ParseCache is a bounded cache of parsed queries, keyed by their text.
// It keeps two generations of at most half its capacity each: an entry
// found in the older is moved into the newer, and when the newer is full
// the older is dropped. Memory stays bounded whatever queries arrive, and
// the queries in use stay cached.
type ParseCache struct {
	parser   parser.Parser
	capacity int
	maxText  int

	mu       sync.Mutex
	cur, old map[string]*parsed
}

// parsed is what the cache keeps of one query text.
type parsed struct {
	// size is the query's measure, taken before it was parsed.
	size querySize
	expr parser.Expr
	err  error
	// sels are expr's selectors (selectors(expr, text)), computed once.
	sels []selector
}

// NewParseCache returns a cache parsing with p that holds at most
// capacity queries, none longer than maxText bytes (longer ones are
// parsed every time).
func NewParseCache(p parser.Parser, capacity, maxText int) *ParseCache {
	return &ParseCache{parser: p, capacity: max(capacity, 2), maxText: maxText}
}

// Parse returns the tree of text (or the parser's error), parsing it
// only if the cache does not hold it. It applies no bounds: callers that
// must bound parsing (everything judging an object) check WithinBounds
// first.
func (c *ParseCache) Parse(text string) (parser.Expr, error) {
	if p := c.get(text); p != nil {
		return p.expr, p.err
	}
	p := &parsed{size: measure(text)}
	p.expr, p.err = c.parser.ParseExpr(text)
	if p.err == nil {
		p.sels = selectors(p.expr, text)
	}
	c.put(text, p)
	return p.expr, p.err
}

func (c *ParseCache) get(text string) *parsed {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cur[text]; ok {
		return p
	}
	if p, ok := c.old[text]; ok {
		c.store(text, p)
		return p
	}
	return nil
}

func (c *ParseCache) put(text string, p *parsed) {
	if len(text) > c.maxText {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.store(text, p)
}

// store adds an entry to the newer generation, turning it into the older
// one when it is full. Callers hold mu.
func (c *ParseCache) store(text string, p *parsed) {
	if len(c.cur) >= c.capacity/2 {
		c.old, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]*parsed, c.capacity/2)
	}
	c.cur[text] = p
}

// Len is the number of queries cached.
func (c *ParseCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.cur)
	for k := range c.old {
		if _, dup := c.cur[k]; !dup {
			n++
		}
	}
	return n
}

// Cache sizes: a parsed query of the shapes published for LLM
// autoscaling holds a few KiB (a regex matcher compiles its pattern), so
// 1,024 entries stay within a few MiB; queries past 16 KiB are rare and
// longer than the default length limit anyway.
const (
	parseCacheEntries = 1024
	parseCacheMaxText = 16 << 10
)

// queries is the process's cache of the family's parser.
var queries = NewParseCache(prom, parseCacheEntries, parseCacheMaxText)

// parseMeasured returns the cached parse of text, or measures text (the
// caller then checks the bounds) and leaves parsing to parseAfter.
func parseMeasured(text string) (*parsed, bool) {
	if p := queries.get(text); p != nil {
		return p, true
	}
	return &parsed{size: measure(text)}, false
}

// parseAfter parses a measured query that passed the bounds and caches it.
func parseAfter(text string, p *parsed) *parsed {
	p.expr, p.err = queries.parser.ParseExpr(text)
	if p.err == nil {
		p.sels = selectors(p.expr, text)
	}
	queries.put(text, p)
	return p
}
