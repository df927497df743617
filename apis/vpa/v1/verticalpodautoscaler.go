package v1

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// VerticalPodAutoscaler sets the resource requests of the pods of its
// target from their observed usage.
type VerticalPodAutoscaler struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec VerticalPodAutoscalerSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// VerticalPodAutoscalerList is a list of VerticalPodAutoscalers.
type VerticalPodAutoscalerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VerticalPodAutoscaler `json:"items"`
}

// VerticalPodAutoscalerSpec is what the VPA acts on and how.
type VerticalPodAutoscalerSpec struct {
	// TargetRef is the workload whose pods the VPA sizes.
	TargetRef *autoscalingv1.CrossVersionObjectReference `json:"targetRef"`
	// UpdatePolicy says whether and how the VPA applies its recommendation.
	UpdatePolicy *PodUpdatePolicy `json:"updatePolicy,omitempty"`
	// ResourcePolicy says which resources of which containers it controls.
	ResourcePolicy *PodResourcePolicy `json:"resourcePolicy,omitempty"`
}

// PodUpdatePolicy holds the update mode.
type PodUpdatePolicy struct {
	// UpdateMode is Off, Initial, Recreate (the default), InPlaceOrRecreate,
	// InPlace or the deprecated Auto.
	UpdateMode *UpdateMode `json:"updateMode,omitempty"`
}

// UpdateMode controls when the VPA changes pods' resources.
type UpdateMode string

// The update modes.
const (
	UpdateModeOff               UpdateMode = "Off"
	UpdateModeInitial           UpdateMode = "Initial"
	UpdateModeRecreate          UpdateMode = "Recreate"
	UpdateModeAuto              UpdateMode = "Auto"
	UpdateModeInPlaceOrRecreate UpdateMode = "InPlaceOrRecreate"
	UpdateModeInPlace           UpdateMode = "InPlace"
)

// PodResourcePolicy holds the per-container policies.
type PodResourcePolicy struct {
	ContainerPolicies []ContainerResourcePolicy `json:"containerPolicies,omitempty"`
}

// DefaultContainerResourcePolicy is the containerName of the policy that
// applies to every container without one of its own.
const DefaultContainerResourcePolicy = "*"

// ContainerResourcePolicy is the policy of one container (or "*").
type ContainerResourcePolicy struct {
	ContainerName string `json:"containerName,omitempty"`
	// Mode is Auto (the default) or Off.
	Mode *ContainerScalingMode `json:"mode,omitempty"`
	// ControlledResources defaults to cpu and memory.
	ControlledResources *[]corev1.ResourceName `json:"controlledResources,omitempty"`
}

// ContainerScalingMode turns the VPA on or off for a container.
type ContainerScalingMode string

// The container scaling modes.
const (
	ContainerScalingModeAuto ContainerScalingMode = "Auto"
	ContainerScalingModeOff  ContainerScalingMode = "Off"
)
