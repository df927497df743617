package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// LeaderWorkerSet is the part of a LeaderWorkerSet that rules read. Each
// replica is a group of Size pods: one leader and Size-1 workers. It has a
// /scale subresource over spec.replicas (the number of groups), so KEDA and
// HPAs can scale it.
type LeaderWorkerSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec LeaderWorkerSetSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// LeaderWorkerSetList is a list of LeaderWorkerSets.
type LeaderWorkerSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []LeaderWorkerSet `json:"items"`
}

// LeaderWorkerSetSpec is the desired state of a LeaderWorkerSet.
type LeaderWorkerSetSpec struct {
	// Replicas is the number of leader-worker groups.
	Replicas *int32 `json:"replicas,omitempty"`
	// LeaderWorkerTemplate describes the pods of each group.
	LeaderWorkerTemplate LeaderWorkerTemplate `json:"leaderWorkerTemplate"`
}

// LeaderWorkerTemplate describes the pods of one group.
type LeaderWorkerTemplate struct {
	// LeaderTemplate is the leader's pod template; when nil the leader runs
	// WorkerTemplate too.
	LeaderTemplate *corev1.PodTemplateSpec `json:"leaderTemplate,omitempty"`
	// WorkerTemplate is the workers' pod template.
	WorkerTemplate corev1.PodTemplateSpec `json:"workerTemplate"`
	// Size is the number of pods per group, the leader included (1 when
	// unset).
	Size *int32 `json:"size,omitempty"`
}
