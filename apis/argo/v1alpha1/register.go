package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is argoproj.io/v1alpha1.
	GroupVersion = schema.GroupVersion{Group: "argoproj.io", Version: "v1alpha1"}
	// SchemeBuilder registers the local Argo Rollouts view.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(&Rollout{}, &RolloutList{})
}
