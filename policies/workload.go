package policies

import (
	"fmt"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
)

// WorkloadRef identifies a scaled workload. The version is left out on
// purpose: two references to the same group, kind, namespace and name are
// the same object whatever version they name.
type WorkloadRef struct {
	Group     string
	Kind      string
	Namespace string
	Name      string
}

// GroupKind is the reference's group and kind.
func (w WorkloadRef) GroupKind() schema.GroupKind {
	return schema.GroupKind{Group: w.Group, Kind: w.Kind}
}

// Key is a stable string form, used to index objects by target.
func (w WorkloadRef) Key() string {
	return w.Group + "/" + w.Kind + "/" + w.Namespace + "/" + w.Name
}

// String renders the reference for messages: `apps/v1 Deployment "llm"`
// style without the version: `Deployment.apps "llm"`.
func (w WorkloadRef) String() string {
	if w.Group == "" {
		return fmt.Sprintf("%s %q", w.Kind, w.Name)
	}
	return fmt.Sprintf("%s.%s %q", w.Kind, w.Group, w.Name)
}

// Well-known workload group-kinds.
var (
	DeploymentKind   = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	StatefulSetKind  = schema.GroupKind{Group: "apps", Kind: "StatefulSet"}
	ModelServingKind = schema.GroupKind{Group: kthenav1alpha1.GroupVersion.Group, Kind: "ModelServing"}
	// LeaderWorkerSetKind is the workload multi-node vLLM runs on.
	LeaderWorkerSetKind = schema.GroupKind{Group: lwsv1.GroupVersion.Group, Kind: "LeaderWorkerSet"}
)

// KEDA's defaults for an empty scaleTargetRef apiVersion and kind.
const (
	KEDADefaultAPIVersion = "apps/v1"
	KEDADefaultKind       = "Deployment"
)

// KEDATarget is the workload a ScaledObject scales, with KEDA's defaults
// applied the way KEDA applies them: an empty apiVersion means apps/v1 and
// an empty kind means Deployment, independently of each other. An
// unparsable apiVersion yields its raw text as the group.
func KEDATarget(so *kedav1alpha1.ScaledObject) (WorkloadRef, bool) {
	ref := so.Spec.ScaleTargetRef
	if ref == nil {
		return WorkloadRef{}, false
	}
	ns := so.Namespace
	if ns == "" {
		ns = "default"
	}
	apiVersion, kind := ref.APIVersion, ref.Kind
	if apiVersion == "" {
		apiVersion = KEDADefaultAPIVersion
	}
	if kind == "" {
		kind = KEDADefaultKind
	}
	group := apiVersion
	if gv, err := schema.ParseGroupVersion(apiVersion); err == nil {
		group = gv.Group
	}
	return WorkloadRef{Group: group, Kind: kind, Namespace: ns, Name: ref.Name}, true
}

// HPATarget is the workload an HPA scales.
func HPATarget(hpa *autoscalingv2.HorizontalPodAutoscaler) WorkloadRef {
	ns := hpa.Namespace
	if ns == "" {
		ns = "default"
	}
	ref := hpa.Spec.ScaleTargetRef
	group := ref.APIVersion
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err == nil {
		group = gv.Group
	}
	return WorkloadRef{Group: group, Kind: ref.Kind, Namespace: ns, Name: ref.Name}
}

// LookupWorkload returns the workload a reference names, for the kinds the
// ClusterView serves (Deployment, StatefulSet, ModelServing, LeaderWorkerSet).
func LookupWorkload(view ClusterView, ref WorkloadRef) (client.Object, bool) {
	switch ref.GroupKind() {
	case DeploymentKind:
		if d, ok := view.Deployment(ref.Namespace, ref.Name); ok {
			return d, true
		}
	case StatefulSetKind:
		if s, ok := view.StatefulSet(ref.Namespace, ref.Name); ok {
			return s, true
		}
	case ModelServingKind:
		if m, ok := view.ModelServing(ref.Namespace, ref.Name); ok {
			return m, true
		}
	case LeaderWorkerSetKind:
		if l, ok := view.LeaderWorkerSet(ref.Namespace, ref.Name); ok {
			return l, true
		}
	}
	return nil, false
}

// ViewsKind reports whether LookupWorkload can see objects of this kind.
func ViewsKind(gk schema.GroupKind) bool {
	switch gk {
	case DeploymentKind, StatefulSetKind, ModelServingKind, LeaderWorkerSetKind:
		return true
	}
	return false
}
