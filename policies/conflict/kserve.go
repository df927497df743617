package conflict

import (
	"fmt"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/policies"
)

func checkKServe(in *policies.Input) []policies.Finding {
	return judge(in, func(obj client.Object) []clash {
		switch o := obj.(type) {
		case *kedav1alpha1.ScaledObject:
			return inferenceServicesScalingTargetOf(o, in)
		case *kservev1beta1.InferenceService:
			return append(scaledObjectsOnComponentsOf(o, in), leftoversOf(o, in)...)
		}
		return nil
	})
}

// inferenceServicesScalingTargetOf finds the InferenceServices whose own
// autoscaler scales the Deployment a ScaledObject targets.
func inferenceServicesScalingTargetOf(so *kedav1alpha1.ScaledObject, in *policies.Input) []clash {
	target, ok := policies.KEDATarget(so)
	if !ok || target.GroupKind() != policies.DeploymentKind {
		return nil
	}
	path := field.NewPath("spec", "scaleTargetRef")
	w := workloadText(orDefault(so.Spec.ScaleTargetRef.APIVersion, policies.KEDADefaultAPIVersion), target, target.Namespace)
	var out []clash
	for _, isvc := range in.View.InferenceServices(target.Namespace) {
		if generatedBy(so, isvc) {
			continue // KServe's own ScaledObject.
		}
		s, active := kserveScalerOf(isvc, in.Settings)
		if !active {
			continue
		}
		comp, ok := componentFor(isvc, s, target.Name)
		if !ok {
			continue
		}
		c := clash{other: otherKey("InferenceService", isvc.Namespace, isvc.Name), topic: target.Key()}
		if s.mode.assumed {
			c.finding = s.finding(path,
				"%s is %s of InferenceService %q %s; then %s, and two autoscalers overwrite each other's spec.replicas; %s; if the assumption holds, %s",
				w, comp.what(), isvc.Name, s.assumption(), s.alsoScales(comp), notDenied(isvc.Name), s.fix(isvc.Name, comp))
		} else {
			c.finding = s.finding(path,
				"%s is %s of InferenceService %q, %s; two autoscalers overwrite each other's spec.replicas and the workload flaps: %s",
				w, comp.what(), isvc.Name, s.alreadyScales(comp), s.fix(isvc.Name, comp))
		}
		out = append(out, c)
	}
	return out
}

// scaledObjectsOnComponentsOf finds the ScaledObjects, other than KServe's
// own, that scale a component Deployment of an InferenceService whose
// autoscaler is active.
func scaledObjectsOnComponentsOf(isvc *kservev1beta1.InferenceService, in *policies.Input) []clash {
	s, active := kserveScalerOf(isvc, in.Settings)
	if !active {
		return nil
	}
	ns := defaultNS(isvc.Namespace)
	var candidates []*kedav1alpha1.ScaledObject
	if s.mode.name == modeKnative {
		candidates = in.View.ScaledObjects(ns) // revision Deployments carry a generated suffix.
	} else {
		for _, c := range componentsOf(isvc) {
			candidates = append(candidates, in.View.ScaledObjectsFor(deploymentRef(ns, c.deployment))...)
		}
	}
	var out []clash
	for _, so := range candidates {
		if generatedBy(so, isvc) {
			continue // KServe's own, or left behind: see leftoversOf.
		}
		target, ok := policies.KEDATarget(so)
		if !ok || target.GroupKind() != policies.DeploymentKind {
			continue
		}
		comp, ok := componentFor(isvc, s, target.Name)
		if !ok {
			continue
		}
		w := workloadText("apps/v1", target, ns)
		var scales string
		if s.mode.name == modeKnative {
			scales = fmt.Sprintf("Knative's autoscaler scales the revisions of its %s %q, among them %s", comp.kind, comp.deployment, w)
			if !s.mode.assumed {
				scales = "in Knative mode (" + s.mode.why + "), " + scales
			}
		} else {
			scales = s.rawScales(comp, w, true)
		}
		c := clash{other: otherKey("ScaledObject", so.Namespace, so.Name), topic: target.Key()}
		if s.mode.assumed {
			c.finding = s.finding(s.field(),
				"%s, %s, but ScaledObject %q already scales it; two autoscalers overwrite each other's spec.replicas; %s; if the assumption holds, %s",
				s.assumption(), scales, so.Name, notDenied(isvc.Name), s.fixHere(comp))
		} else {
			c.finding = s.finding(s.field(),
				"%s, but ScaledObject %q already scales it; two autoscalers overwrite each other's spec.replicas and the workload flaps: %s",
				scales, so.Name, s.fixHere(comp))
		}
		out = append(out, c)
	}
	return out
}

// generatedBy reports whether obj is one KServe generated for isvc: its
// controller owner reference names the InferenceService.
func generatedBy(obj client.Object, isvc *kservev1beta1.InferenceService) bool {
	owner, ok := controllerOf(obj, apis.InferenceService.Group, apis.InferenceService.Kind)
	return ok && owner == isvc.Name
}

// deploymentRef is an apps/v1 Deployment of a namespace.
func deploymentRef(ns, name string) policies.WorkloadRef {
	return policies.WorkloadRef{Group: policies.DeploymentKind.Group, Kind: policies.DeploymentKind.Kind, Namespace: ns, Name: name}
}
