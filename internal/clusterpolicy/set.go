package clusterpolicy

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// Policy is one ScaleGuardPolicy as scaleguard holds it: the spec in force
// (when there is one) and, when the newest generation was refused, why.
type Policy struct {
	// Name and UID identify the object.
	Name string
	UID  types.UID
	// Generation is the object's newest generation.
	Generation int64
	// InForce is the generation whose spec is in force (0: none).
	InForce int64
	// Spec is the spec in force, nil when none is.
	Spec *sgv1alpha1.ScaleGuardPolicySpec
	// RawSpec is the spec in force as stored (for status.appliedSpec).
	RawSpec []byte
	// Refused says why the newest generation is not in force ("" when it is).
	Refused string
	// selector is the namespaceSelector of Spec; nil matches everything.
	selector labels.Selector
}

// NewPolicy holds a valid policy, in force at its generation.
func NewPolicy(p *sgv1alpha1.ScaleGuardPolicy, rawSpec []byte) (*Policy, error) {
	out := &Policy{Name: p.Name, UID: p.UID, Generation: p.Generation, InForce: p.Generation, Spec: &p.Spec, RawSpec: rawSpec}
	if err := out.compile(); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *Policy) compile() error {
	if p.Spec == nil || p.Spec.NamespaceSelector == nil {
		p.selector = nil
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(p.Spec.NamespaceSelector)
	if err != nil {
		return err
	}
	if sel.Empty() {
		sel = nil
	}
	p.selector = sel
	return nil
}

// Covers reports whether the policy's spec in force covers a namespace with
// these labels.
func (p *Policy) Covers(nsLabels labels.Set) bool {
	return p.Spec != nil && (p.selector == nil || p.selector.Matches(nsLabels))
}

// Set is a set of policies, sorted by name, with the merged settings of
// each combination of them cached.
type Set struct {
	policies []*Policy
	// base applies where no policy does.
	base *policies.Settings

	mu     sync.Mutex
	merged map[string]*policies.Settings
	// byNamespace remembers each namespace's settings with the
	// namespace's UID and resourceVersion they were computed from
	// (nsSettings), so a request reads them without matching selectors.
	byNamespace sync.Map
}

type nsSettings struct {
	uid, resourceVersion string
	settings             *policies.Settings
}

// forNamespace is For of the namespace's labels, remembered per namespace
// until the namespace object changes (a Set is replaced when the policies
// change). ns is nil when the namespace is not known.
func (s *Set) forNamespace(name string, ns *corev1.Namespace) *policies.Settings {
	var uid, rv string
	if ns != nil {
		uid, rv = string(ns.UID), ns.ResourceVersion
	}
	if e, ok := s.byNamespace.Load(name); ok {
		if e := e.(nsSettings); e.uid == uid && e.resourceVersion == rv && rv != "" {
			return e.settings
		}
	}
	out := s.For(NamespaceLabels(name, ns))
	if rv != "" {
		s.byNamespace.Store(name, nsSettings{uid: uid, resourceVersion: rv, settings: out})
	}
	return out
}

// NewSet holds policies (any order) over base (the defaults when nil).
func NewSet(base *policies.Settings, ps ...*Policy) *Set {
	if base == nil {
		base = policies.DefaultSettings()
	}
	sorted := slices.Clone(ps)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	return &Set{policies: sorted, base: base, merged: map[string]*policies.Settings{}}
}

// Policies returns the policies, sorted by name.
func (s *Set) Policies() []*Policy { return s.policies }

// Get returns a policy by name.
func (s *Set) Get(name string) (*Policy, bool) {
	for _, p := range s.policies {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// Covering returns the policies in force that cover a namespace, sorted by
// name.
func (s *Set) Covering(nsLabels labels.Set) []*Policy {
	var out []*Policy
	for _, p := range s.policies {
		if p.Covers(nsLabels) {
			out = append(out, p)
		}
	}
	return out
}

// For returns the settings of a namespace whose labels are nsLabels. The
// result is shared: callers must not modify it.
func (s *Set) For(nsLabels labels.Set) *policies.Settings {
	covering := s.Covering(nsLabels)
	if len(covering) == 0 {
		return s.base
	}
	names := make([]string, len(covering))
	for i, p := range covering {
		names[i] = p.Name
	}
	key := strings.Join(names, "\x00")
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.merged[key]; ok {
		return m
	}
	m := Merge(covering)
	s.merged[key] = m
	return m
}

// NamespaceLabels are the labels a namespace is selected by: its own, and
// kubernetes.io/metadata.name, which the API server sets on every
// namespace (and which a namespace not yet in view, or written in a
// manifest without it, is given here).
func NamespaceLabels(name string, ns *corev1.Namespace) labels.Set {
	out := labels.Set{}
	if ns != nil {
		maps.Copy(out, ns.Labels)
	}
	out[corev1.LabelMetadataName] = name
	return out
}

// strictness orders actions: Enforce over Warn over Off.
func strictness(e policies.Enforcement) int {
	switch e {
	case policies.Off:
		return 0
	case policies.WarnOnly:
		return 1
	}
	return 2
}

// Merge merges the policies covering one namespace, sorted by name, as
// the package documents: per rule the strictest action of those that set
// one, exemptions allowed only where all allow them, every exemption, and
// every other setting from the first policy. The result is a fresh copy.
func Merge(covering []*Policy) *policies.Settings {
	out := covering[0].Spec.Settings.DeepCopy()
	ids := map[string]bool{}
	allow := true
	for _, p := range covering {
		for id := range p.Spec.Rules {
			ids[id] = true
		}
		allow = allow && (p.Spec.AllowExemptions == nil || *p.Spec.AllowExemptions)
	}
	out.Rules = map[string]policies.RuleOverride{}
	for id := range ids {
		// A policy that does not set the rule's action has no say in it;
		// when none does, the rule keeps its default ("": Enforce).
		var action policies.Enforcement
		allowRule := true
		for _, p := range covering {
			if a := p.Spec.Rules[id].Action; a != "" && (action == "" || strictness(a) > strictness(action)) {
				action = a
			}
			allowRule = allowRule && p.Spec.AllowsExemption(id)
		}
		out.Rules[id] = policies.RuleOverride{Action: action, AllowExemptions: &allowRule}
	}
	out.AllowExemptions = &allow
	out.Exemptions = nil
	for _, p := range covering {
		for _, e := range p.Spec.Exemptions {
			e := *e.DeepCopy()
			e.Policy = p.Name
			out.Exemptions = append(out.Exemptions, e)
		}
	}
	return out
}
