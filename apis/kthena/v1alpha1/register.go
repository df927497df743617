package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is workload.serving.volcano.sh/v1alpha1.
	GroupVersion = schema.GroupVersion{Group: "workload.serving.volcano.sh", Version: "v1alpha1"}
	// SchemeBuilder registers the local Kthena views.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(
		&ModelServing{}, &ModelServingList{},
		&AutoscalingPolicy{}, &AutoscalingPolicyList{},
		&AutoscalingPolicyBinding{}, &AutoscalingPolicyBindingList{},
	)
}
