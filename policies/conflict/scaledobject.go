package conflict

import (
	"fmt"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

func checkScaledObject(in *policies.Input) []policies.Finding {
	return judge(in, func(obj client.Object) []clash {
		so, ok := obj.(*kedav1alpha1.ScaledObject)
		if !ok {
			return nil
		}
		return append(otherScaledObjectsOnTarget(so, in), otherScaledObjectsOnHPAName(so, in)...)
	})
}

// otherScaledObjectsOnTarget finds the other ScaledObjects of the
// namespace that scale the same workload. The same name is the same object.
// Plain ones are named together in one finding, so N ScaledObjects on one
// target give N findings, not N².
func otherScaledObjectsOnTarget(so *kedav1alpha1.ScaledObject, in *policies.Input) []clash {
	target, ok := policies.KEDATarget(so)
	if !ok || target.Name == "" {
		return nil
	}
	w := workloadText(orDefault(so.Spec.ScaleTargetRef.APIVersion, policies.KEDADefaultAPIVersion), target, target.Namespace)
	var out []clash
	plain := newCrowd("ScaledObject", in)
	for _, other := range in.View.ScaledObjectsFor(target) {
		if other.Name == so.Name {
			continue
		}
		if in.Expired() {
			return out
		}
		if metav1.GetControllerOfNoCopy(other) == nil {
			// What neither KServe nor a cataloged autoscaler generated
			// (every ScaledObject a person writes): no owner to look up,
			// so the scan of a crowded target stays cheap per object.
			plain.add(other)
			continue
		}
		if generatedByLiveScaler(other, target, in.View) {
			continue // conflict-autoscaler names the autoscaler that made it.
		}
		isvc, state := kserveScaledObjectOwner(other, in)
		if state == notKServe {
			plain.add(other)
			continue
		}
		c := clash{other: otherKey("ScaledObject", other.Namespace, other.Name), topic: target.Key()}
		switch state {
		case kserveLive:
			continue // KServe's live ScaledObject: conflict-kserve judges it with its InferenceService.
		case kserveUnstated:
			c.finding = policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by ScaledObject %q, which InferenceService %q generates (serving.kserve.io/autoscalerClass: keda); KEDA would run an HPA for each and they overwrite each other's spec.replicas: set serving.kserve.io/autoscalerClass: external on InferenceService %q, then delete ScaledObject %q (KServe leaves it behind), so this ScaledObject alone scales it",
				w, other.Name, isvc, isvc, other.Name)
		case kserveStale:
			c.finding = policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by ScaledObject %q, which InferenceService %q generated while its autoscalerClass was keda; KServe does not delete it when the class changes, so it still writes spec.replicas: delete ScaledObject %q",
				w, other.Name, isvc, other.Name)
		}
		out = append(out, c)
	}
	switch {
	case plain.n == 1:
		other := plain.first[0]
		out = append(out, clash{other: otherKey("ScaledObject", other.GetNamespace(), other.GetName()), topic: target.Key(),
			finding: policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by ScaledObject %q; KEDA would run an HPA for each and they overwrite each other's spec.replicas: merge the triggers into %q (KEDA scales on the highest of them), or delete it first",
				w, other.GetName(), other.GetName())})
	case plain.n > 1:
		out = append(out, clash{group: plain, topic: target.Key(),
			finding: policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by %d other ScaledObjects (%s); KEDA would run an HPA for each and they overwrite each other's spec.replicas: merge the triggers into one ScaledObject (KEDA scales on the highest of them) and delete the others",
				w, plain.n, plain.names())})
	}
	return out
}

// otherScaledObjectsOnHPAName finds the other ScaledObjects of the
// namespace whose HPA would have the same name: KEDA would make both
// write one HPA.
func otherScaledObjectsOnHPAName(so *kedav1alpha1.ScaledObject, in *policies.Input) []clash {
	name := kedaHPAName(so)
	path := field.NewPath("metadata", "name")
	if advancedHPAName(so) != "" {
		path = field.NewPath("spec", "advanced", "horizontalPodAutoscalerConfig", "name")
	}
	others := newCrowd("ScaledObject", in)
	for _, other := range policies.ScaledObjectsWithHPAName(in.View, in.Namespace(), name) {
		if other.Name != so.Name {
			others.add(other)
		}
	}
	switch {
	case others.n == 1:
		other := others.first[0]
		return []clash{{
			other: otherKey("ScaledObject", other.GetNamespace(), other.GetName()),
			topic: "hpa/" + name,
			finding: policies.Denyf(path,
				"gives this ScaledObject the HPA name %q, which is already the HPA of ScaledObject %q; KEDA would make both write one HPA: %s",
				name, other.GetName(), hpaRenameFix(so)),
		}}
	case others.n > 1:
		return []clash{{
			group: others, topic: "hpa/" + name,
			finding: policies.Denyf(path,
				"gives this ScaledObject the HPA name %q, which is already the HPA of %d other ScaledObjects (%s); KEDA would make them all write one HPA: %s",
				name, others.n, others.names(), hpaRenameFix(so)),
		}}
	}
	return nil
}

func hpaRenameFix(so *kedav1alpha1.ScaledObject) string {
	if advancedHPAName(so) != "" {
		return "choose another spec.advanced.horizontalPodAutoscalerConfig.name"
	}
	return fmt.Sprintf("set spec.advanced.horizontalPodAutoscalerConfig.name to a name of its own (KEDA's default %q is taken)", kedaHPAName(so))
}

// kserveState is what became of a ScaledObject KServe generated.
type kserveState int

const (
	// notKServe: not generated by an InferenceService the view has.
	notKServe kserveState = iota
	// kserveLive: its InferenceService still has KServe scale with it, in
	// a stated raw mode: conflict-kserve denies what else scales its target.
	kserveLive
	// kserveUnstated: as kserveLive, but the InferenceService states no
	// mode, so conflict-kserve would only warn: two ScaledObjects on one
	// Deployment are a conflict whatever the mode.
	kserveUnstated
	// kserveStale: its InferenceService moved to another autoscaler class;
	// KServe leaves the ScaledObject behind.
	kserveStale
)

// kserveScaledObjectOwner tells whether a ScaledObject was generated by an
// InferenceService of the view, and whether it is still in use.
func kserveScaledObjectOwner(so *kedav1alpha1.ScaledObject, in *policies.Input) (string, kserveState) {
	name, ok := controllerOf(so, apis.InferenceService.Group, apis.InferenceService.Kind)
	if !ok {
		return "", notKServe
	}
	owner, ok := in.View.InferenceService(defaultNS(so.Namespace), name)
	if !ok {
		return name, notKServe
	}
	mode := deploymentModeOf(owner, in.Settings)
	if !mode.assumed && mode.name != modeStandard {
		return name, kserveStale // KServe runs no ScaledObject outside raw mode.
	}
	if class, _ := autoscalerClassOf(owner); class != "keda" {
		return name, kserveStale
	}
	if mode.assumed {
		return name, kserveUnstated
	}
	return name, kserveLive
}
