package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is serving.kserve.io/v1beta1.
	GroupVersion = schema.GroupVersion{Group: "serving.kserve.io", Version: "v1beta1"}
	// SchemeBuilder registers the local InferenceService view.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func init() {
	SchemeBuilder.Register(&InferenceService{}, &InferenceServiceList{})
}
