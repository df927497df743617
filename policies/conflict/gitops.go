package conflict

import (
	"fmt"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// rolloutKind is Argo Rollouts' Rollout, which KEDA scales through /scale.
var rolloutKind = schema.GroupKind{Group: argov1alpha1.GroupVersion.Group, Kind: "Rollout"}

const gitOpsFix = "drop spec.replicas from the manifest, or add an ignoreDifferences entry for /spec/replicas with the sync option RespectIgnoreDifferences=true"

// helmToo is what a tracking label alone cannot rule out.
const helmToo = "(Helm sets this label too, and helm upgrade keeps replicas its chart did not change)"

func checkGitOps(in *policies.Input) []policies.Finding {
	scaledBy := func(ref policies.WorkloadRef, apiVersion, what string, path *field.Path) []policies.Finding {
		tracking, applied, ok := resetBySync(in, ref)
		if !ok {
			return nil
		}
		w := workloadText(apiVersion, ref, defaultNS(in.Object.GetNamespace()))
		if tracking.firm {
			return []policies.Finding{policies.Warnf(path,
				"%s is managed by Argo CD (%s) and %s: with self-heal on, every sync resets the replicas %s chose; %s",
				w, tracking.by, applied, what, gitOpsFix)}
		}
		return []policies.Finding{policies.Warnf(path,
			"%s: %s, and %s, every sync resets the replicas %s chose %s; %s",
			w, applied, tracking.suggests(), what, helmToo, gitOpsFix)}
	}
	switch o := in.Object.(type) {
	case *kedav1alpha1.ScaledObject:
		if t, ok := policies.KEDATarget(o); ok {
			return scaledBy(t, orDefault(o.Spec.ScaleTargetRef.APIVersion, policies.KEDADefaultAPIVersion), "this ScaledObject", field.NewPath("spec", "scaleTargetRef"))
		}
	case *autoscalingv2.HorizontalPodAutoscaler:
		if _, ok := kedaOwner(o, in.View); !ok {
			return scaledBy(policies.HPATarget(o), o.Spec.ScaleTargetRef.APIVersion, "this HPA", field.NewPath("spec", "scaleTargetRef"))
		}
	case *kthenav1alpha1.AutoscalingPolicy:
		return policyScales(policyTargets(o), scaledBy)
	case *kthenav1alpha1.AutoscalingPolicyBinding:
		return policyScales(bindingTargets(o), scaledBy)
	case *kthenav1alpha1.ModelServing:
		return modelServingResetBySync(o, in)
	}
	return nil
}

func policyScales(targets []policyTarget, scaledBy func(policies.WorkloadRef, string, string, *field.Path) []policies.Finding) []policies.Finding {
	var out []policies.Finding
	for _, t := range targets {
		if !t.roles { // a disaggregated policy scales the roles, not spec.replicas
			out = append(out, scaledBy(t.ref, t.apiVersion, "Kthena's autoscaler", t.path)...)
		}
	}
	return out
}

// modelServingResetBySync judges a ModelServing from its own side: managed
// by Argo CD, spec.replicas in its applied manifest, and scaled by someone.
func modelServingResetBySync(ms *kthenav1alpha1.ModelServing, in *policies.Input) []policies.Finding {
	tracking, ok := argoTracking(ms, in.Settings)
	if !ok {
		return nil
	}
	applied, ok := appliedReplicas(ms, ms.Spec.Replicas != nil)
	if !ok {
		return nil
	}
	ns := defaultNS(ms.Namespace)
	ref := policies.WorkloadRef{Group: policies.ModelServingKind.Group, Kind: policies.ModelServingKind.Kind, Namespace: ns, Name: ms.Name}
	var scalers []string
	for _, so := range in.View.ScaledObjectsFor(ref) {
		scalers = append(scalers, objectText("ScaledObject", defaultNS(so.Namespace), so.Name, ns))
	}
	for _, hpa := range in.View.HPAsFor(ref) {
		if _, ok := kedaOwner(hpa, in.View); !ok {
			scalers = append(scalers, objectText("HorizontalPodAutoscaler", defaultNS(hpa.Namespace), hpa.Name, ns))
		}
	}
	for _, p := range in.View.AutoscalingPolicies("") {
		for _, t := range policyTargets(p) {
			if t.ref == ref && !t.roles {
				scalers = append(scalers, objectText("AutoscalingPolicy", defaultNS(p.Namespace), p.Name, ns))
			}
		}
	}
	for _, b := range in.View.AutoscalingPolicyBindings("") {
		for _, t := range bindingTargets(b) {
			if t.ref == ref {
				scalers = append(scalers, objectText("AutoscalingPolicyBinding", defaultNS(b.Namespace), b.Name, ns))
			}
		}
	}
	if len(scalers) == 0 {
		return nil
	}
	if tracking.firm {
		return []policies.Finding{policies.Warnf(field.NewPath("spec", "replicas"),
			"is set by the applied manifest of this ModelServing (%s), which Argo CD manages (%s), and %s scales it: with self-heal on, every sync resets the replicas the autoscaler chose; %s",
			applied, tracking.by, strings.Join(scalers, " and "), gitOpsFix)}
	}
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "replicas"),
		"is set by the applied manifest of this ModelServing (%s), and %s scales it; %s, every sync resets the replicas the autoscaler chose %s; %s",
		applied, strings.Join(scalers, " and "), tracking.suggests(), helmToo, gitOpsFix)}
}

