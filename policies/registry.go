package policies

import (
	"fmt"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Registry holds rules by ID.
type Registry struct {
	mu    sync.RWMutex
	rules map[string]Rule
	// byKind memoises For, which every judgement calls; Register clears it.
	byKind map[schema.GroupVersionKind][]Rule
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{rules: map[string]Rule{}}
}

// Register adds a rule. A duplicate or malformed rule is an error.
func (r *Registry) Register(rule Rule) error {
	if err := rule.validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.rules[rule.ID]; dup {
		return fmt.Errorf("rule %q is registered twice", rule.ID)
	}
	r.rules[rule.ID] = rule
	r.byKind = nil
	return nil
}

// Get returns the rule with the given ID.
func (r *Registry) Get(id string) (Rule, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rule, ok := r.rules[id]
	return rule, ok
}

// Rules returns every rule, sorted by ID.
func (r *Registry) Rules() []Rule {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Rule, 0, len(r.rules))
	for _, rule := range r.rules {
		out = append(out, rule)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// For returns the rules that judge gvk, sorted by ID. The slice is shared
// between calls: callers must not modify it.
func (r *Registry) For(gvk schema.GroupVersionKind) []Rule {
	r.mu.RLock()
	out, ok := r.byKind[gvk]
	r.mu.RUnlock()
	if ok {
		return out
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rule := range r.rules {
		if rule.judges(gvk) {
			out = append(out, rule)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	out = out[:len(out):len(out)]
	if r.byKind == nil {
		r.byKind = map[schema.GroupVersionKind][]Rule{}
	}
	r.byKind[gvk] = out
	return out
}

// Default is the registry rule packages register into.
var Default = NewRegistry()

// MustRegister adds rules to Default and panics on a duplicate or malformed
// rule, so a broken build fails at start rather than judging with a rule
// silently missing.
func MustRegister(rules ...Rule) {
	for _, rule := range rules {
		if err := Default.Register(rule); err != nil {
			panic(fmt.Sprintf("scaleguard: %v", err))
		}
	}
}
