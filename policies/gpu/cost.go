package gpu

import (
	"fmt"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// HoursPerMonth is the hours of an average month (8760 / 12).
const HoursPerMonth = 730

// Defaults KEDA and Kubernetes apply to unset fields.
const (
	KEDADefaultMaxReplicaCount       = 100
	KEDADefaultCooldownSeconds       = 300
	HPADefaultScaleDownWindowSeconds = 300
)

func checkIdleCost(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	t := classify(so, in)
	if t == nil || !t.GPU || so.Spec.MinReplicaCount == nil {
		return nil
	}
	resourceOnly := cpuMemoryOnly(so.Spec.Triggers)
	idle, path, what := int64(*so.Spec.MinReplicaCount), field.NewPath("spec", "minReplicaCount"), "minReplicaCount"
	if r := so.Spec.IdleReplicaCount; r != nil && int64(*r) < idle && !resourceOnly {
		// With no active trigger KEDA scales to idleReplicaCount instead
		// (cpu and memory triggers are always active: never with those alone).
		idle, path, what = int64(*r), field.NewPath("spec", "idleReplicaCount"), "idleReplicaCount"
	}
	if idle < 1 {
		return nil
	}
	return []policies.Finding{policies.Warnf(path, "%s%s; %s", whilePaused(so.Annotations), idleHolds(t, what, idle, "", &in.Settings.GPU), releaseAdvice(so, what, resourceOnly))}
}

// idleHolds says what idle replicas of a GPU-tier target hold: GPUs and
// GPU-hours (and money, with a price) when scaleguard counted the
// accelerators, else replicas on the tier.
func idleHolds(t *Tier, what string, idle int64, note string, s *policies.GPUSettings) string {
	if perReplica := t.GPUsPerReplica(); perReplica > 0 {
		gpus := idle * perReplica
		money := ""
		if p := s.HourlyPrice; p != nil {
			money = fmt.Sprintf(", about %s %s a month at %s %s per GPU-hour",
				formatMoney(float64(gpus*HoursPerMonth)**p), s.Currency, formatMoney(*p), s.Currency)
		}
		return fmt.Sprintf("%s %d%s keeps %s (%d GPU-hours a month%s) allocated while idle: %s asks for %s per replica",
			what, idle, note, describeCount(gpus, "GPU"), gpus*HoursPerMonth, money, t.Target, describeAccelerators(t.Accelerators))
	}
	return fmt.Sprintf("%s %d%s keeps %s of %s up on the GPU tier while idle; the tier comes from %s, so scaleguard cannot count the GPUs they hold",
		what, idle, note, describeCount(idle, "replica"), t.Target, t.Origin())
}

// whilePaused says what a paused ScaledObject holds, before what it will
// hold once un-paused: KEDA does not scale a paused target, so
// minReplicaCount only applies again after un-pausing.
func whilePaused(annotations map[string]string) string {
	if DecisionOf(annotations) != Paused {
		return ""
	}
	if n, ok := annotations[PausedReplicasAnnotation]; ok {
		return fmt.Sprintf("while paused KEDA holds the target at %s: %q replicas; once un-paused, ", PausedReplicasAnnotation, n)
	}
	return "while paused KEDA leaves the replicas where they are; once un-paused, "
}

// releaseAdvice says what lets KEDA release the GPUs with no load.
func releaseAdvice(so *kedav1alpha1.ScaledObject, what string, resourceOnly bool) string {
	if isvc := generatedBy(so); isvc != "" {
		// KServe writes minReplicaCount and the triggers from the
		// InferenceService, and reverts edits made here.
		if resourceOnly {
			return fmt.Sprintf("KEDA refuses minReplicaCount 0 while every trigger is cpu or memory, so give InferenceService %q an External "+
				"metric in spec.predictor.autoScaling.metrics that drops to 0 with no load and set its spec.predictor.minReplicas: 0 "+
				"(KServe writes both into this ScaledObject)", isvc)
		}
		return fmt.Sprintf("set spec.predictor.minReplicas: 0 on InferenceService %q (KServe writes it into this ScaledObject's "+
			"minReplicaCount and reverts edits made here) so KEDA releases them when there is no load", isvc)
	}
	if resourceOnly {
		return "every trigger is cpu or memory, which KEDA counts as always active: it refuses minReplicaCount 0 and never applies an " +
			"idleReplicaCount, so add a trigger that drops to 0 with no load (a prometheus trigger on vllm:num_requests_running, say) " +
			"and set minReplicaCount: 0, or keep it paused and the target scaled to 0 while unneeded " +
			`(autoscaling.keda.sh/paused-replicas: "0" does both)`
	}
	return fmt.Sprintf("set %s: 0 so KEDA releases them when there is no load", what)
}

// cpuMemoryOnly reports whether every trigger is a cpu or memory trigger,
// which KEDA treats as always active: such a ScaledObject cannot scale to
// zero (KEDA's webhook refuses minReplicaCount 0) nor to idleReplicaCount.
func cpuMemoryOnly(triggers []kedav1alpha1.ScaleTriggers) bool {
	for _, tr := range triggers {
		if tr.Type != "cpu" && tr.Type != "memory" {
			return false
		}
	}
	return len(triggers) > 0
}

func describeAccelerators(as []Accelerator) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("%d %s", a.PerReplica, a.Name)
	}
	return strings.Join(parts, " + ")
}

