package conflict

import (
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

func checkKthena(in *policies.Input) []policies.Finding {
	return judge(in, func(obj client.Object) []clash {
		switch o := obj.(type) {
		case *kedav1alpha1.ScaledObject:
			return policiesScalingTargetOf(o, in)
		case *kthenav1alpha1.AutoscalingPolicy:
			return scaledObjectsOnPolicyTargets("AutoscalingPolicy", o.Namespace, policyTargets(o), in)
		case *kthenav1alpha1.AutoscalingPolicyBinding:
			return scaledObjectsOnPolicyTargets("AutoscalingPolicyBinding", o.Namespace, bindingTargets(o), in)
		}
		return nil
	})
}

// policiesScalingTargetOf finds the Kthena policies (and older bindings),
// in any namespace, that scale the ModelServing a ScaledObject targets.
func policiesScalingTargetOf(so *kedav1alpha1.ScaledObject, in *policies.Input) []clash {
	target, ok := policies.KEDATarget(so)
	if !ok || target.GroupKind() != policies.ModelServingKind {
		return nil
	}
	w := workloadText(orDefault(so.Spec.ScaleTargetRef.APIVersion, policies.KEDADefaultAPIVersion), target, target.Namespace)
	var out []clash
	add := func(kind, ns, name string, targets []policyTarget) {
		for _, t := range targets {
			if t.ref != target {
				continue
			}
			out = append(out, clash{
				other: otherKey(kind, ns, name),
				topic: target.Key(),
				finding: policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
					"%s is already scaled by Kthena %s (%s), which %s; %s: remove it from the policy's targets (or delete the policy), or scale it with the policy alone",
					w, objectText(kind, ns, name, target.Namespace), t.path, t.writes(), t.fight()),
			})
		}
	}
	for _, p := range in.View.AutoscalingPolicies("") {
		add("AutoscalingPolicy", defaultNS(p.Namespace), p.Name, policyTargets(p))
	}
	for _, b := range in.View.AutoscalingPolicyBindings("") {
		add("AutoscalingPolicyBinding", defaultNS(b.Namespace), b.Name, bindingTargets(b))
	}
	return out
}

// scaledObjectsOnPolicyTargets finds the ScaledObjects that already scale a
// ModelServing a Kthena policy or binding targets.
func scaledObjectsOnPolicyTargets(kind, ns string, targets []policyTarget, in *policies.Input) []clash {
	ns = defaultNS(ns)
	var out []clash
	for _, t := range targets {
		for _, so := range in.View.ScaledObjectsFor(t.ref) {
			out = append(out, clash{
				other: otherKey("ScaledObject", so.Namespace, so.Name),
				topic: t.ref.Key(),
				finding: policies.Denyf(t.path,
					"names %s, which %s already scales through its /scale subresource; Kthena's autoscaler %s, so %s: target another ModelServing, or delete the ScaledObject first",
					workloadText(t.apiVersion, t.ref, ns), objectText("ScaledObject", defaultNS(so.Namespace), so.Name, ns), t.writes(), t.fight()),
			})
		}
	}
	return out
}

// policyTarget is one ModelServing a Kthena policy scales.
type policyTarget struct {
	ref        policies.WorkloadRef
	apiVersion string
	path       *field.Path
	// roles is true for a disaggregated target: Kthena scales the roles'
	// replicas, not spec.replicas.
	roles bool
}

// writes says what Kthena's autoscaler changes on the ModelServing.
func (t policyTarget) writes() string {
	if t.roles {
		return "patches the replicas of its roles"
	}
	return "patches its spec.replicas directly"
}

// fight says what happens when KEDA scales the same ModelServing.
func (t policyTarget) fight() string {
	if t.roles {
		return "KEDA changes spec.replicas while Kthena resizes every group's roles, both on the same load, so each multiplies the other's scaling"
	}
	return "two autoscalers overwrite each other's spec.replicas and the ModelServing flaps"
}

// policyTargets lists the ModelServings an AutoscalingPolicy scales.
func policyTargets(p *kthenav1alpha1.AutoscalingPolicy) []policyTarget {
	spec := field.NewPath("spec")
	var out []policyTarget
	if h := p.Spec.HomogeneousTarget; h != nil {
		out = appendTarget(out, h.Target.TargetRef, p.Namespace, spec.Child("homogeneousTarget", "target", "targetRef"), false)
	}
	if h := p.Spec.HeterogeneousTarget; h != nil {
		for i, param := range h.Params {
			out = appendTarget(out, param.Target.TargetRef, p.Namespace, spec.Child("heterogeneousTarget", "params").Index(i).Child("target", "targetRef"), false)
		}
	}
	if d := p.Spec.DisaggregatedTarget; d != nil {
		out = appendTarget(out, d.TargetRef, p.Namespace, spec.Child("disaggregatedTarget", "targetRef"), true)
	}
	return out
}

// bindingTargets lists the ModelServings an AutoscalingPolicyBinding
// (Kthena v0.1 to v0.4) binds its policy to.
func bindingTargets(b *kthenav1alpha1.AutoscalingPolicyBinding) []policyTarget {
	spec := field.NewPath("spec")
	var out []policyTarget
	homogeneous := map[string]*kthenav1alpha1.HomogeneousTarget{
		"homogeneousTarget": b.Spec.HomogeneousTarget, "scalingConfiguration": b.Spec.ScalingConfiguration,
	}
	heterogeneous := map[string]*kthenav1alpha1.HeterogeneousTarget{
		"heterogeneousTarget": b.Spec.HeterogeneousTarget, "optimizerConfiguration": b.Spec.OptimizerConfiguration,
	}
	for _, key := range []string{"homogeneousTarget", "scalingConfiguration"} {
		if h := homogeneous[key]; h != nil {
			out = appendTarget(out, h.Target.TargetRef, b.Namespace, spec.Child(key, "target", "targetRef"), false)
		}
	}
	for _, key := range []string{"heterogeneousTarget", "optimizerConfiguration"} {
		if h := heterogeneous[key]; h != nil {
			for i, param := range h.Params {
				out = appendTarget(out, param.Target.TargetRef, b.Namespace, spec.Child(key, "params").Index(i).Child("target", "targetRef"), false)
			}
		}
	}
	return out
}

// appendTarget resolves a targetRef the way Kthena does: an empty namespace
// is the policy's own, the kind is empty or ModelServing, an apiVersion (if
// any) is of Kthena's group. A reference Kthena would refuse scales nothing.
func appendTarget(out []policyTarget, ref corev1.ObjectReference, policyNS string, path *field.Path, roles bool) []policyTarget {
	if ref.Name == "" || (ref.Kind != "" && ref.Kind != apis.ModelServing.Kind) {
		return out
	}
	if ref.APIVersion != "" && groupOf(ref.APIVersion) != apis.ModelServing.Group {
		return out
	}
	return append(out, policyTarget{
		ref: policies.WorkloadRef{
			Group: apis.ModelServing.Group, Kind: apis.ModelServing.Kind,
			Namespace: defaultNS(orDefault(ref.Namespace, policyNS)), Name: ref.Name,
		},
		apiVersion: orDefault(ref.APIVersion, apis.ModelServing.GroupVersion().String()),
		path:       path,
		roles:      roles,
	})
}
