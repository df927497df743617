package v1alpha1

import "fmt"

// LimitSettings bound the work one object may cost. A query beyond a bound
// is refused by promql-invalid before Prometheus's parser runs (its cost
// grows with the square of a query's nesting), and an object's findings
// are capped so that the answer stays small enough to reach its reader.
// A zero or omitted field means the built-in default.
type LimitSettings struct {
	// MaxQueryLength is the longest PromQL query read, in bytes (default
	// 16384). The queries the KEDA, KServe, Kthena and vLLM
	// production-stack projects publish are a few hundred bytes long.
	MaxQueryLength int `json:"maxQueryLength,omitempty"`
	// MaxQueryDepth is the deepest PromQL expression read (default 64):
	// each open parenthesis (of a group, a function call, an aggregation
	// or a grouping list), each unary sign and each binary operator on the
	// path to a term counts one level. Published queries nest 4 to 8
	// levels deep.
	MaxQueryDepth int `json:"maxQueryDepth,omitempty"`
	// MaxQuerySelectors is the most vector selectors one query may hold
	// (default 64). Published queries hold one to four.
	MaxQuerySelectors int `json:"maxQuerySelectors,omitempty"`
	// MaxFindingsPerObject caps the findings reported for one object
	// (default 20); the rest are counted, per rule, in one last finding.
	MaxFindingsPerObject int `json:"maxFindingsPerObject,omitempty"`
}

// Built-in limits.
const (
	DefaultMaxQueryLength       = 16384
	DefaultMaxQueryDepth        = 64
	DefaultMaxQuerySelectors    = 64
	DefaultMaxFindingsPerObject = 20
)

// DefaultLimitSettings returns the built-in limits.
func DefaultLimitSettings() LimitSettings {
	return LimitSettings{
		MaxQueryLength:       DefaultMaxQueryLength,
		MaxQueryDepth:        DefaultMaxQueryDepth,
		MaxQuerySelectors:    DefaultMaxQuerySelectors,
		MaxFindingsPerObject: DefaultMaxFindingsPerObject,
	}
}

// QueryLength is MaxQueryLength, or its default when unset.
func (l LimitSettings) QueryLength() int { return orDefault(l.MaxQueryLength, DefaultMaxQueryLength) }

// QueryDepth is MaxQueryDepth, or its default when unset.
func (l LimitSettings) QueryDepth() int { return orDefault(l.MaxQueryDepth, DefaultMaxQueryDepth) }

// QuerySelectors is MaxQuerySelectors, or its default when unset.
func (l LimitSettings) QuerySelectors() int {
	return orDefault(l.MaxQuerySelectors, DefaultMaxQuerySelectors)
}

// FindingsPerObject is MaxFindingsPerObject, or its default when unset.
func (l LimitSettings) FindingsPerObject() int {
	return orDefault(l.MaxFindingsPerObject, DefaultMaxFindingsPerObject)
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// validate lists what is wrong with the limits.
func (l LimitSettings) validate() []string {
	var errs []string
	for _, f := range []struct {
		name string
		v    int
	}{
		{"maxQueryLength", l.MaxQueryLength},
		{"maxQueryDepth", l.MaxQueryDepth},
		{"maxQuerySelectors", l.MaxQuerySelectors},
		{"maxFindingsPerObject", l.MaxFindingsPerObject},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Sprintf("limits.%s: %d is negative (0 means the default)", f.name, f.v))
		}
	}
	return errs
}
