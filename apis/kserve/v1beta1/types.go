package v1beta1

import (
	"encoding/json"
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations KServe reads on an InferenceService.
const (
	// AutoscalerClassAnnotation selects who scales the predictor: hpa
	// (default in raw mode), keda, external or none.
	AutoscalerClassAnnotation = "serving.kserve.io/autoscalerClass"
	// DeploymentModeAnnotation selects raw Deployments or Knative.
	DeploymentModeAnnotation = "serving.kserve.io/deploymentMode"
)

// +kubebuilder:object:root=true

// InferenceService is the part of a KServe InferenceService that rules read.
type InferenceService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   InferenceServiceSpec   `json:"spec,omitempty"`
	Status InferenceServiceStatus `json:"status,omitempty"`
}

// InferenceServiceStatus is the part of the status rules read.
type InferenceServiceStatus struct {
	// DeploymentMode is the mode KServe resolved and recorded (Standard,
	// Knative, ModelMesh, or the legacy RawDeployment, Serverless); it takes
	// precedence over the annotation and cannot change afterwards.
	DeploymentMode string `json:"deploymentMode,omitempty"`
}

// +kubebuilder:object:root=true

// InferenceServiceList is a list of InferenceServices.
type InferenceServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []InferenceService `json:"items"`
}

// InferenceServiceSpec holds the components of an InferenceService.
type InferenceServiceSpec struct {
	Predictor   PredictorSpec  `json:"predictor"`
	Transformer *ComponentSpec `json:"transformer,omitempty"`
	Explainer   *ComponentSpec `json:"explainer,omitempty"`
}

// ComponentExtensionSpec is the scaling part every component shares.
type ComponentExtensionSpec struct {
	MinReplicas     *int32           `json:"minReplicas,omitempty"`
	MaxReplicas     int32            `json:"maxReplicas,omitempty"`
	ScaleTarget     *int32           `json:"scaleTarget,omitempty"`
	ScaleMetric     *string          `json:"scaleMetric,omitempty"`
	ScaleMetricType *string          `json:"scaleMetricType,omitempty"`
	AutoScaling     *AutoScalingSpec `json:"autoScaling,omitempty"`
}

// ComponentSpec is a transformer or explainer: a pod spec with scaling.
type ComponentSpec struct {
	ComponentExtensionSpec `json:",inline"`
	PodSpec                `json:",inline"`
}

