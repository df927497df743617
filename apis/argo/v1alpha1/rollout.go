package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// Rollout is the part of an Argo Rollout that rules read. KEDA scales it
// through its /scale subresource.
type Rollout struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec RolloutSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// RolloutList is a list of Rollouts.
type RolloutList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Rollout `json:"items"`
}

// RolloutSpec is the desired state of a Rollout.
type RolloutSpec struct {
	// Replicas is the number of pods.
	Replicas *int32 `json:"replicas,omitempty"`
	// Template is the pod template; empty when WorkloadRef is set.
	Template corev1.PodTemplateSpec `json:"template,omitempty"`
	// WorkloadRef names a Deployment whose pod template the Rollout runs.
	WorkloadRef *ObjectRef `json:"workloadRef,omitempty"`
}

// ObjectRef names the workload a Rollout borrows its template from.
type ObjectRef struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Name       string `json:"name,omitempty"`
}
