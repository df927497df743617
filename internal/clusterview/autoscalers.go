package clusterview

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	vpav1 "github.com/scaleguard/scaleguard/apis/vpa/v1"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

var gvkVPA = vpav1.GroupVersion.WithKind("VerticalPodAutoscaler")

// Autoscalers implements policies.ClusterView: the objects of a catalogued
// autoscaler kind, read as unstructured data.
func (v *Cache) Autoscalers(kind schema.GroupKind, ns string) []*unstructured.Unstructured {
	gvk, ok := apis.UnstructuredKind(kind)
	if !ok {
		return nil
	}
	return listed[unstructured.Unstructured](v, gvk, ns, "", "", func() *unstructured.UnstructuredList { return apis.NewUnstructuredList(gvk) })
}

// AutoscalersOn implements autoscalers.TargetIndex, through each
// catalogued kind's autoscalerTargetIndex, sorted by name.
func (v *Cache) AutoscalersOn(kind schema.GroupKind, target policies.WorkloadRef) []*unstructured.Unstructured {
	gvk, ok := apis.UnstructuredKind(kind)
	a, catalogued := autoscalers.For(kind)
	if !ok || !catalogued || !v.readable(gvk) {
		return nil // most clusters serve few of the catalogued kinds
	}
	newList := func() *unstructured.UnstructuredList { return apis.NewUnstructuredList(gvk) }
	// An object indexed under several of the keys is listed once; the
	// set is made only when a second key finds something.
	var out []*unstructured.Unstructured
	var seen map[*unstructured.Unstructured]bool
	for _, key := range a.LookupKeys(target) {
		found := listed[unstructured.Unstructured](v, gvk, target.Namespace, autoscalerTargetIndex, key, newList)
		switch {
		case len(found) == 0:
		case out == nil:
			out = found
		default:
			if seen == nil {
				seen = make(map[*unstructured.Unstructured]bool, len(out)+len(found))
				for _, u := range out {
					seen[u] = true
				}
			}
			for _, u := range found {
				if !seen[u] {
					seen[u] = true
					out = append(out, u)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b *unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out
}

// indexAutoscalerTargets indexes an object of a catalogued kind by its
// targets (autoscalers.Autoscaler.IndexKeys).
func indexAutoscalerTargets(o client.Object) []string {
	u, a, ok := autoscalers.Of(o)
	if !ok {
		return nil
	}
	return a.IndexKeys(u)
}

// VerticalPodAutoscalers implements policies.ClusterView.
func (v *Cache) VerticalPodAutoscalers(ns string) []*vpav1.VerticalPodAutoscaler {
	return listed[vpav1.VerticalPodAutoscaler](v, gvkVPA, ns, "", "", newOf[vpav1.VerticalPodAutoscalerList])
}

// trimAutoscaler keeps of an object of a catalogued kind its identity,
// labels, annotations and owner references, and the fields the catalogue
// names: the rest of a Knative Service's pod template or a NIMService's
// spec is never read.
func trimAutoscaler(u *unstructured.Unstructured) {
	a, ok := autoscalers.For(u.GroupVersionKind().GroupKind())
	if !ok {
		return
	}
	kept := map[string]any{}
	for _, k := range []string{"apiVersion", "kind", "metadata"} {
		if v, ok := u.Object[k]; ok {
			kept[k] = v
		}
	}
	for _, p := range a.FieldPaths() {
		if p[0] == "metadata" {
			continue
		}
		if v, found, err := unstructured.NestedFieldNoCopy(u.Object, p...); err == nil && found {
			setNested(kept, v, p)
		}
	}
	u.Object = kept
}

// setNested sets the value at path in m, making the maps on the way (the
// value is shared, not copied: the object is being replaced by m).
func setNested(m map[string]any, v any, path []string) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