// PodSpec is the inline pod spec of a component: the fields that place pods
// and request resources.
type PodSpec struct {
	Containers       []corev1.Container           `json:"containers,omitempty"`
	InitContainers   []corev1.Container           `json:"initContainers,omitempty"`
	NodeSelector     map[string]string            `json:"nodeSelector,omitempty"`
	Affinity         *corev1.Affinity             `json:"affinity,omitempty"`
	Tolerations      []corev1.Toleration          `json:"tolerations,omitempty"`
	ResourceClaims   []corev1.PodResourceClaim    `json:"resourceClaims,omitempty"`
	RuntimeClassName *string                      `json:"runtimeClassName,omitempty"`
	Resources        *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// PredictorSpec is the predictor component.
type PredictorSpec struct {
	ComponentExtensionSpec `json:",inline"`
	PodSpec                `json:",inline"`

	// Name, when set, renames the predictor's objects to
	// <isvc>-<name>-predictor (KServe v0.20 and later).
	Name string `json:"name,omitempty"`
	// Model is the model-format based predictor (the usual form).
	Model *ModelSpec `json:"model,omitempty"`
	// The framework-specific predictor forms: a container per framework.
	SKLearn     *FrameworkSpec `json:"sklearn,omitempty"`
	XGBoost     *FrameworkSpec `json:"xgboost,omitempty"`
	Tensorflow  *FrameworkSpec `json:"tensorflow,omitempty"`
	PyTorch     *FrameworkSpec `json:"pytorch,omitempty"`
	Triton      *FrameworkSpec `json:"triton,omitempty"`
	ONNX        *FrameworkSpec `json:"onnx,omitempty"`
	HuggingFace *FrameworkSpec `json:"huggingface,omitempty"`
	PMML        *FrameworkSpec `json:"pmml,omitempty"`
	LightGBM    *FrameworkSpec `json:"lightgbm,omitempty"`
	Paddle      *FrameworkSpec `json:"paddle,omitempty"`
	// WorkerSpec is the multi-node worker pod spec.
	WorkerSpec *WorkerSpec `json:"workerSpec,omitempty"`
}

// ModelSpec is the model-format predictor: a container with a format.
type ModelSpec struct {
	ModelFormat ModelFormat                 `json:"modelFormat"`
	Runtime     *string                     `json:"runtime,omitempty"`
	StorageURI  *string                     `json:"storageUri,omitempty"`
	Args        []string                    `json:"args,omitempty"`
	Resources   corev1.ResourceRequirements `json:"resources,omitempty"`
}

// FrameworkSpec is a framework-specific predictor container.
type FrameworkSpec struct {
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// ModelFormat names the framework a model is served with.
type ModelFormat struct {
	Name    string  `json:"name"`
	Version *string `json:"version,omitempty"`
}

// WorkerSpec is the pod spec of the worker pods of a multi-node predictor.
type WorkerSpec struct {
	PodSpec              `json:",inline"`
	PipelineParallelSize *int `json:"pipelineParallelSize,omitempty"`
	TensorParallelSize   *int `json:"tensorParallelSize,omitempty"`
}

// AutoScalingSpec lists the metrics KServe's autoscaler (HPA or KEDA) uses.
type AutoScalingSpec struct {
	Metrics []MetricsSpec `json:"metrics,omitempty"`
}

// MetricSourceType is Resource, External or PodMetric.
type MetricSourceType string

// Metric source types.
const (
	ResourceMetricSourceType MetricSourceType = "Resource"
	ExternalMetricSourceType MetricSourceType = "External"
	PodMetricSourceType      MetricSourceType = "PodMetric"
)

// MetricsSpec is one autoscaling metric.
type MetricsSpec struct {
	Type      MetricSourceType      `json:"type"`
	Resource  *ResourceMetricSource `json:"resource,omitempty"`
	External  *ExternalMetricSource `json:"external,omitempty"`
	PodMetric *PodMetricSource      `json:"podmetric,omitempty"`
}

// ResourceMetricSource scales on cpu or memory.
type ResourceMetricSource struct {
	Name   string       `json:"name"`
	Target MetricTarget `json:"target"`
}

// ExternalMetricSource scales on a query against a metrics backend.
type ExternalMetricSource struct {
	Metric            ExternalMetrics          `json:"metric"`
	AuthenticationRef *ExtMetricAuthentication `json:"authenticationRef,omitempty"`
	Target            MetricTarget             `json:"target"`
}

// ExtMetricAuthentication points at a KEDA TriggerAuthentication.
type ExtMetricAuthentication struct {
	AuthenticationRef ExtAuthenticationRef `json:"authenticationRef,omitempty"`
	AuthModes         string               `json:"authModes,omitempty"`
}

// ExtAuthenticationRef names a TriggerAuthentication.
type ExtAuthenticationRef struct {
	Name string `json:"name,omitempty"`
}

// PodMetricSource scales on a per-pod metric (OpenTelemetry collector).
type PodMetricSource struct {
	Metric PodMetrics   `json:"metric"`
	Target MetricTarget `json:"target"`
}

// PodMetrics names a per-pod metric query.
type PodMetrics struct {
	Backend string `json:"backend,omitempty"`
	Query   string `json:"query,omitempty"`
}

// ExternalMetrics is the backend query of an external metric.
type ExternalMetrics struct {
	Backend       string `json:"backend,omitempty"`
	ServerAddress string `json:"serverAddress,omitempty"`
	Query         string `json:"query,omitempty"`
	Namespace     string `json:"namespace,omitempty"`
}

// MetricTarget is the target value of a metric.
type MetricTarget struct {
	Type               autoscalingv2.MetricTargetType `json:"type,omitempty"`
	Value              *MetricQuantity                `json:"value,omitempty"`
	AverageValue       *MetricQuantity                `json:"averageValue,omitempty"`
	AverageUtilization *int32                         `json:"averageUtilization,omitempty"`
}

// MetricQuantity is a target value written as a number or a string; the
// text is kept as written (KServe passes it to KEDA verbatim).
type MetricQuantity string

// UnmarshalJSON accepts a JSON number or string.
func (q *MetricQuantity) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*q = MetricQuantity(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("metric target value must be a number or a string: %w", err)
	}
	*q = MetricQuantity(n.String())
	return nil
}
