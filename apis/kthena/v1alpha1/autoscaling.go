package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +kubebuilder:object:root=true

// AutoscalingPolicy is the part of a Kthena AutoscalingPolicy that rules
// read: which ModelServings Kthena's own autoscaler scales, and on what.
type AutoscalingPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AutoscalingPolicySpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// AutoscalingPolicyList is a list of AutoscalingPolicies.
type AutoscalingPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AutoscalingPolicy `json:"items"`
}

// AutoscalingPolicySpec holds one of three target shapes (Kthena v1.0 and
// later; earlier releases put the targets in an AutoscalingPolicyBinding).
type AutoscalingPolicySpec struct {
	Metrics             []AutoscalingPolicyMetric `json:"metrics,omitempty"`
	HomogeneousTarget   *HomogeneousTarget        `json:"homogeneousTarget,omitempty"`
	HeterogeneousTarget *HeterogeneousTarget      `json:"heterogeneousTarget,omitempty"`
	DisaggregatedTarget *DisaggregatedTarget      `json:"disaggregatedTarget,omitempty"`
}

// AutoscalingPolicyMetric is a metric name with its target value.
type AutoscalingPolicyMetric struct {
	Name        string             `json:"name,omitempty"`
	TargetValue *resource.Quantity `json:"targetValue,omitempty"`
}

// HomogeneousTarget scales one target between MinReplicas and MaxReplicas.
type HomogeneousTarget struct {
	Target      Target `json:"target,omitempty"`
	MinReplicas int32  `json:"minReplicas,omitempty"`
	MaxReplicas int32  `json:"maxReplicas,omitempty"`
}

// HeterogeneousTarget scales several targets as one pool.
type HeterogeneousTarget struct {
	Params []HeterogeneousTargetParam `json:"params,omitempty"`
}

// HeterogeneousTargetParam is one member of a heterogeneous pool.
type HeterogeneousTargetParam struct {
	Target      Target `json:"target,omitempty"`
	MinReplicas int32  `json:"minReplicas,omitempty"`
	MaxReplicas int32  `json:"maxReplicas,omitempty"`
}

// DisaggregatedTarget scales the roles of one ModelServing; Roles is keyed
// by role name.
type DisaggregatedTarget struct {
	TargetRef corev1.ObjectReference      `json:"targetRef"`
	Roles     map[string]RoleScalingParam `json:"roles,omitempty"`
}

// RoleScalingParam is the scaling of one role of a disaggregated target.
type RoleScalingParam struct {
	MinReplicas   int32                     `json:"minReplicas,omitempty"`
	MaxReplicas   int32                     `json:"maxReplicas,omitempty"`
	Metrics       []AutoscalingPolicyMetric `json:"metrics,omitempty"`
	MetricSources map[string]MetricSource   `json:"metricSources,omitempty"`
}

// Target is what an autoscaling policy scales and where its metrics come
// from. TargetRef.Namespace may point across namespaces (empty means the
// policy's own); TargetRef.Kind is empty or ModelServing.
type Target struct {
	TargetRef     corev1.ObjectReference  `json:"targetRef"`
	MetricSources map[string]MetricSource `json:"metricSources,omitempty"`
}

// MetricSource is where one named metric is read: pods or Prometheus.
type MetricSource struct {
	Prometheus *PrometheusMetricSource `json:"prometheus,omitempty"`
	Pod        *PodMetricSource        `json:"pod,omitempty"`
}

// PrometheusMetricSource is an instant PromQL query sent as written.
type PrometheusMetricSource struct {
	ServerURL string `json:"serverURL,omitempty"`
	Query     string `json:"query,omitempty"`
}

// PodMetricSource scrapes the target's entry pods directly.
type PodMetricSource struct {
	Name string `json:"name,omitempty"`
	URI  string `json:"uri,omitempty"`
	Port int32  `json:"port,omitempty"`
}

// +kubebuilder:object:root=true

// AutoscalingPolicyBinding is the older form that binds a policy to targets.
type AutoscalingPolicyBinding struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AutoscalingPolicyBindingSpec `json:"spec,omitempty"`
}

// +kubebuilder:object:root=true

// AutoscalingPolicyBindingList is a list of AutoscalingPolicyBindings.
type AutoscalingPolicyBindingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AutoscalingPolicyBinding `json:"items"`
}

// AutoscalingPolicyBindingSpec binds a policy to targets (Kthena v0.2 to
// v0.4; v0.1 named the two shapes scalingConfiguration and
// optimizerConfiguration).
type AutoscalingPolicyBindingSpec struct {
	PolicyRef              corev1.LocalObjectReference `json:"policyRef,omitempty"`
	HomogeneousTarget      *HomogeneousTarget          `json:"homogeneousTarget,omitempty"`
	HeterogeneousTarget    *HeterogeneousTarget        `json:"heterogeneousTarget,omitempty"`
	ScalingConfiguration   *HomogeneousTarget          `json:"scalingConfiguration,omitempty"`
	OptimizerConfiguration *HeterogeneousTarget        `json:"optimizerConfiguration,omitempty"`
}
