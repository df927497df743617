package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Defaults the add-on applies to unset fields (the generated ScaledObject
// leaves them to KEDA, whose defaults are the same).
const (
	// DefaultMinReplicas is replicas.min when unset.
	DefaultMinReplicas = 0
	// DefaultScaledownPeriodSeconds is scaledownPeriod when unset (KEDA's
	// cooldownPeriod default).
	DefaultScaledownPeriodSeconds = 300
)

// +kubebuilder:object:root=true

// HTTPScaledObject is the part of an HTTPScaledObject that rules read.
type HTTPScaledObject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec HTTPScaledObjectSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// HTTPScaledObjectList is a list of HTTPScaledObjects.
type HTTPScaledObjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HTTPScaledObject `json:"items"`
}

// HTTPScaledObjectSpec is the desired state of an HTTPScaledObject.
type HTTPScaledObjectSpec struct {
	// ScaleTargetRef names the workload to scale (and the Service the
	// interceptor routes to).
	ScaleTargetRef ScaleTargetRef `json:"scaleTargetRef"`
	// Replicas bounds the replicas; copied into the generated ScaledObject's
	// minReplicaCount and maxReplicaCount.
	Replicas *ReplicaStruct `json:"replicas,omitempty"`
	// ScaledownPeriod is copied into the generated ScaledObject's
	// cooldownPeriod (seconds).
	ScaledownPeriod *int32 `json:"scaledownPeriod,omitempty"`
}

// ScaleTargetRef is the workload an HTTPScaledObject scales. An empty
// apiVersion and kind are KEDA's defaults in the generated ScaledObject:
// apps/v1 and Deployment.
type ScaleTargetRef struct {
	Name       string `json:"name,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	// Service is the Service the interceptor routes requests to.
	Service string `json:"service,omitempty"`
}

// ReplicaStruct bounds the replicas.
type ReplicaStruct struct {
	// Min is the fewest replicas (0 when unset: scale to zero).
	Min *int32 `json:"min,omitempty"`
	// Max is the most replicas (100 when unset).
	Max *int32 `json:"max,omitempty"`
}
