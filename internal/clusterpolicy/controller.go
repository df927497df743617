package clusterpolicy

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/policies"
)

// The status controller gets the policy it reconciles from the API server
// (the manager's client caches typed objects only, and policies are read
// unstructured) and writes only their status subresource.
//
// +kubebuilder:rbac:groups=scaleguard.io,resources=scaleguardpolicies,verbs=get
// +kubebuilder:rbac:groups=scaleguard.io,resources=scaleguardpolicies/status,verbs=update

// StatusControllerName names the controller that writes policies' status.
const StatusControllerName = "policy-status"

// StatusController writes each policy's status: the generation in force,
// the namespaces it covers, Ready and Conflicting, and the audit's counts
// in those namespaces (it is the audit's CountSink). A change to any
// policy, to a namespace's labels, or a finished scan can change every
// policy's status, so every event enqueues them all. It reads the cache
// and writes only when the status changes.
type StatusController struct {
	// Client reads from the cache and writes status.
	Client   client.Client
	Store    *Store
	Registry *policies.Registry
	Log      logr.Logger

	countsMu sync.Mutex
	counts   *audit.Counts
	scanned  chan event.GenericEvent
}

// SetupWithManager registers the controller.
func (r *StatusController) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).Named(StatusControllerName).
		Watches(newObject(), handler.EnqueueRequestsFromMapFunc(r.all)).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.all), builder.WithPredicates(predicate.LabelChangedPredicate{})).
		WatchesRawSource(source.Channel(r.scannedEvents(), handler.EnqueueRequestsFromMapFunc(r.all))).
		Complete(r)
}

func (r *StatusController) all(context.Context, client.Object) []reconcile.Request {
	var out []reconcile.Request
	for _, p := range r.Store.Current().Policies() {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Name: p.Name}})
	}
	return out
}

// retry is when a reconcile that raced with a change looks again.
const retry = 200 * time.Millisecond

// Reconcile implements reconcile.Reconciler.
func (r *StatusController) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	set := r.Store.Current()
	p, ok := set.Get(req.Name)
	if !ok {
		return reconcile.Result{}, nil
	}
	u := newObject()
	if err := r.Client.Get(ctx, req.NamespacedName, u); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if u.GetUID() != p.UID || u.GetGeneration() != p.Generation {
		// The store has not caught up with the cache yet.
		return reconcile.Result{RequeueAfter: retry}, nil
	}
	var nss corev1.NamespaceList
	if err := r.Client.List(ctx, &nss); err != nil {
		return reconcile.Result{}, err
	}
	var old sgv1alpha1.ScaleGuardPolicyStatus
	if raw, ok := u.Object["status"].(map[string]any); ok {
		// A status that no longer decodes is simply rewritten.
		_ = runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &old)
	}
	st := Status(p, set, nss.Items, r.Registry, old)
	// Before this process's first scan, the counts of the last one stay.
	st.Audit = old.Audit
	if c := r.lastCounts(); c != nil {
		st.Audit = AuditStatus(p, *c, nss.Items)
	}
	if equality.Semantic.DeepEqual(old, st) {
		return reconcile.Result{}, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&st)
	if err != nil {
		return reconcile.Result{}, err
	}
	u.Object["status"] = m
	if err := r.Client.Status().Update(ctx, u); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return reconcile.Result{RequeueAfter: retry}, nil
		}
		return reconcile.Result{}, err
	}
	r.Log.V(1).Info("status updated", "policy", p.Name, "inForce", p.InForce, "namespaces", st.NamespaceCount)
	return reconcile.Result{}, nil
}
