package keeper

import (
	"context"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// Name is the keeper's controller name.
const Name = "pause-keeper"

// SetupWithManager registers the keeper: it reconciles ScaledObjects, and
// ScaledObjects whose target (a Deployment, StatefulSet, ModelServing,
// Rollout or InferenceService) or namespace changes. Kinds the cluster does not serve
// (served is the ClusterView's list) are not watched; WatchServed adds
// one whose CRD is installed later.
func (k *Keeper) SetupWithManager(mgr ctrl.Manager, served map[schema.GroupVersionKind]bool) error {
	b := ctrl.NewControllerManagedBy(mgr).Named(Name).For(&kedav1alpha1.ScaledObject{})
	for _, w := range k.watches() {
		if served[w.gvk] {
			b = b.Watches(w.obj, handler.EnqueueRequestsFromMapFunc(w.fn), builder.WithPredicates(w.predicates...))
		}
	}
	c, err := b.Build(k)
	if err != nil {
		return err
	}
	k.controller, k.cache = c, mgr.GetCache()
	return nil
}

// WatchServed adds to a running keeper the watch of a kind the cluster
// serves since the keeper was set up (its CRD was installed later); a kind
// the keeper does not follow is ignored.
func (k *Keeper) WatchServed(gvk schema.GroupVersionKind) error {
	if k.controller == nil {
		return nil
	}
	for _, w := range k.watches() {
		if w.gvk == gvk {
			return k.controller.Watch(source.Kind(k.cache, w.obj, handler.EnqueueRequestsFromMapFunc(w.fn), w.predicates...))
		}
	}
	return nil
}

// watch is a kind whose changes reconcile the ScaledObjects fn maps them to.
type watch struct {
	gvk        schema.GroupVersionKind
	obj        client.Object
	fn         handler.MapFunc
	predicates []predicate.Predicate
}

func (k *Keeper) watches() []watch {
	workload := []predicate.Predicate{predicate.GenerationChangedPredicate{}}
	return []watch{
		{appsv1.SchemeGroupVersion.WithKind("Deployment"), &appsv1.Deployment{}, k.byTarget(policies.DeploymentKind), workload},
		{appsv1.SchemeGroupVersion.WithKind("StatefulSet"), &appsv1.StatefulSet{}, k.byTarget(policies.StatefulSetKind), workload},
		{kthenav1alpha1.GroupVersion.WithKind("ModelServing"), &kthenav1alpha1.ModelServing{}, k.byTarget(policies.ModelServingKind), workload},
		{argov1alpha1.GroupVersion.WithKind("Rollout"), &argov1alpha1.Rollout{}, k.byTarget(gpu.RolloutKind), workload},
		{kservev1beta1.GroupVersion.WithKind("InferenceService"), &kservev1beta1.InferenceService{}, k.byInferenceService, workload},
		{corev1.SchemeGroupVersion.WithKind("Namespace"), &corev1.Namespace{}, k.byNamespace, []predicate.Predicate{predicate.LabelChangedPredicate{}}},
	}
}

func (k *Keeper) byTarget(gk schema.GroupKind) handler.MapFunc {
	return func(_ context.Context, obj client.Object) []reconcile.Request {
		ref := policies.WorkloadRef{Group: gk.Group, Kind: gk.Kind, Namespace: obj.GetNamespace(), Name: obj.GetName()}
		return requests(k.View.ScaledObjectsFor(ref))
	}
}

// byInferenceService maps an InferenceService to the ScaledObjects that
// scale its predictor Deployment and those it generated.
func (k *Keeper) byInferenceService(_ context.Context, obj client.Object) []reconcile.Request {
	isvc, ok := obj.(*kservev1beta1.InferenceService)
	if !ok {
		return nil
	}
	ref := policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: isvc.Namespace, Name: gpu.PredictorDeployment(isvc)}
	out := requests(k.View.ScaledObjectsFor(ref))
	for _, so := range k.View.ScaledObjects(isvc.Namespace) {
		if owner := metav1.GetControllerOf(so); owner != nil && owner.Kind == "InferenceService" && owner.UID == isvc.UID {
			out = append(out, request(so))
		}
	}
	return out
}

func (k *Keeper) byNamespace(_ context.Context, obj client.Object) []reconcile.Request {
	return requests(k.View.ScaledObjects(obj.GetName()))
}

func requests(sos []*kedav1alpha1.ScaledObject) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(sos))
	for _, so := range sos {
		out = append(out, request(so))
	}
	return out
}

func request(so *kedav1alpha1.ScaledObject) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: so.Namespace, Name: so.Name}}
}
