package gpu

import (
	"fmt"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kedahttpv1alpha1 "github.com/scaleguard/scaleguard/apis/kedahttp/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// HPADefaultMinReplicas is minReplicas when an HPA leaves it unset.
const HPADefaultMinReplicas = 1

// The idle cost and cooldown of the autoscalers beside ScaledObjects: a
// plain HorizontalPodAutoscaler, and the KEDA HTTP add-on's
// HTTPScaledObject (judged at the owner: the ScaledObject the add-on
// generates from it is left alone, since pausing it would stop the
// interceptor's scale-from-zero).

// HTTPAddOnOwner is the name of the HTTPScaledObject whose KEDA HTTP
// add-on generated the ScaledObject, "" for any other. Such a ScaledObject
// is never paused, by the webhook or the pause keeper: the add-on's
// interceptor holds requests while KEDA scales the target from zero.
func HTTPAddOnOwner(so *kedav1alpha1.ScaledObject) string {
	ref := metav1.GetControllerOf(so)
	if ref == nil || ref.Kind != "HTTPScaledObject" || apiGroup(ref.APIVersion) != kedahttpv1alpha1.GroupVersion.Group {
		return ""
	}
	return ref.Name
}

// kedaHPA reports whether KEDA made the HPA for a ScaledObject (judged
// through that ScaledObject).
func kedaHPA(hpa *autoscalingv2.HorizontalPodAutoscaler) bool {
	for _, ref := range hpa.OwnerReferences {
		if ref.Kind == "ScaledObject" && apiGroup(ref.APIVersion) == kedav1alpha1.SchemeGroupVersion.Group {
			return true
		}
	}
	return hpa.Labels[kedav1alpha1.ScaledObjectOwnerAnnotation] != ""
}

func classifyHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, in *policies.Input) *Tier {
	if hpa.DeletionTimestamp != nil || kedaHPA(hpa) {
		return nil
	}
	return in.Memo(tierKey{}, func() any {
		t := ClassifyHPA(hpa, in.View, &in.Settings.GPU)
		return &t
	}).(*Tier)
}

func classifyHTTP(h *kedahttpv1alpha1.HTTPScaledObject, in *policies.Input) *Tier {
	if h.DeletionTimestamp != nil {
		return nil
	}
	return in.Memo(tierKey{}, func() any {
		t := ClassifyHTTP(h, in.View, &in.Settings.GPU)
		return &t
	}).(*Tier)
}

func checkIdleCostHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, in *policies.Input) []policies.Finding {
	t := classifyHPA(hpa, in)
	if t == nil || !t.GPU {
		return nil
	}
	idle, note := int64(HPADefaultMinReplicas), " (Kubernetes' default when unset)"
	if m := hpa.Spec.MinReplicas; m != nil {
		idle, note = int64(*m), ""
	}
	if idle < 1 {
		return nil
	}
	advice := "a HorizontalPodAutoscaler never scales below 1 replica (minReplicas 0 needs the alpha feature gate HPAScaleToZero), " +
		"so to release them with no load scale the workload with a KEDA ScaledObject with minReplicaCount: 0 instead of this HPA"
	if o := metav1.GetControllerOf(hpa); o != nil && o.Kind == "InferenceService" {
		advice = fmt.Sprintf("KServe's HPA never scales below 1 replica, so to release them with no load set serving.kserve.io/autoscalerClass: keda "+
			"on InferenceService %q, with spec.predictor.minReplicas: 0 and a metric in spec.predictor.autoScaling.metrics that drops to 0 with no load", o.Name)
	}
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "minReplicas"), "%s; %s",
		idleHolds(t, "minReplicas", idle, note, &in.Settings.GPU), advice)}
}

func checkCooldownHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, in *policies.Input) []policies.Finding {
	t := classifyHPA(hpa, in)
	minimum := in.Settings.GPU.MinCooldownSeconds
	if t == nil || !t.GPU || minimum <= 0 {
		return nil
	}
	b := hpa.Spec.Behavior
	if b == nil || b.ScaleDown == nil || b.ScaleDown.StabilizationWindowSeconds == nil || *b.ScaleDown.StabilizationWindowSeconds >= minimum {
		return nil
	}
	w := *b.ScaleDown.StabilizationWindowSeconds
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "behavior", "scaleDown", "stabilizationWindowSeconds"),
		"is %ds, below the %ds a GPU tier needs: the HPA removes GPU replicas of %s after %ds of lower load, and a GPU replica takes minutes to start "+
			"and load its model, so replicas flap; set it to %d or more (or leave it unset: %ds)",
		w, minimum, t.Target, w, minimum, HPADefaultScaleDownWindowSeconds)}
}

// httpMin is an HTTPScaledObject's replicas.min, the add-on's default 0
// when unset.
func httpMin(h *kedahttpv1alpha1.HTTPScaledObject) (int64, bool) {
	if r := h.Spec.Replicas; r != nil && r.Min != nil {
		return int64(*r.Min), true
	}
	return kedahttpv1alpha1.DefaultMinReplicas, false
}

func checkIdleCostHTTP(h *kedahttpv1alpha1.HTTPScaledObject, in *policies.Input) []policies.Finding {
	t := classifyHTTP(h, in)
	if t == nil || !t.GPU {
		return nil
	}
	idle, _ := httpMin(h)
	if idle < 1 {
		return nil
	}
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "replicas", "min"),
		"%s; set replicas.min: 0 so KEDA releases them when there are no requests (the add-on's interceptor holds requests while KEDA scales %s up from zero)",
		idleHolds(t, "replicas.min", idle, "", &in.Settings.GPU), t.Target)}
}

func checkCooldownHTTP(h *kedahttpv1alpha1.HTTPScaledObject, in *policies.Input) []policies.Finding {
	t := classifyHTTP(h, in)
	minimum := in.Settings.GPU.MinCooldownSeconds
	if t == nil || !t.GPU || minimum <= 0 {
		return nil
	}
	if idle, _ := httpMin(h); idle > 0 {
		return nil // it never scales to zero: the period does not apply
	}
	period, text := int32(kedahttpv1alpha1.DefaultScaledownPeriodSeconds), fmt.Sprintf("is unset (the default %ds)", kedahttpv1alpha1.DefaultScaledownPeriodSeconds)
	if p := h.Spec.ScaledownPeriod; p != nil {
		period, text = *p, fmt.Sprintf("is %ds", *p)
	}
	if period >= minimum {
		return nil
	}
	return []policies.Finding{policies.Warnf(field.NewPath("spec", "scaledownPeriod"),
		"%s, below the %ds a GPU tier needs: the add-on makes it the cooldownPeriod of its ScaledObject, so KEDA removes the last replica of %s after %ds "+
			"without requests, and a GPU replica takes minutes to start and load its model, so the next request waits in the interceptor for a cold start; "+
			"set scaledownPeriod: %d or more",
		text, minimum, t.Target, period, minimum)}
}
