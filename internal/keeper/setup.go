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
// (served is the ClusterView's list) are not watched.
func (k *Keeper) SetupWithManager(mgr ctrl.Manager, served map[schema.GroupVersionKind]bool) error {
	b := ctrl.NewControllerManagedBy(mgr).Named(Name).For(&kedav1alpha1.ScaledObject{})
	workload := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	watch := func(gvk schema.GroupVersionKind, obj client.Object, fn handler.MapFunc, opts ...builder.WatchesOption) {
		if served[gvk] {
			b = b.Watches(obj, handler.EnqueueRequestsFromMapFunc(fn), opts...)
		}
	}
	watch(appsv1.SchemeGroupVersion.WithKind("Deployment"), &appsv1.Deployment{}, k.byTarget(policies.DeploymentKind), workload)
	watch(appsv1.SchemeGroupVersion.WithKind("StatefulSet"), &appsv1.StatefulSet{}, k.byTarget(policies.StatefulSetKind), workload)
	watch(kthenav1alpha1.GroupVersion.WithKind("ModelServing"), &kthenav1alpha1.ModelServing{}, k.byTarget(policies.ModelServingKind), workload)
	watch(argov1alpha1.GroupVersion.WithKind("Rollout"), &argov1alpha1.Rollout{}, k.byTarget(gpu.RolloutKind), workload)
	watch(kservev1beta1.GroupVersion.WithKind("InferenceService"), &kservev1beta1.InferenceService{}, k.byInferenceService, workload)
	watch(corev1.SchemeGroupVersion.WithKind("Namespace"), &corev1.Namespace{}, k.byNamespace, builder.WithPredicates(predicate.LabelChangedPredicate{}))
	return b.Complete(k)
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
