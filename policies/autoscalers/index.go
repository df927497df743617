package autoscalers

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/policies"
)

// TargetIndex is a ClusterView that also finds the objects of a catalogued
// kind by the workloads they may scale, so that judging a ScaledObject or
// an HPA reads the autoscalers that may clash with it rather than every
// one of its namespace: serve's informer cache implements it.
type TargetIndex interface {
	// AutoscalersOn lists the objects of a catalogued kind in target's
	// namespace indexed under one of LookupKeys(target): every object
	// whose targets Match target, and perhaps others, which callers test.
	AutoscalersOn(kind schema.GroupKind, target policies.WorkloadRef) []*unstructured.Unstructured
}

// Candidates lists the objects of a's kind that may scale target: through
// the view's TargetIndex when it has one, otherwise every object of a's
// kind in target's namespace. Callers test each with Matches.
func (a *Autoscaler) Candidates(view policies.ClusterView, target policies.WorkloadRef) []*unstructured.Unstructured {
	if ix, ok := view.(TargetIndex); ok {
		return ix.AutoscalersOn(a.GVK.GroupKind(), target)
	}
	return view.Autoscalers(a.GVK.GroupKind(), target.Namespace)
}

// The keys an object is indexed by, after its targets' group and kind
// ("Deployment.apps"):
//
//	=name     a fixed target
//	^prefix   a revision pattern whose name template opens with a
//	          placeholder followed by a literal character: the placeholder's
//	          value and that character, which every name it matches starts
//	          with
//	*         any other pattern
//
// and the keys a target is looked up by, for a kind that may scale it, are
// its name's, or for revisions every prefix of its name that ends in one
// of the kind's literal characters, and the catch-all.

// IndexKeys are the keys a TargetIndex indexes obj (an object of a's kind)
// by: none when it names no target.
func (a *Autoscaler) IndexKeys(obj *unstructured.Unstructured) []string {
	t, ok := a.TargetsOf(obj)
	if !ok {
		return nil
	}
	kind := kindKey(t.Group, t.Kind)
	out := make([]string, 0, len(t.Fixed)+len(t.patterns))
	add := func(k string) {
		for _, s := range out {
			if s == k {
				return
			}
		}
		out = append(out, k)
	}
	for _, n := range t.Fixed {
		add(kind + "=" + n)
	}
	for _, p := range t.patterns {
		if p.lead != 0 {
			add(kind + "^" + p.values[0] + string(p.lead))
		} else {
			add(kind + "*")
		}
	}
	return out
}

// LookupKeys are the keys under which an object of a's kind that may
// scale target is indexed (IndexKeys): none when no object of the kind
// can scale a workload of target's group and kind.
func (a *Autoscaler) LookupKeys(target policies.WorkloadRef) []string {
	kind := kindKey(target.Group, target.Kind)
	t := a.Target
	switch {
	case t.Self:
		if target.Group != a.GVK.Group || target.Kind != a.GVK.Kind {
			return nil
		}
		return []string{kind + "=" + target.Name}
	case len(t.Ref) > 0:
		return []string{kind + "=" + target.Name}
	}
	group, _, ok := strings.Cut(t.APIVersion, "/")
	if !ok {
		group = "" // the core group: "v1"
	}
	if target.Group != group || target.Kind != t.Kind {
		return nil
	}
	if !t.Revisions {
		return []string{kind + "=" + target.Name}
	}
	var out []string
	var leads []byte
	for _, n := range t.Names {
		tm, ok := templates[n]
		switch {
		case !ok:
		case tm.lead == 0:
			if !slices.Contains(out, kind+"*") {
				out = append(out, kind+"*")
			}
		case !slices.Contains(leads, tm.lead):
			leads = append(leads, tm.lead)
		}
	}
	for i := 0; i < len(target.Name); i++ {
		if slices.Contains(leads, target.Name[i]) {
			out = append(out, kind+"^"+target.Name[:i+1])
		}
	}
	return out
}

func kindKey(group, kind string) string { return kind + "." + group }

// leadOf is the literal character following the placeholder a name
// template opens with, or 0 when it does not open with one or what
// follows is not a literal character.
func leadOf(template string) byte {
	loc := placeholder.FindStringIndex(template)
	if loc == nil || loc[0] != 0 || loc[1] >= len(template) {
		return 0
	}
	c := template[loc[1]]
	if strings.IndexByte(`\.+*?()|[]{}^$`, c) >= 0 {
		return 0
	}
	return c
}
