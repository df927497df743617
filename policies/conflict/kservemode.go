package conflict

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/policies"
)

// Deployment modes, normalised.
const (
	modeStandard  = "Standard"
	modeKnative   = "Knative"
	modeModelMesh = "ModelMesh"
)

// deploymentMode is how KServe deploys an InferenceService, and what says so.
type deploymentMode struct {
	name string
	// why says what decided it, for messages.
	why string
	// assumed: the InferenceService states no mode (no status.deploymentMode,
	// no valid annotation), so name is conflicts.kserveDefaultDeploymentMode's,
	// an assumption about the cluster's default rather than a fact.
	assumed bool
}

// deploymentModeOf resolves the mode as KServe does: status.deploymentMode,
// then the annotation, then the cluster default (here the setting); the
// legacy RawDeployment and Serverless mean Standard and Knative.
func deploymentModeOf(isvc *kservev1beta1.InferenceService, settings *policies.Settings) deploymentMode {
	if m := normaliseMode(isvc.Status.DeploymentMode); m != "" {
		return deploymentMode{name: m, why: "status.deploymentMode: " + isvc.Status.DeploymentMode}
	}
	raw := isvc.GetAnnotations()[kservev1beta1.DeploymentModeAnnotation]
	if m := normaliseMode(raw); m != "" {
		return deploymentMode{name: m, why: kservev1beta1.DeploymentModeAnnotation + ": " + raw}
	}
	def := settings.Conflicts.KServeDefaultDeploymentMode
	return deploymentMode{name: normaliseMode(def), why: "conflicts.kserveDefaultDeploymentMode: " + def, assumed: true}
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

// autoscalerClassOf is the serving.kserve.io/autoscalerClass KServe applies
// in raw mode (absent means hpa), and how messages say it.
func autoscalerClassOf(isvc *kservev1beta1.InferenceService) (class, why string) {
	class, set := isvc.GetAnnotations()[kservev1beta1.AutoscalerClassAnnotation]
	if !set || class == "" {
		return "hpa", kservev1beta1.AutoscalerClassAnnotation + " is absent, which means hpa"
	}
	return class, kservev1beta1.AutoscalerClassAnnotation + ": " + class
}

// kserveScaler is the autoscaler KServe (or Knative, in Knative mode) runs
// for an InferenceService's components.
type kserveScaler struct {
	mode deploymentMode
	// class is hpa, keda or none in Standard mode; "" in Knative mode.
	class string
	// why says what decided it: the class in Standard mode, the mode in
	// Knative mode.
	why string
}

// kserveScalerOf returns the autoscaler that scales an InferenceService's
// components; false when there is none (class external, ModelMesh, or a
// class KServe rejects).
func kserveScalerOf(isvc *kservev1beta1.InferenceService, settings *policies.Settings) (kserveScaler, bool) {
	mode := deploymentModeOf(isvc, settings)
	switch mode.name {
	case modeKnative:
		return kserveScaler{mode: mode, why: "Knative mode: " + mode.why}, true
	case modeStandard:
		class, why := autoscalerClassOf(isvc)
		switch class {
		case "hpa", "keda", "none":
			return kserveScaler{mode: mode, class: class, why: why}, true
		}
	}
	// external, ModelMesh, or a class KServe rejects: no autoscaler.
	return kserveScaler{}, false
}

// field is the InferenceService's annotation that brings this autoscaler
// in: the mode in Knative mode, the class in raw mode.
func (s kserveScaler) field() *field.Path {
	key := kservev1beta1.AutoscalerClassAnnotation
	if s.mode.name == modeKnative {
		key = kservev1beta1.DeploymentModeAnnotation
	}
	return field.NewPath("metadata", "annotations").Key(key)
}

// finding is a denial, or a warning when the mode is only assumed.
func (s kserveScaler) finding(path *field.Path, format string, args ...any) policies.Finding {
	if s.mode.assumed {
		return policies.Warnf(path, format, args...)
	}
	return policies.Denyf(path, format, args...)
}

// assumption opens or closes a message about an assumed mode.
func (s kserveScaler) assumption() string {
	return fmt.Sprintf("if it runs in %s mode, as conflicts.kserveDefaultDeploymentMode assumes for an InferenceService that states no deployment mode", s.mode.name)
}

// notDenied says why a conflict in an assumed mode is a warning, and how to
// settle the mode.
func notDenied(isvc string) string {
	return fmt.Sprintf("not denied on an assumption: set %s on InferenceService %q to the mode it runs in (or conflicts.kserveDefaultDeploymentMode to the cluster's default)",
		kservev1beta1.DeploymentModeAnnotation, isvc)
}

// rawScales says how KServe scales a component in raw mode, with the
// InferenceService as the subject: "KServe would scale its predictor, the
// workload ..., with its own HorizontalPodAutoscaler ... (why)".
func (s kserveScaler) rawScales(c component, workload string, would bool) string {
	scale, hold := "scales", "holds"
	if would {
		scale, hold = "would scale", "would hold"
	}
	switch s.class {
	case "none":
		return fmt.Sprintf("KServe %s its %s, %s, at minReplicas, writing spec.replicas back on every reconcile (%s)", hold, c.kind, workload, s.why)
	case "keda":
		return fmt.Sprintf("KServe %s its %s, %s, with its own ScaledObject %q (%s)", scale, c.kind, workload, c.deployment, s.why)
	}
	return fmt.Sprintf("KServe %s its %s, %s, with its own HorizontalPodAutoscaler %q (%s)", scale, c.kind, workload, c.deployment, s.why)
}

// alsoScales says who else scales a component Deployment, with the
// Deployment as the object: "KServe scales it too with ...".
func (s kserveScaler) alsoScales(c component) string {
	switch s.class {
	case "hpa":
		return fmt.Sprintf("KServe scales it too with its own HorizontalPodAutoscaler %q (%s)", c.deployment, s.why)
	case "keda":
		return fmt.Sprintf("KServe scales it too with its own ScaledObject %q (%s)", c.deployment, s.why)
	case "none":
		return fmt.Sprintf("KServe holds it at minReplicas, writing spec.replicas back on every reconcile (%s)", s.why)
	}
	return "Knative's autoscaler scales it too"
}

// alreadyScales is alsoScales for a relative clause: "which KServe already
// scales with ...".
func (s kserveScaler) alreadyScales(c component) string {
	switch s.class {
	case "hpa":
		return fmt.Sprintf("which KServe already scales with its own HorizontalPodAutoscaler %q (%s)", c.deployment, s.why)
	case "keda":
		return fmt.Sprintf("which KServe already scales with its own ScaledObject %q (%s)", c.deployment, s.why)
	case "none":
		return fmt.Sprintf("which KServe already holds at minReplicas, writing spec.replicas back on every reconcile (%s)", s.why)
	}
	return fmt.Sprintf("which Knative's autoscaler already scales (%s)", s.why)
}

// rawModeFix is how an InferenceService leaves Knative's autoscaler.
const rawModeFix = "serving.kserve.io/deploymentMode: RawDeployment with serving.kserve.io/autoscalerClass: external; KServe does not change the mode of an existing InferenceService, so recreate it"

// fix says what to change on the InferenceService, named from a
// ScaledObject on component c.
func (s kserveScaler) fix(isvc string, c component) string {
	if s.mode.name == modeKnative {
		return fmt.Sprintf("run InferenceService %q in raw mode (%s) and target its Deployment %q, which keeps its name across revisions", isvc, rawModeFix, c.deployment)
	}
	return fmt.Sprintf("set serving.kserve.io/autoscalerClass: external on InferenceService %q so this ScaledObject alone scales it", isvc)
}

// fixHere says what to change on the InferenceService under judgement.
func (s kserveScaler) fixHere(c component) string {
	if s.mode.name == modeKnative {
		return fmt.Sprintf("deploy it in raw mode (%s) and point the ScaledObject at %q, or delete the ScaledObject first", rawModeFix, c.deployment)
	}
	return "set serving.kserve.io/autoscalerClass: external so the ScaledObject alone scales it, or delete the ScaledObject first"
}

// component is one Deployment-backed component of an InferenceService.
type component struct {
	kind       string // predictor, transformer or explainer
	deployment string // its name: the raw Deployment's, the Knative Service's
	revision   bool   // the Deployment is one of its Knative revisions'
}

// componentsOf lists an InferenceService's components as KServe names them:
// <isvc>-predictor (<isvc>-<name>-predictor when the predictor is named;
// <isvc>-predictor-default before KServe 0.16), <isvc>-transformer and
// <isvc>-explainer. The autoscaler class applies to all of them.
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

// componentFor returns the component a Deployment belongs to in the mode
// of s. In raw mode a component's Deployment has the component's name. In
// Knative mode that name is a Knative Service's, and no Deployment has it:
// the Deployments are its revisions', which Knative's autoscaler scales.
func componentFor(isvc *kservev1beta1.InferenceService, s kserveScaler, deployment string) (component, bool) {
	for _, c := range componentsOf(isvc) {
		if s.mode.name != modeKnative {
			if deployment == c.deployment {
				return c, true
			}
			continue
		}
		if strings.HasPrefix(deployment, c.deployment) && revisionSuffix.MatchString(deployment[len(c.deployment):]) {
			c.revision = true
			return c, true
		}
	}
	return component{}, false
}

func (c component) what() string {
	if c.revision {
		return fmt.Sprintf("a Knative revision of the %s %q", c.kind, c.deployment)
	}
	return "the " + c.kind
}
