// Package keeper is the pause keeper, a controller in serve that does what
// admission cannot: it re-pauses a GPU-tier ScaledObject when its
// scaleguard.io/unpause-until passes, and pauses a ScaledObject that was
// admitted without a pause decision because its target did not exist yet,
// once that target appears on a GPU tier. It reads the informer cache,
// wakes at the expiry time rather than polling, patches with the field
// manager "scaleguard" and records an Event on every ScaledObject it
// changes. It never touches an explicit, unexpired pause decision.
package keeper

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-logr/logr"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// FieldManager is the field manager of the keeper's patches.
const FieldManager = "scaleguard"

// Event reasons.
const (
	// ReasonRepaused: an un-pause expired and the keeper paused again.
	ReasonRepaused = "Repaused"
	// ReasonPaused: the target appeared on a GPU tier after the
	// ScaledObject was admitted without a pause decision.
	ReasonPaused = "Paused"
	// ReasonPatchFailed: the keeper's patch was refused.
	ReasonPatchFailed = "PauseFailed"
)

// The keeper patches the pause annotations of ScaledObjects (it reads them
// from the cache) and records an Event each time.
//
// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Keeper reconciles ScaledObjects.
type Keeper struct {
	// Client reads ScaledObjects (from the informer cache) and patches them.
	Client client.Client
	// View is the ClusterView the tier is read from.
	View policies.ClusterView
	// Settings yields the effective settings.
	Settings func() *policies.Settings
	// SettingsFor, when set, yields the settings of a namespace (the
	// cluster's ScaleGuardPolicies select namespaces) instead of Settings.
	SettingsFor func(namespace string) *policies.Settings
	// Recorder records Events on the ScaledObjects the keeper changes.
	Recorder events.EventRecorder
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Log is the keeper's logger.
	Log logr.Logger
	// Excluded are namespaces the keeper never touches: the ones the webhook
	// configurations exclude (kube-system and scaleguard's own), so that no
	// object is changed there that admission never judged. Namespaces
	// labelled apis.IgnoreLabel: "true" are left alone too.
	Excluded []string

	// controller and cache are set by SetupWithManager, for WatchServed.
	controller controller.Controller
	cache      cache.Cache
}

// AdmissionLag is how much older than a ScaledObject its target may be and
// still count as not seen at admission: the webhooks read an informer
// cache, which learns of a new object a moment after it is created.
const AdmissionLag = 10 * time.Second

// Action is what the keeper does to one ScaledObject.
type Action int

// Actions.
const (
	// Nothing: leave the object alone (RequeueAfter may still be set).
	Nothing Action = iota
	// Repause: the un-pause expired; set paused "true" and drop the expiry.
	Repause
	// Pause: the target appeared on a GPU tier; set paused "true".
	Pause
)

// Plan is the keeper's decision for one ScaledObject.
type Plan struct {
	Action Action
	// RequeueAfter is when to look again (the un-pause expiry), 0 for never.
	RequeueAfter time.Duration
	// Note says why, for the Event.
	Note string
}

// Decide is the keeper's decision: pure, from the object, the tier of its
// target and the time.
func Decide(so *kedav1alpha1.ScaledObject, tier gpu.Tier, now time.Time) Plan {
	if so.DeletionTimestamp != nil || gpu.HTTPAddOnOwner(so) != "" {
		return Plan{}
	}
	switch gpu.DecisionOf(so.Annotations) {
	case gpu.NoDecision:
		// Only what admission could not decide: a target created after the
		// ScaledObject, or so shortly before it that admission's cache may
		// not have seen it. A ScaledObject without a decision whose target
		// is older predates scaleguard, or was admitted with the rule off;
		// the keeper does not pause running autoscalers behind their
		// owners' backs.
		if !tier.GPU || tier.Object == nil {
			return Plan{}
		}
		created := tier.Object.GetCreationTimestamp()
		if created.Add(AdmissionLag).Before(so.CreationTimestamp.Time) {
			return Plan{}
		}
		return Plan{Action: Pause, Note: fmt.Sprintf(
			"%s appeared on a GPU tier (%s) after this ScaledObject was admitted without a pause decision: set %s to \"true\"; "+
				"to let KEDA scale it, set it to \"false\" with %s: <RFC 3339 time>",
			tier.Target, tier.Reason(), gpu.PausedAnnotation, gpu.UnpauseUntilAnnotation)}
	case gpu.Unpaused:
		until, present, err := gpu.UnpauseUntil(so.Annotations)
		if !present || err != nil {
			return Plan{}
		}
		if wait := until.Sub(now); wait > 0 {
			return Plan{RequeueAfter: wait}
		}
		if !tier.GPU {
			return Plan{}
		}
		return Plan{Action: Repause, Note: fmt.Sprintf(
			"%s %s passed: set %s to \"true\" and removed the expiry, since %s runs on a GPU tier (%s)",
			gpu.UnpauseUntilAnnotation, until.Format(time.RFC3339), gpu.PausedAnnotation, tier.Target, tier.Reason())}
	}
	return Plan{}
}