func formatMoney(v float64) string {
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func checkQuota(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	t := classify(so, in)
	if t == nil || !t.GPU {
		return nil
	}
	path := field.NewPath("spec", "maxReplicaCount")
	maxReplicas, maxText := int64(KEDADefaultMaxReplicaCount), fmt.Sprintf("maxReplicaCount (unset: KEDA's default %d)", KEDADefaultMaxReplicaCount)
	if m := so.Spec.MaxReplicaCount; m != nil {
		maxReplicas, maxText = int64(*m), fmt.Sprintf("maxReplicaCount %d", *m)
	}
	ns := in.Namespace()
	var out []policies.Finding
	for _, a := range t.Accelerators {
		if !a.ExtendedResource() || a.PerReplica <= 0 {
			continue
		}
		key := corev1.ResourceName("requests." + a.Name)
		want := maxReplicas * a.PerReplica
		for _, q := range in.View.ResourceQuotas(ns) {
			hard, ok := q.Spec.Hard[key]
			if !ok || want <= hard.Value() {
				continue
			}
			fits := hard.Value() / a.PerReplica
			consequence := fmt.Sprintf("KEDA's scale-out past %s cannot happen; set maxReplicaCount to %d or raise the quota", describeCount(fits, "replica"), fits)
			if fits == 0 {
				consequence = fmt.Sprintf("not even one replica fits; raise the quota to at least %d", a.PerReplica)
			}
			out = append(out, policies.Warnf(path,
				"%s × %d %s per replica asks for up to %d, but ResourceQuota %q caps %s at %s in namespace %q: %s",
				maxText, a.PerReplica, a.Name, want, q.Name, key, hard.String(), ns, consequence))
		}
	}
	return out
}

func checkCooldown(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	t := classify(so, in)
	minimum := in.Settings.GPU.MinCooldownSeconds
	if t == nil || !t.GPU || minimum <= 0 {
		return nil
	}
	var out []policies.Finding
	scalesToZero := (so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount == 0 || so.Spec.IdleReplicaCount != nil) &&
		!cpuMemoryOnly(so.Spec.Triggers)
	if scalesToZero {
		cooldown, text := int32(KEDADefaultCooldownSeconds), fmt.Sprintf("is unset (KEDA's default %ds)", KEDADefaultCooldownSeconds)
		if c := so.Spec.CooldownPeriod; c != nil {
			cooldown, text = *c, fmt.Sprintf("is %ds", *c)
		}
		if cooldown < minimum {
			out = append(out, policies.Warnf(field.NewPath("spec", "cooldownPeriod"),
				"%s, below the %ds a GPU tier needs: KEDA removes the last replica after %ds without load, and a GPU replica takes minutes to start "+
					"and load its model, so the next request waits for a cold start and replicas flap; set cooldownPeriod: %d or more",
				text, minimum, cooldown, minimum))
		}
	}
	if w := scaleDownWindow(so); w != nil && *w < minimum {
		out = append(out, policies.Warnf(
			field.NewPath("spec", "advanced", "horizontalPodAutoscalerConfig", "behavior", "scaleDown", "stabilizationWindowSeconds"),
			"is %ds, below the %ds a GPU tier needs: the HPA removes GPU replicas after %ds of lower load, and a GPU replica takes minutes to start "+
				"and load its model, so replicas flap; set it to %d or more (or leave it unset: %ds)",
			*w, minimum, *w, minimum, HPADefaultScaleDownWindowSeconds))
	}
	return out
}

func scaleDownWindow(so *kedav1alpha1.ScaledObject) *int32 {
	a := so.Spec.Advanced
	if a == nil || a.HorizontalPodAutoscalerConfig == nil || a.HorizontalPodAutoscalerConfig.Behavior == nil ||
		a.HorizontalPodAutoscalerConfig.Behavior.ScaleDown == nil {
		return nil
	}
	return a.HorizontalPodAutoscalerConfig.Behavior.ScaleDown.StabilizationWindowSeconds
}
