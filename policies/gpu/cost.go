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
	idle, path, what := int64(*so.Spec.MinReplicaCount), field.NewPath("spec", "minReplicaCount"), "minReplicaCount"
	if r := so.Spec.IdleReplicaCount; r != nil && int64(*r) < idle {
		// With no active trigger KEDA scales to idleReplicaCount instead.
		idle, path, what = int64(*r), field.NewPath("spec", "idleReplicaCount"), "idleReplicaCount"
	}
	if idle < 1 {
		return nil
	}
	perReplica := t.GPUsPerReplica()
	if perReplica == 0 {
		return []policies.Finding{policies.Warnf(path,
			"%s %d keeps %s of %s on the GPU tier (%s) while idle, paused or not (un-pausing is one annotation away); their GPUs are not requested "+
				"as an accelerator resource, so scaleguard cannot count them; set %s: 0 so KEDA releases the GPU nodes when there is no load",
			what, idle, describeCount(idle, "replica"), t.Target, t.Reason(), what)}
	}
	gpus := idle * perReplica
	money := ""
	if p := in.Settings.GPU.HourlyPrice; p != nil {
		money = fmt.Sprintf(", about %s %s a month at %s %s per GPU-hour",
			formatMoney(float64(gpus*HoursPerMonth)**p), in.Settings.GPU.Currency, formatMoney(*p), in.Settings.GPU.Currency)
	}
	return []policies.Finding{policies.Warnf(path,
		"%s %d keeps %s (%d GPU-hours a month%s) allocated while idle: %s asks for %s per replica; paused or not, un-pausing is one annotation away; "+
			"set %s: 0 so KEDA releases them when there is no load",
		what, idle, describeCount(gpus, "GPU"), gpus*HoursPerMonth, money, t.Target, describeAccelerators(t.Accelerators), what)}
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
	scalesToZero := so.Spec.MinReplicaCount == nil || *so.Spec.MinReplicaCount == 0 || so.Spec.IdleReplicaCount != nil
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
