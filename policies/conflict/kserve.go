package conflict

import (
	"fmt"
	"regexp"
	"strings"

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
			return scaledObjectsOnComponentsOf(o, in)
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
	var out []clash
	for _, isvc := range in.View.InferenceServices(target.Namespace) {
		if owner, ok := controllerOf(so, apis.InferenceService.Group, apis.InferenceService.Kind); ok && owner == isvc.Name {
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
		out = append(out, clash{
			other: otherKey("InferenceService", isvc.Namespace, isvc.Name),
			topic: target.Key(),
			finding: policies.Denyf(field.NewPath("spec", "scaleTargetRef"),
				"%s is %s of InferenceService %q, which KServe already scales with %s; two autoscalers overwrite each other's spec.replicas and the workload flaps: %s so this ScaledObject alone scales it",
				workloadText(orDefault(so.Spec.ScaleTargetRef.APIVersion, policies.KEDADefaultAPIVersion), target, target.Namespace),
				comp.what(), isvc.Name, s.how(comp.deployment), s.fix(isvc.Name)),
		})
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
	if s.mode == modeKnative {
		candidates = in.View.ScaledObjects(ns) // revision Deployments carry a generated suffix.
	} else {
		for _, c := range componentsOf(isvc) {
			candidates = append(candidates, in.View.ScaledObjectsFor(policies.WorkloadRef{
				Group: policies.DeploymentKind.Group, Kind: policies.DeploymentKind.Kind, Namespace: ns, Name: c.deployment,
			})...)
		}
	}
	var out []clash
	for _, so := range candidates {
		if owner, ok := controllerOf(so, apis.InferenceService.Group, apis.InferenceService.Kind); ok && owner == isvc.Name {
			continue
		}
		target, ok := policies.KEDATarget(so)
		if !ok || target.GroupKind() != policies.DeploymentKind {
			continue
		}
		comp, ok := componentFor(isvc, s, target.Name)
		if !ok {
			continue
		}
		out = append(out, clash{
			other: otherKey("ScaledObject", so.Namespace, so.Name),
			topic: target.Key(),
			finding: policies.Denyf(s.field,
				"KServe would scale %s, %s, with %s, but ScaledObject %q already scales it; two autoscalers overwrite each other's spec.replicas and the workload flaps: %s so the ScaledObject alone scales it, or delete the ScaledObject first",
				comp.role(), workloadText("apps/v1", target, ns), s.how(comp.deployment), so.Name, s.fixHere()),
		})
	}
	return out
}

// Deployment modes, normalised.
const (
	modeStandard  = "Standard"
	modeKnative   = "Knative"
	modeModelMesh = "ModelMesh"
)

// kserveScaler is the autoscaler KServe runs for an InferenceService.
type kserveScaler struct {
	mode  string
	class string // hpa, keda or none in Standard mode; "" in Knative mode
	// why says what decided it, for messages.
	why   string
	field *field.Path
}

// kserveScalerOf returns the autoscaler KServe runs for an InferenceService's
// components; false when it runs none (class external, ModelMesh, or a class
// KServe rejects). The mode comes from status.deploymentMode, then the
// annotation, then the cluster default in the settings, as KServe resolves
// it; the legacy RawDeployment and Serverless mean Standard and Knative.
func kserveScalerOf(isvc *kservev1beta1.InferenceService, settings *policies.Settings) (kserveScaler, bool) {
	annotations := isvc.GetAnnotations()
	mode, why := normaliseMode(isvc.Status.DeploymentMode), "status.deploymentMode: "+isvc.Status.DeploymentMode
	if mode == "" {
		raw := annotations[kservev1beta1.DeploymentModeAnnotation]
		mode, why = normaliseMode(raw), kservev1beta1.DeploymentModeAnnotation+": "+raw
	}
	if mode == "" {
		def := settings.Conflicts.KServeDefaultDeploymentMode
		mode = normaliseMode(def)
		why = fmt.Sprintf("no valid %s, so the cluster default %s", kservev1beta1.DeploymentModeAnnotation, def)
	}
	switch mode {
	case modeKnative:
		return kserveScaler{mode: mode, why: why,
			field: field.NewPath("metadata", "annotations").Key(kservev1beta1.DeploymentModeAnnotation)}, true
	case modeStandard:
	default:
		return kserveScaler{}, false
	}
	s := kserveScaler{mode: mode, field: field.NewPath("metadata", "annotations").Key(kservev1beta1.AutoscalerClassAnnotation)}
	class, set := annotations[kservev1beta1.AutoscalerClassAnnotation]
	switch {
	case !set || class == "":
		s.class, s.why = "hpa", kservev1beta1.AutoscalerClassAnnotation+" is absent, which means hpa"
	case class == "hpa", class == "keda", class == "none":
		s.class, s.why = class, kservev1beta1.AutoscalerClassAnnotation+": "+class
	default:
		// external, or a class KServe rejects: KServe runs no autoscaler.
		return kserveScaler{}, false
	}
	return s, true
}

func normaliseMode(m string) string {
	switch m {
	case "Standard", "RawDeployment":
		return modeStandard
	case "Knative", "Serverless":
		return modeKnative
	case "ModelMesh":
		return modeModelMesh
	}
	return ""
}

// how says how KServe scales a component Deployment.
func (s kserveScaler) how(deployment string) string {
	switch s.class {
	case "hpa":
		return fmt.Sprintf("its own HorizontalPodAutoscaler %q (%s)", deployment, s.why)
	case "keda":
		return fmt.Sprintf("its own ScaledObject %q (%s)", deployment, s.why)
	case "none":
		return fmt.Sprintf("spec.replicas pinned to minReplicas on every reconcile (%s)", s.why)
	}
	return fmt.Sprintf("Knative's autoscaler on every revision (Knative mode: %s)", s.why)
}

// fix says what to change on the InferenceService, named from elsewhere.
func (s kserveScaler) fix(isvc string) string {
	if s.mode == modeKnative {
		return fmt.Sprintf("run InferenceService %q in raw mode with serving.kserve.io/deploymentMode: RawDeployment and serving.kserve.io/autoscalerClass: external (KServe does not change the mode of an existing InferenceService: recreate it)", isvc)
	}
	return fmt.Sprintf("set serving.kserve.io/autoscalerClass: external on InferenceService %q", isvc)
}

// fixHere says what to change on the InferenceService under judgement.
func (s kserveScaler) fixHere() string {
	if s.mode == modeKnative {
		return "deploy it in raw mode with serving.kserve.io/deploymentMode: RawDeployment and serving.kserve.io/autoscalerClass: external (KServe does not change the mode of an existing InferenceService: recreate it)"
	}
	return "set serving.kserve.io/autoscalerClass: external"
}

// component is one Deployment-backed component of an InferenceService.
type component struct {
	kind       string // predictor, transformer or explainer
	deployment string
	revision   bool // a Knative revision Deployment of the component
}

func (c component) what() string {
	if c.revision {
		return fmt.Sprintf("a Knative revision of the %s %q", c.kind, c.deployment)
	}
	return "the " + c.kind
}

func (c component) role() string {
	if c.revision {
		return fmt.Sprintf("the revisions of its %s %q", c.kind, c.deployment)
	}
	return "its " + c.kind
}

// componentsOf lists an InferenceService's component Deployments as KServe
// names them in raw mode: <isvc>-predictor (<isvc>-<name>-predictor when
// the predictor is named; <isvc>-predictor-default before KServe 0.16),
// <isvc>-transformer and <isvc>-explainer. The autoscaler class applies to
// all of them.
func componentsOf(isvc *kservev1beta1.InferenceService) []component {
	var out []component
	if n := isvc.Spec.Predictor.Name; n != "" {
		out = append(out, component{kind: "predictor", deployment: isvc.Name + "-" + n + "-predictor"})
	} else {
		out = append(out,
			component{kind: "predictor", deployment: isvc.Name + "-predictor"},
			component{kind: "predictor", deployment: isvc.Name + "-predictor-default"})
	}
	if isvc.Spec.Transformer != nil {
		out = append(out, component{kind: "transformer", deployment: isvc.Name + "-transformer"})
	}
	if isvc.Spec.Explainer != nil {
		out = append(out, component{kind: "explainer", deployment: isvc.Name + "-explainer"})
	}
	return out
}

// revisionSuffix is what Knative appends to a component's name for the
// Deployment of each revision: -00001-deployment, -00002-deployment, ...
var revisionSuffix = regexp.MustCompile(`^-[0-9]{5}-deployment$`)

// componentFor returns the component a Deployment belongs to. In Knative
// mode a component's Deployments are its revisions'; the component's own
// name is matched too (it names a Knative Service, but the intent is
// plain).
func componentFor(isvc *kservev1beta1.InferenceService, s kserveScaler, deployment string) (component, bool) {
	for _, c := range componentsOf(isvc) {
		if deployment == c.deployment {
			return c, true
		}
		if s.mode == modeKnative && strings.HasPrefix(deployment, c.deployment) && revisionSuffix.MatchString(deployment[len(c.deployment):]) {
			c.revision = true
			return c, true
		}
	}
	return component{}, false
}
