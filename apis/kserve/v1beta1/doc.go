// Package v1beta1 is a minimal, read-only view of KServe's
// serving.kserve.io/v1beta1 InferenceService: only the fields scaleguard's
// rules read. Every other field of a real object is tolerated and ignored.
//
// +kubebuilder:object:generate=true
// +groupName=serving.kserve.io
package v1beta1
