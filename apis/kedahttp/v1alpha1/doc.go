// Package v1alpha1 is a minimal, read-only view of the KEDA HTTP add-on's
// HTTPScaledObject (http.keda.sh/v1alpha1): only the fields scaleguard's
// rules read (the scale target, the replica bounds and the scale-down
// period). The add-on's operator generates a ScaledObject of the same name
// from it, owned by it; the add-on is not a Go module scaleguard depends
// on, so the fields are declared here (operator/apis/http/v1alpha1/
// httpscaledobject_types.go, v0.15.0). Every other field of a real object
// is tolerated and ignored.
//
// +kubebuilder:object:generate=true
// +groupName=http.keda.sh
package v1alpha1
