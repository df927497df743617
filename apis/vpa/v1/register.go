package v1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is autoscaling.k8s.io/v1.
	GroupVersion = schema.GroupVersion{Group: "autoscaling.k8s.io", Version: "v1"}
	// SchemeBuilder registers the local VerticalPodAutoscaler view.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(&VerticalPodAutoscaler{}, &VerticalPodAutoscalerList{})
}
