// Package apis holds the scheme of every kind scaleguard reads and the table
// of the kinds it guards.
package apis

import (
	"fmt"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kedahttpv1alpha1 "github.com/scaleguard/scaleguard/apis/kedahttp/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
)

// Scheme knows the built-in kinds, KEDA, prometheus-operator, the local
// KServe, Kthena, Argo Rollouts, LeaderWorkerSet and KEDA HTTP add-on views,
// and scaleguard's own ScaleGuardPolicy.
var Scheme = runtime.NewScheme()

func init() {
	utilruntime.Must(clientgoscheme.AddToScheme(Scheme))
	utilruntime.Must(kedav1alpha1.AddToScheme(Scheme))
	utilruntime.Must(monitoringv1.AddToScheme(Scheme))
	utilruntime.Must(kservev1beta1.AddToScheme(Scheme))
	utilruntime.Must(kthenav1alpha1.AddToScheme(Scheme))
	utilruntime.Must(argov1alpha1.AddToScheme(Scheme))
	utilruntime.Must(lwsv1.AddToScheme(Scheme))
	utilruntime.Must(kedahttpv1alpha1.AddToScheme(Scheme))
	utilruntime.Must(sgv1alpha1.AddToScheme(Scheme))
}

var codecs = serializer.NewCodecFactory(Scheme)

// The guarded kinds.
var (
	ScaledObject             = kedav1alpha1.SchemeGroupVersion.WithKind("ScaledObject")
	InferenceService         = kservev1beta1.GroupVersion.WithKind("InferenceService")
	ModelServing             = kthenav1alpha1.GroupVersion.WithKind("ModelServing")
	AutoscalingPolicy        = kthenav1alpha1.GroupVersion.WithKind("AutoscalingPolicy")
	AutoscalingPolicyBinding = kthenav1alpha1.GroupVersion.WithKind("AutoscalingPolicyBinding")
	HorizontalPodAutoscaler  = autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")
	PodMonitor               = monitoringv1.SchemeGroupVersion.WithKind("PodMonitor")
	ServiceMonitor           = monitoringv1.SchemeGroupVersion.WithKind("ServiceMonitor")
	HTTPScaledObject         = kedahttpv1alpha1.GroupVersion.WithKind("HTTPScaledObject")
)

// Kind is a guarded kind with its REST resource name.
type Kind struct {
	GVK      schema.GroupVersionKind
	Resource string
}

// GVR is the kind's group, version and resource.
func (k Kind) GVR() schema.GroupVersionResource {
	return k.GVK.GroupVersion().WithResource(k.Resource)
}

// Guarded lists every kind scaleguard judges on admission and in check.
var Guarded = []Kind{
	{ScaledObject, "scaledobjects"},
	{InferenceService, "inferenceservices"},
	{ModelServing, "modelservings"},
	{AutoscalingPolicy, "autoscalingpolicies"},
	{AutoscalingPolicyBinding, "autoscalingpolicybindings"},
	{HorizontalPodAutoscaler, "horizontalpodautoscalers"},
	{PodMonitor, "podmonitors"},
	{ServiceMonitor, "servicemonitors"},
	{HTTPScaledObject, "httpscaledobjects"},
}

// IsGuarded reports whether gvk is one of the guarded kinds.
func IsGuarded(gvk schema.GroupVersionKind) bool {
	for _, k := range Guarded {
		if k.GVK == gvk {
			return true
		}
	}
	return false
}

// IsGuardedGroupKind reports whether a group and kind (any version) is guarded.
func IsGuardedGroupKind(gk schema.GroupKind) bool {
	for _, k := range Guarded {
		if k.GVK.GroupKind() == gk {
			return true
		}
	}
	return false
}

// Decode decodes a JSON object of a kind the scheme knows into its Go type.
// Unknown fields are ignored; a field of the wrong type is an error.
func Decode(gvk schema.GroupVersionKind, data []byte) (client.Object, error) {
	into, err := Scheme.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("kind %s is not known: %w", gvk, err)
	}
	obj, _, err := codecs.UniversalDeserializer().Decode(data, &gvk, into)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", gvk.Kind, err)
	}
	cobj, ok := obj.(client.Object)
	if !ok {
		return nil, fmt.Errorf("kind %s is not an object with metadata", gvk)
	}
	cobj.GetObjectKind().SetGroupVersionKind(gvk)
	return cobj, nil
}
