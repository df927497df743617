// Package v1 is a minimal, read-only view of the Kubernetes
// VerticalPodAutoscaler (autoscaling.k8s.io/v1): only the fields the
// conflict-vpa rule reads (the target, the update mode and which resources
// each container policy controls). The VPA's Go module would bring its
// whole dependency graph for four fields, so they are declared here
// (kubernetes/autoscaler vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1/types.go,
// vertical-pod-autoscaler-1.7.1). Every other field of a real object is
// tolerated and ignored.
//
// +kubebuilder:object:generate=true
// +groupName=autoscaling.k8s.io
package v1
