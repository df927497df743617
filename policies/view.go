package policies

import (
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	vpav1 "github.com/scaleguard/scaleguard/apis/vpa/v1"
)

// ClusterView is a read-only view of the objects related to the one under
// judgement. In serve it is the informer cache; in check it is the set of
// manifests given. Objects it returns are shared: rules must not modify them.
//
// Lookups never fail: a kind the cluster does not serve is simply empty.
type ClusterView interface {
	// Namespace returns a namespace by name.
	Namespace(name string) (*corev1.Namespace, bool)

	// Deployment returns an apps/v1 Deployment by namespace and name.
	Deployment(namespace, name string) (*appsv1.Deployment, bool)
	// StatefulSet returns an apps/v1 StatefulSet by namespace and name.
	StatefulSet(namespace, name string) (*appsv1.StatefulSet, bool)
	// Rollout returns an Argo Rollout by namespace and name.
	Rollout(namespace, name string) (*argov1alpha1.Rollout, bool)
	// LeaderWorkerSet returns a LeaderWorkerSet by namespace and name.
	LeaderWorkerSet(namespace, name string) (*lwsv1.LeaderWorkerSet, bool)
	// ModelServing returns a Kthena ModelServing by namespace and name.
	ModelServing(namespace, name string) (*kthenav1alpha1.ModelServing, bool)
	// InferenceService returns a KServe InferenceService by namespace and name.
	InferenceService(namespace, name string) (*kservev1beta1.InferenceService, bool)
	// InferenceServices lists the InferenceServices of a namespace.
	InferenceServices(namespace string) []*kservev1beta1.InferenceService

	// ScaledObjects lists the ScaledObjects of a namespace.
	ScaledObjects(namespace string) []*kedav1alpha1.ScaledObject
	// ScaledObjectsFor lists the ScaledObjects whose scaleTargetRef, with
	// KEDA's defaults applied, is target.
	ScaledObjectsFor(target WorkloadRef) []*kedav1alpha1.ScaledObject
	// HPAs lists the HorizontalPodAutoscalers of a namespace.
	HPAs(namespace string) []*autoscalingv2.HorizontalPodAutoscaler
	// HPAsFor lists the HorizontalPodAutoscalers whose scaleTargetRef is target.
	HPAsFor(target WorkloadRef) []*autoscalingv2.HorizontalPodAutoscaler

	// AutoscalingPolicies lists Kthena AutoscalingPolicies; namespace ""
	// lists every namespace (a policy's targetRef may cross namespaces).
	AutoscalingPolicies(namespace string) []*kthenav1alpha1.AutoscalingPolicy
	// AutoscalingPolicyBindings lists the older Kthena bindings; namespace
	// "" lists every namespace.
	AutoscalingPolicyBindings(namespace string) []*kthenav1alpha1.AutoscalingPolicyBinding

	// Services lists the Services of a namespace.
	Services(namespace string) []*corev1.Service
	// PodMonitors lists the PodMonitors of a namespace.
	PodMonitors(namespace string) []*monitoringv1.PodMonitor
	// ServiceMonitors lists the ServiceMonitors of a namespace.
	ServiceMonitors(namespace string) []*monitoringv1.ServiceMonitor
	// ResourceQuotas lists the ResourceQuotas of a namespace.
	ResourceQuotas(namespace string) []*corev1.ResourceQuota

	// ResourceClaimTemplate returns a resource.k8s.io/v1 ResourceClaimTemplate
	// (dynamic resource allocation) by namespace and name.
	ResourceClaimTemplate(namespace, name string) (*resourcev1.ResourceClaimTemplate, bool)
	// ResourceClaim returns a resource.k8s.io/v1 ResourceClaim by namespace
	// and name.
	ResourceClaim(namespace, name string) (*resourcev1.ResourceClaim, bool)

	// The workloads whose pod templates a monitor may select, listed per
	// namespace; namespace "" lists every namespace (a monitor's
	// namespaceSelector may span them). Pods themselves are never viewed:
	// their number would dominate the webhook's memory.

	// Deployments lists apps/v1 Deployments.
	Deployments(namespace string) []*appsv1.Deployment
	// StatefulSets lists apps/v1 StatefulSets.
	StatefulSets(namespace string) []*appsv1.StatefulSet
	// DaemonSets lists apps/v1 DaemonSets (node exporters such as
	// dcgm-exporter run as DaemonSets).
	DaemonSets(namespace string) []*appsv1.DaemonSet
	// Rollouts lists Argo Rollouts.
	Rollouts(namespace string) []*argov1alpha1.Rollout
	// LeaderWorkerSets lists LeaderWorkerSets.
	LeaderWorkerSets(namespace string) []*lwsv1.LeaderWorkerSet
	// ModelServings lists Kthena ModelServings.
	ModelServings(namespace string) []*kthenav1alpha1.ModelServing

	// Autoscalers lists the objects of an autoscaler kind of the catalogue
	// (policies/autoscalers; read as unstructured data) in a namespace, ""
	// for every namespace.
	Autoscalers(kind schema.GroupKind, namespace string) []*unstructured.Unstructured
	// VerticalPodAutoscalers lists the VerticalPodAutoscalers of a
	// namespace.
	VerticalPodAutoscalers(namespace string) []*vpav1.VerticalPodAutoscaler

	// PodMonitorPortNumber reports whether the PodMonitor API of the cluster
	// has podMetricsEndpoints[].portNumber (prometheus-operator v0.79 and
	// later). In serve it is read from the installed CRD's schema; check
	// assumes a current prometheus-operator.
	PodMonitorPortNumber() bool
}
