package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is scaleguard.io/v1alpha1.
	GroupVersion = schema.GroupVersion{Group: "scaleguard.io", Version: "v1alpha1"}
	// SchemeBuilder registers scaleguard's own kinds.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	// AddToScheme adds the types of this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
