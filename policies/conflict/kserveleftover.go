package conflict

import (
	"fmt"

	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/policies"
)

// leftoversOf finds the autoscalers KServe generated for an InferenceService
// under an earlier autoscaler class and left behind: KServe deletes neither
// its ScaledObject when the class leaves keda nor its HPA when the class
// becomes keda (it deletes its HPA only for external and none).
//
// They are reported here, on the InferenceService, because the class
// change brings the fight and a person makes it. The leftover is
// generated: a denial on it would become a warning anyway (judged at its
// owner), and KServe's next object for the new class (its HPA, its
// ScaledObject) is generated too, so KServe's controller is never the one
// refused. The way out goes through class external: KServe recreates its
// ScaledObject while the class is keda, and deletes its HPA once the class
// is external.
func leftoversOf(isvc *kservev1beta1.InferenceService, in *policies.Input) []clash {
	mode := deploymentModeOf(isvc, in.Settings)
	if !mode.assumed && mode.name != modeStandard {
		return nil // KServe generates ScaledObjects and HPAs in raw mode only.
	}
	// A generated ScaledObject or HPA shows raw mode even when the mode is
	// not stated: these findings are not assumptions.
	class, why := autoscalerClassOf(isvc)
	s := kserveScaler{mode: deploymentMode{name: modeStandard, why: mode.why}, class: class, why: why}
	path := s.field()
	ns := defaultNS(isvc.Namespace)
	var out []clash
	for _, c := range componentsOf(isvc) {
		ref := deploymentRef(ns, c.deployment)
		w := workloadText("apps/v1", ref, ns)
		if class == "keda" {
			for _, hpa := range in.View.HPAsFor(ref) {
				if !generatedBy(hpa, isvc) {
					continue
				}
				out = append(out, clash{
					other: otherKey("HorizontalPodAutoscaler", hpa.Namespace, hpa.Name),
					topic: ref.Key(),
					finding: policies.Denyf(path,
						"%s, but HorizontalPodAutoscaler %q, which KServe generated for this InferenceService while its class was hpa, still scales it (KServe does not delete it when the class becomes keda); two autoscalers overwrite each other's spec.replicas and the workload flaps: set serving.kserve.io/autoscalerClass: external first (KServe then deletes that HPA), and keda once it is gone",
						s.rawScales(c, w, false), hpa.Name),
				})
			}
			continue
		}
		for _, so := range in.View.ScaledObjectsFor(ref) {
			if !generatedBy(so, isvc) {
				continue
			}
			left := fmt.Sprintf("ScaledObject %q, which KServe generated for this InferenceService while its class was keda", so.Name)
			cl := clash{other: otherKey("ScaledObject", so.Namespace, so.Name), topic: ref.Key()}
			switch class {
			case "hpa", "none":
				cl.finding = policies.Denyf(path,
					"%s, but %s, still scales it (KServe does not delete it when the class changes); two autoscalers overwrite each other's spec.replicas and the workload flaps: set serving.kserve.io/autoscalerClass: external, delete ScaledObject %q (KServe recreates it while the class is keda), then set the class you want",
					s.rawScales(c, w, false), left, so.Name)
			default:
				// external (or a class KServe rejects): KServe scales nothing,
				// so nothing fights, but the ScaledObject is nobody's now.
				cl.finding = policies.Warnf(path,
					"%s, still scales its %s, %s; KServe no longer updates it and does not delete it: delete ScaledObject %q, and bring a ScaledObject of your own if one should scale it",
					left, c.kind, w, so.Name)
			}
			out = append(out, cl)
		}
	}
	return out
}
