package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// ModelServing is the part of a Kthena ModelServing that rules read. KEDA
// scales it through its /scale subresource at spec.replicas.
type ModelServing struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ModelServingSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// ModelServingList is a list of ModelServings.
type ModelServingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ModelServing `json:"items"`
}

// ModelServingSpec is the desired serving groups of a model.
type ModelServingSpec struct {
	// Replicas is the number of serving groups.
	Replicas *int32 `json:"replicas,omitempty"`
	// Template is the serving group every replica is made of.
	Template ServingGroup `json:"template,omitempty"`
}

// ServingGroup is one replica of a ModelServing: a set of roles.
type ServingGroup struct {
	Roles []Role `json:"roles,omitempty"`
}

// Role is a set of pods of one kind (prefill, decode, ...): each replica of a
// role is one entry pod plus WorkerReplicas worker pods.
type Role struct {
	Name           string           `json:"name"`
	Replicas       *int32           `json:"replicas,omitempty"`
	EntryTemplate  PodTemplateSpec  `json:"entryTemplate,omitempty"`
	WorkerReplicas int32            `json:"workerReplicas,omitempty"`
	WorkerTemplate *PodTemplateSpec `json:"workerTemplate,omitempty"`
}

// PodTemplateSpec is the pod template of a role's entry or worker pods: its
// metadata carries only labels and annotations.
type PodTemplateSpec struct {
	Metadata *TemplateMetadata `json:"metadata,omitempty"`
	Spec     corev1.PodSpec    `json:"spec,omitempty"`
}

// TemplateMetadata is the metadata of a role's pod template.
type TemplateMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Labels the ModelServing controller puts on the pods it creates.
const (
	// ModelServingNameLabel carries the ModelServing's name.
	ModelServingNameLabel = "modelserving.volcano.sh/name"
	// RoleLabel carries the role's name.
	RoleLabel = "modelserving.volcano.sh/role"
	// EntryLabel is "true" on entry pods only.
	EntryLabel = "modelserving.volcano.sh/entry"
)
