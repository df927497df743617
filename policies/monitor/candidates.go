package monitor

import (
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	"github.com/scaleguard/scaleguard/policies"
)

// Label keys each kind's controller sets on its pods beyond its
// template's own labels: a selector term on one of them cannot be looked
// up in the template-label index for that kind.
var (
	lwsAddedSet          = set(lwsVarying, []string{lwsNameLabel, lwsWorkerIndexLabel})
	modelServingAddedSet = set(modelServingVarying, []string{
		kthenav1alpha1.ModelServingNameLabel, kthenav1alpha1.RoleLabel, kthenav1alpha1.EntryLabel,
	})
)

// term is a selector term a pod's labels must meet: key's value is one
// of values (a matchLabels entry, or an In expression).
type term struct {
	key    string
	values []string
}

// narrowing reads, through a view's template-label index, the workloads
// whose templates carry a selector's terms.
type narrowing struct {
	ix    policies.TemplateLabelIndex
	ns    string
	terms []term
	read  map[string]policies.Workloads
}

// terms lists a selector's equality and In terms, matchLabels first in
// key order, so that the term looked up does not depend on map order.
func terms(sel *metav1.LabelSelector) []term {
	if sel == nil {
		return nil
	}
	keys := make([]string, 0, len(sel.MatchLabels))
	for k := range sel.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]term, 0, len(keys))
	for _, k := range keys {
		out = append(out, term{key: k, values: []string{sel.MatchLabels[k]}})
	}
	for _, e := range sel.MatchExpressions {
		if e.Operator == metav1.LabelSelectorOpIn {
			out = append(out, term{key: e.Key, values: e.Values})
		}
	}
	return out
}

// lookup lists the workloads whose templates carry key=value.
func (n *narrowing) lookup(key, value string) policies.Workloads {
	pair := key + "=" + value
	w, ok := n.read[pair]
	if !ok {
		w = n.ix.TemplateLabelled(n.ns, key, value)
		n.read[pair] = w
	}
	return w
}

// candidates lists the workloads of one kind a selector may select: those
// the index holds under the first term whose key the kind's controller
// does not set on its pods (added), or every one when there is none.
// A pod carries such a key only when its template does, so a workload
// whose template lacks every value of the term cannot be selected.
func candidates[T any](n *narrowing, added map[string]bool, of func(policies.Workloads) []*T, all func(string) []*T) []*T {
	for _, t := range n.terms {
		if added[t.key] {
			continue
		}
		if len(t.values) == 1 {
			return of(n.lookup(t.key, t.values[0]))
		}
		seen := map[*T]bool{}
		var out []*T
		for _, v := range t.values {
			for _, o := range of(n.lookup(t.key, v)) {
				if !seen[o] {
					seen[o] = true
					out = append(out, o)
				}
			}
		}
		return out
	}
	return all(n.ns)
}

// eachCandidate visits the pod templates of namespace ns ("" for all)
// that sel may select, and may visit others: through the view's
// template-label index when it has one (serve's cache), so that the cost
// follows what the selector selects, not how many workloads share the
// namespace (or the cluster, for a monitor of any namespace); else every
// template (eachTemplate). InferenceService predictors, whose pods may
// carry labels scaleguard cannot see, are always visited.
func eachCandidate(view policies.ClusterView, ns string, sel *metav1.LabelSelector, visit func(podTemplate)) {
	ix, ok := view.(policies.TemplateLabelIndex)
	ts := terms(sel)
	if !ok || len(ts) == 0 {
		eachTemplate(view, ns, visit)
		return
	}
	n := &narrowing{ix: ix, ns: ns, terms: ts, read: map[string]policies.Workloads{}}
	walkTemplates(view, policies.Workloads{
		Deployments:      candidates(n, deploymentVaryingSet, func(w policies.Workloads) []*appsv1.Deployment { return w.Deployments }, view.Deployments),
		StatefulSets:     candidates(n, statefulSetVaryingSet, func(w policies.Workloads) []*appsv1.StatefulSet { return w.StatefulSets }, view.StatefulSets),
		DaemonSets:       candidates(n, daemonSetVaryingSet, func(w policies.Workloads) []*appsv1.DaemonSet { return w.DaemonSets }, view.DaemonSets),
		Rollouts:         candidates(n, rolloutVaryingSet, func(w policies.Workloads) []*argov1alpha1.Rollout { return w.Rollouts }, view.Rollouts),
		LeaderWorkerSets: candidates(n, lwsAddedSet, func(w policies.Workloads) []*lwsv1.LeaderWorkerSet { return w.LeaderWorkerSets }, view.LeaderWorkerSets),
		ModelServings:    candidates(n, modelServingAddedSet, func(w policies.Workloads) []*kthenav1alpha1.ModelServing { return w.ModelServings }, view.ModelServings),
	}, view.InferenceServices(ns), visit)
}
