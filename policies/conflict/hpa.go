package conflict

import (
	"fmt"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

const kedaGroup = "keda.sh"

func checkHPA(in *policies.Input) []policies.Finding {
	return judge(in, func(obj client.Object) []clash {
		switch o := obj.(type) {
		case *kedav1alpha1.ScaledObject:
			return hpasScalingTargetOf(o, in)
		case *autoscalingv2.HorizontalPodAutoscaler:
			return append(scaledObjectsScalingTargetOfHPA(o, in), otherHPAsOnTarget(o, in)...)
		}
		return nil
	})
}

// hpasScalingTargetOf finds the HPAs, other than the ScaledObject's own,
// that already scale its target.
func hpasScalingTargetOf(so *kedav1alpha1.ScaledObject, in *policies.Input) []clash {
	target, ok := policies.KEDATarget(so)
	if !ok || target.Name == "" {
		return nil
	}
	ns := target.Namespace
	apiVersion := orDefault(so.Spec.ScaleTargetRef.APIVersion, policies.KEDADefaultAPIVersion)
	transfer := so.Annotations[kedav1alpha1.ScaledObjectTransferHpaOwnershipAnnotation] == "true"
	named := advancedHPAName(so)
	var out []clash
	for _, hpa := range in.View.HPAsFor(target) {
		if ownedBy(hpa, so) || hpa.Annotations[kedav1alpha1.ValidationsHpaOwnershipAnnotation] == "false" {
			continue
		}
		if _, ok := kedaOwner(hpa, in.View); ok {
			// KEDA's HPA of another ScaledObject (conflict-scaledobject
			// names that one), or one KEDA is replacing after a rename.
			continue
		}
		if generatedByLiveScaler(hpa, target, in.View) {
			continue // conflict-autoscaler names the autoscaler that made it.
		}
		w := workloadText(apiVersion, target, ns)
		c := clash{other: otherKey("HorizontalPodAutoscaler", hpa.Namespace, hpa.Name), topic: target.Key()}
		if isvc, ok := kserveHPAOwner(hpa, in.View); ok {
			class, _ := autoscalerClassOf(isvc)
			if !deploymentModeOf(isvc, in.Settings).assumed || (class != "hpa" && class != "keda") {
				// conflict-kserve judges it with its InferenceService; or
				// KServe deletes it (class external or none).
				continue
			}
			// The InferenceService states no mode, so conflict-kserve only
			// warns; but KServe's HPA is there, a conflict in any mode.
			c.finding = policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by HorizontalPodAutoscaler %q, which InferenceService %q generates; two autoscalers overwrite each other's spec.replicas and the workload flaps: set serving.kserve.io/autoscalerClass: external on InferenceService %q (KServe then deletes that HPA) so this ScaledObject alone scales it",
				w, hpa.Name, isvc.Name, isvc.Name)
			out = append(out, c)
			continue
		}
		if transfer && named == hpa.Name {
			continue // KEDA takes this HPA over.
		}
		if transfer {
			is := "empty"
			if named != "" {
				is = fmt.Sprintf("%q", named)
			}
			c.finding = policies.Denyf(field.NewPath("spec", "advanced", "horizontalPodAutoscalerConfig", "name"),
				"is %s, but the annotation %s: \"true\" only takes over the HPA named here, and %s is scaled by HorizontalPodAutoscaler %q; set spec.advanced.horizontalPodAutoscalerConfig.name: %s",
				is, kedav1alpha1.ScaledObjectTransferHpaOwnershipAnnotation, w, hpa.Name, hpa.Name)
		} else {
			c.finding = policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by HorizontalPodAutoscaler %q, which this ScaledObject does not own; two autoscalers overwrite each other's spec.replicas and the workload flaps: delete that HPA, or let KEDA take it over with the annotation %s: \"true\" and spec.advanced.horizontalPodAutoscalerConfig.name: %s",
				w, hpa.Name, kedav1alpha1.ScaledObjectTransferHpaOwnershipAnnotation, hpa.Name)
		}
		out = append(out, c)
	}
	return out
}

// scaledObjectsScalingTargetOfHPA finds the ScaledObjects that already
// scale the target of an HPA that is not KEDA's own.
func scaledObjectsScalingTargetOfHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, in *policies.Input) []clash {
	if _, ok := kedaOwner(hpa, in.View); ok {
		return nil // KEDA's own HPA: its ScaledObject is judged.
	}
	if hpa.Annotations[kedav1alpha1.ValidationsHpaOwnershipAnnotation] == "false" {
		return nil
	}
	target := policies.HPATarget(hpa)
	if target.Name == "" {
		return nil
	}
	ns := target.Namespace
	var out []clash
	for _, so := range in.View.ScaledObjectsFor(target) {
		if so.Annotations[kedav1alpha1.ScaledObjectTransferHpaOwnershipAnnotation] == "true" && advancedHPAName(so) == hpa.Name {
			continue // that ScaledObject takes this HPA over.
		}
		if generatedByLiveScaler(so, target, in.View) {
			continue // conflict-autoscaler names the autoscaler that made it.
		}
		out = append(out, clash{
			other: otherKey("ScaledObject", so.Namespace, so.Name),
			topic: target.Key(),
			finding: policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by ScaledObject %q (through KEDA's HPA %q); a second autoscaler overwrites its spec.replicas and the workload flaps: put this HPA's metrics into the ScaledObject's triggers (KEDA runs one HPA for all of them), or delete the ScaledObject first",
				workloadText(hpa.Spec.ScaleTargetRef.APIVersion, target, ns), so.Name, kedaHPAName(so)),
		})
	}
	return out
}

