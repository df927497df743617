package clusterview

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	vpav1 "github.com/scaleguard/scaleguard/apis/vpa/v1"
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