// Reconcile implements reconcile.Reconciler.
func (k *Keeper) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if slices.Contains(k.Excluded, req.Namespace) {
		return reconcile.Result{}, nil
	}
	if ns, ok := k.View.Namespace(req.Namespace); ok && apis.Ignored(ns.Labels) {
		return reconcile.Result{}, nil
	}
	so := &kedav1alpha1.ScaledObject{}
	if err := k.Client.Get(ctx, req.NamespacedName, so); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	settings := k.settingsFor(req.Namespace)
	if settings.Enforcement(gpu.PausedDefaultID) != policies.Enforce {
		return reconcile.Result{}, nil
	}
	now := time.Now()
	if k.Now != nil {
		now = k.Now()
	}
	if ex := policies.ExemptionOf(settings, so, gpu.PausedDefaultID, now); ex.Applies {
		// Exempt from the rule the keeper carries out; look again when a
		// policy's exemption ends.
		var res reconcile.Result
		if !ex.Until.IsZero() {
			res.RequeueAfter = ex.Until.Sub(now)
		}
		return res, nil
	}
	plan := Decide(so, gpu.Classify(so, k.View, &settings.GPU), now)
	if plan.Action == Nothing {
		return reconcile.Result{RequeueAfter: plan.RequeueAfter}, nil
	}
	orig := so.DeepCopy()
	if so.Annotations == nil {
		so.Annotations = map[string]string{}
	}
	so.Annotations[gpu.PausedAnnotation] = "true"
	reason, action, metric := ReasonPaused, "Pause", "pause"
	if plan.Action == Repause {
		delete(so.Annotations, gpu.UnpauseUntilAnnotation)
		reason, action, metric = ReasonRepaused, "Repause", "repause"
	}
	// The optimistic lock makes a patch based on a stale cache fail
	// instead of overwriting a decision someone just wrote.
	err := k.Client.Patch(ctx, so, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}), client.FieldOwner(FieldManager))
	switch {
	case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
		// Changed or gone since the cache saw it: the watch event of that
		// change brings the object back here.
		ActionsTotal.WithLabelValues(metric, ResultConflict).Inc()
		k.Log.V(1).Info("not patched: the object changed", "namespace", so.Namespace, "name", so.Name, "error", err.Error())
		return reconcile.Result{}, nil
	case err != nil:
		ActionsTotal.WithLabelValues(metric, ResultFailed).Inc()
		k.Recorder.Eventf(orig, nil, corev1.EventTypeWarning, ReasonPatchFailed, action, "could not set %s to \"true\": %v", gpu.PausedAnnotation, err)
		return reconcile.Result{}, err
	}
	ActionsTotal.WithLabelValues(metric, ResultPatched).Inc()
	k.Recorder.Eventf(so, nil, corev1.EventTypeNormal, reason, action, "%s", plan.Note)
	k.Log.Info("paused", "namespace", so.Namespace, "name", so.Name, "reason", reason)
	return reconcile.Result{}, nil
}

func (k *Keeper) settingsFor(namespace string) *policies.Settings {
	if k.SettingsFor != nil {
		return k.SettingsFor(namespace)
	}
	return k.Settings()
}
