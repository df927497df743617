package policies

import (
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
)

// KEDAHPAName is the name KEDA gives a ScaledObject's HPA:
// spec.advanced.horizontalPodAutoscalerConfig.name, else keda-hpa-<name>.
func KEDAHPAName(so *kedav1alpha1.ScaledObject) string {
	if a := so.Spec.Advanced; a != nil && a.HorizontalPodAutoscalerConfig != nil && a.HorizontalPodAutoscalerConfig.Name != "" {
		return a.HorizontalPodAutoscalerConfig.Name
	}
	return "keda-hpa-" + so.Name
}

// HPANameIndex is a ClusterView that also finds ScaledObjects by the name
// of their HPA. A view holding many ScaledObjects per namespace (check's
// manifests) implements it, so that a rule reads the few that matter
// rather than the whole namespace for every object it judges. A view that
// adds objects of its own to the lists it serves (serve's CREATE view adds
// the objects other requests are admitting) must not inherit it unchanged.
type HPANameIndex interface {
	ScaledObjectsWithHPAName(namespace, name string) []*kedav1alpha1.ScaledObject
}

// ScaledObjectsWithHPAName lists the ScaledObjects of a namespace whose
// HPA KEDA names name, through the view's index when it has one.
func ScaledObjectsWithHPAName(view ClusterView, namespace, name string) []*kedav1alpha1.ScaledObject {
	if ix, ok := view.(HPANameIndex); ok {
		return ix.ScaledObjectsWithHPAName(namespace, name)
	}
	var out []*kedav1alpha1.ScaledObject
	for _, so := range view.ScaledObjects(namespace) {
		if KEDAHPAName(so) == name {
			out = append(out, so)
		}
	}
	return out
}