// otherHPAsOnTarget finds the other HPAs a person wrote for the target of
// an HPA a person wrote. Kubernetes' HPA controller then sees the target's
// pods selected by two HPAs, sets ScalingActive false with reason
// AmbiguousSelector on both, and scales neither. KEDA's HPAs are judged
// through their ScaledObjects, KServe's at their InferenceService.
func otherHPAsOnTarget(hpa *autoscalingv2.HorizontalPodAutoscaler, in *policies.Input) []clash {
	if generatedHPA(hpa, in.View) || autoscalers.GeneratedByAny(hpa) {
		return nil // judged at the owner (a cataloged autoscaler's: conflict-autoscaler).
	}
	target := policies.HPATarget(hpa)
	if target.Name == "" {
		return nil
	}
	var out []clash
	for _, other := range in.View.HPAsFor(target) {
		if other.Name == hpa.Name || generatedHPA(other, in.View) || generatedByLiveScaler(other, target, in.View) {
			continue
		}
		out = append(out, clash{
			other: otherKey("HorizontalPodAutoscaler", other.Namespace, other.Name),
			topic: target.Key(),
			finding: policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is already scaled by HorizontalPodAutoscaler %q; with two HPAs on its pods Kubernetes marks both AmbiguousSelector and scales neither: "+
					"put this HPA's metrics into %q (an HPA scales to the highest of its metrics), or delete %q first",
				workloadText(hpa.Spec.ScaleTargetRef.APIVersion, target, target.Namespace), other.Name, other.Name, other.Name),
		})
	}
	return out
}

// generatedHPA reports whether a controller scaleguard defers to made the
// HPA: KEDA for a ScaledObject, KServe for an InferenceService.
func generatedHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, view policies.ClusterView) bool {
	if _, ok := kedaOwner(hpa, view); ok {
		return true
	}
	_, ok := controllerOf(hpa, apis.InferenceService.Group, apis.InferenceService.Kind)
	return ok
}

// advancedHPAName is spec.advanced.horizontalPodAutoscalerConfig.name.
func advancedHPAName(so *kedav1alpha1.ScaledObject) string {
	if so.Spec.Advanced == nil || so.Spec.Advanced.HorizontalPodAutoscalerConfig == nil {
		return ""
	}
	return so.Spec.Advanced.HorizontalPodAutoscalerConfig.Name
}

// kedaHPAName is the name KEDA gives a ScaledObject's HPA.
func kedaHPAName(so *kedav1alpha1.ScaledObject) string {
	return policies.KEDAHPAName(so)
}

// ownedBy reports whether hpa is so's own, the way KEDA sees it: an owner
// reference to the ScaledObject, or KEDA's name for its HPA together with
// the scaledobject.keda.sh/name label.
func ownedBy(hpa *autoscalingv2.HorizontalPodAutoscaler, so *kedav1alpha1.ScaledObject) bool {
	for _, ref := range hpa.OwnerReferences {
		if ref.Kind == "ScaledObject" && ref.Name == so.Name && isKEDAGroup(ref.APIVersion) {
			return true
		}
	}
	return hpa.Labels[kedav1alpha1.ScaledObjectOwnerAnnotation] == so.Name && hpa.Name == kedaHPAName(so)
}

// kedaOwner returns the ScaledObject an HPA belongs to when it is KEDA's:
// an owner reference to a ScaledObject, or the scaledobject.keda.sh/name
// label on an HPA bearing KEDA's name for that ScaledObject's HPA.
func kedaOwner(hpa *autoscalingv2.HorizontalPodAutoscaler, view policies.ClusterView) (string, bool) {
	for _, ref := range hpa.OwnerReferences {
		if ref.Kind == "ScaledObject" && isKEDAGroup(ref.APIVersion) {
			return ref.Name, true
		}
	}
	name := hpa.Labels[kedav1alpha1.ScaledObjectOwnerAnnotation]
	if name == "" {
		return "", false
	}
	if hpa.Name == "keda-hpa-"+name {
		return name, true
	}
	for _, so := range view.ScaledObjects(defaultNS(hpa.Namespace)) {
		if so.Name == name && kedaHPAName(so) == hpa.Name {
			return name, true
		}
	}
	return "", false
}

func isKEDAGroup(apiVersion string) bool {
	g := groupOf(apiVersion)
	return g == kedaGroup || g == ""
}

// kserveHPAOwner returns the InferenceService that generated an HPA, when
// the view has it.
func kserveHPAOwner(hpa *autoscalingv2.HorizontalPodAutoscaler, view policies.ClusterView) (*kservev1beta1.InferenceService, bool) {
	name, ok := controllerOf(hpa, apis.InferenceService.Group, apis.InferenceService.Kind)
	if !ok {
		return nil, false
	}
	return view.InferenceService(defaultNS(hpa.Namespace), name)
}