// resetBySync says why a GitOps sync would reset a workload's replicas, if
// it would: the workload is tracked by Argo CD, and how its applied
// manifest sets spec.replicas.
func resetBySync(in *policies.Input, ref policies.WorkloadRef) (tracking, string, bool) {
	obj, ok := policies.LookupWorkload(in.View, ref)
	if !ok && ref.GroupKind() == rolloutKind {
		obj, ok = in.View.Rollout(ref.Namespace, ref.Name)
	}
	if !ok {
		return tracking{}, "", false
	}
	t, ok := argoTracking(obj, in.Settings)
	if !ok {
		return tracking{}, "", false
	}
	var set bool
	switch w := obj.(type) {
	case *appsv1.Deployment:
		set = w.Spec.Replicas != nil
	case *appsv1.StatefulSet:
		set = w.Spec.Replicas != nil
	case *kthenav1alpha1.ModelServing:
		set = w.Spec.Replicas != nil
	case *argov1alpha1.Rollout:
		set = w.Spec.Replicas != nil
	}
	applied, ok := appliedReplicas(obj, set)
	if !ok {
		return tracking{}, "", false
	}
	return t, applied, true
}

// tracking is what marks a workload as managed by Argo CD.
type tracking struct {
	// by names the annotation or label: "annotation argocd.argoproj.io/tracking-id".
	by string
	// firm: an annotation only Argo CD writes. A label is only a hint:
	// app.kubernetes.io/instance, Argo CD's default tracking label, is also
	// the label Helm charts set on every release.
	firm bool
	// label is the tracking label, when that is all there is.
	label string
}

// suggests hedges a tracking label: "the label X suggests Argo CD label
// tracking; if Argo CD manages it with self-heal".
func (t tracking) suggests() string {
	return fmt.Sprintf("the label %s suggests Argo CD label tracking; if Argo CD manages it with self-heal", t.label)
}

// argoTracking says which tracking annotation or label marks obj as
// managed by Argo CD; an annotation wins over a label.
func argoTracking(obj metav1.Object, s *policies.Settings) (tracking, bool) {
	for _, a := range s.Conflicts.GitOpsTrackingAnnotations {
		if obj.GetAnnotations()[a] != "" {
			return tracking{by: "annotation " + a, firm: true}, true
		}
	}
	for _, l := range s.Conflicts.GitOpsTrackingLabels {
		if obj.GetLabels()[l] != "" {
			return tracking{by: "label " + l, label: l}, true
		}
	}
	return tracking{}, false
}

// appliedReplicas says whether the manifest last applied to obj sets
// spec.replicas, and how that is known: kubectl's last-applied copy (client-
// side apply), a server-side apply field manager owning spec.replicas, or,
// for a manifest that was never stored (check), the manifest itself. A
// stored object with neither record tells nothing: spec.replicas is always
// set once the API server defaults it.
func appliedReplicas(obj metav1.Object, specReplicasSet bool) (string, bool) {
	if raw, ok := obj.GetAnnotations()[policies.LastAppliedAnnotation]; ok {
		if set, ok := policies.LastAppliedSetsReplicas(raw); ok {
			if set {
				return "its last-applied configuration sets spec.replicas", true
			}
			return "", false
		}
	}
	for _, mf := range obj.GetManagedFields() {
		if policies.AppliesSpecReplicas(mf) {
			return fmt.Sprintf("field manager %q applies spec.replicas", mf.Manager), true
		}
	}
	created := obj.GetCreationTimestamp()
	stored := obj.GetResourceVersion() != "" || obj.GetUID() != "" || len(obj.GetManagedFields()) > 0 || !created.IsZero()
	if !stored && specReplicasSet {
		return "its manifest sets spec.replicas", true
	}
	return "", false
}
