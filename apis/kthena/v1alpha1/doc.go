// Package v1alpha1 is a minimal, read-only view of Kthena's
// workload.serving.volcano.sh/v1alpha1 ModelServing, AutoscalingPolicy and
// AutoscalingPolicyBinding: only the fields scaleguard's rules read. Every
// other field of a real object is tolerated and ignored.
//
// +kubebuilder:object:generate=true
// +groupName=workload.serving.volcano.sh
package v1alpha1
