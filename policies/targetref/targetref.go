// Package targetref holds the target-ref rule: a ScaledObject's
// scaleTargetRef must name an object KEDA can find and scale.
package targetref

import (
	"fmt"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

// ID is the rule's stable ID.
const ID = "target-ref"

func init() {
	policies.MustRegister(policies.Rule{
		ID:      ID,
		Kinds:   []schema.GroupVersionKind{apis.ScaledObject, apis.HorizontalPodAutoscaler},
		Action:  policies.Deny,
		Summary: "scaleTargetRef names a kind without its apiVersion, a kind/apiVersion pair that does not exist, or a Deployment where the namespace has a ModelServing of that name; an HPA's names a missing workload beside one of a similar name",
		Doc: `KEDA resolves scaleTargetRef with two defaults: an empty apiVersion means apps/v1 and an empty kind means Deployment, each on its own. ` +
			"So `kind: ModelServing` without `apiVersion` makes KEDA look for an apps/v1 ModelServing, which does not exist, and a ScaledObject with no kind " +
			"next to a Kthena ModelServing scales a Deployment of that name that is not there. Either way the ScaledObject never becomes ready and nothing scales.\n\n" +
			"Denied: a kind listed in the settings (`targetRef.scalableKinds`) with an apiVersion that does not serve it; a non-apps/v1 kind with no apiVersion; " +
			"an apps/v1 kind that apps/v1 does not have; a kind without a /scale subresource (`targetRef.unscalableKinds`, e.g. InferenceService: target its predictor Deployment); " +
			"no kind while the namespace has a ModelServing, StatefulSet or InferenceService of that name and no Deployment. The message gives the exact scaleTargetRef to write.\n\n" +
			"Warned: the target does not exist yet (GitOps tools apply objects in any order; KEDA reports the ScaledObject not ready until it appears), " +
			"for the kinds scaleguard reads (Deployment, StatefulSet, ModelServing, LeaderWorkerSet). Not warned: a Deployment KServe creates for an InferenceService " +
			"of the namespace (`<isvc>-predictor`, `<isvc>-<name>-predictor`, `<isvc>-transformer`, `<isvc>-explainer`), which appears when KServe reconciles it, " +
			"nor one a cataloged autoscaler's controller creates (a NIMService's Deployment, a Knative Service's revision Deployments).\n\n" +
			"An HPA a person wrote (one without a controller owner) is warned, never denied, when its target is not in the view while a workload of the same kind " +
			"and a similar name is (one name is the other with a dash-separated prefix or suffix, as a Helm release adds, or they differ by at most two characters): " +
			"the name a chart hardcodes. A target that is simply not there yet, or that KServe or a cataloged autoscaler (a NIMService's Deployment) creates, is not judged.",
		Check: func(in *policies.Input) []policies.Finding {
			switch o := in.Object.(type) {
			case *kedav1alpha1.ScaledObject:
				return check(o, in)
			case *autoscalingv2.HorizontalPodAutoscaler:
				return checkHPA(o, in)
			}
			return nil
		},
	})
}

func check(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	path := field.NewPath("spec", "scaleTargetRef")
	ref := so.Spec.ScaleTargetRef
	if ref == nil {
		return []policies.Finding{policies.Denyf(path,
			"is missing, so KEDA has nothing to scale; write scaleTargetRef: {name: <workload>} (plus apiVersion and kind for anything but an apps/v1 Deployment)")}
	}
	if ref.Name == "" {
		return []policies.Finding{policies.Denyf(path.Child("name"),
			"is empty, so KEDA has nothing to scale; name the workload to scale")}
	}
	if f, done := checkKind(ref, in.Settings.TargetRef, path); done {
		return f
	}
	return checkExists(so, ref, in, path)
}

// checkKind judges the apiVersion/kind pair on its own. done is true when
// the pair is wrong (no point looking the target up).
func checkKind(ref *kedav1alpha1.ScaleTarget, s policies.TargetRefSettings, path *field.Path) ([]policies.Finding, bool) {
	apiVersion := ref.APIVersion
	effAPI := apiVersion
	if effAPI == "" {
		effAPI = policies.KEDADefaultAPIVersion
	}
	gv, err := schema.ParseGroupVersion(effAPI)
	if err != nil {
		return deny(path.Child("apiVersion"), "%q is not a group/version, so KEDA cannot resolve the target: %v", apiVersion, err), true
	}
	kind := ref.Kind
	if kind == "" {
		if apiVersion == "" || apiVersion == policies.KEDADefaultAPIVersion {
			return nil, false
		}
		// KEDA defaults the kind to Deployment even under another group.
		fix := "set kind"
		if k := kindsServedBy(s.ScalableKinds, apiVersion); len(k) == 1 {
			fix = "write " + scaleTargetRef(apiVersion, k[0], ref.Name)
		}
		return deny(path.Child("kind"),
			"is empty, so KEDA looks for a %s Deployment %q, which does not exist; %s", apiVersion, ref.Name, fix), true
	}

	for _, k := range s.UnscalableKinds {
		if k.Kind == kind && (apiVersion == "" || groupOf(k.APIVersion) == gv.Group) {
			return deny(path.Child("kind"), "%s %s has no /scale subresource, so KEDA can never scale it; %s",
				k.APIVersion, kind, unscalableFix(kind, ref.Name)), true
		}
	}

	served := apiVersionsServing(s.ScalableKinds, kind)
	if len(served) > 0 {
		for _, v := range served {
			if v == effAPI {
				return nil, false
			}
		}
		want := served[0]
		if apiVersion == "" {
			return deny(path.Child("apiVersion"),
				"is empty, so KEDA looks for an apps/v1 %s %q, which does not exist, and the ScaledObject never becomes ready; write %s",
				kind, ref.Name, scaleTargetRef(want, kind, ref.Name)), true
		}
		return deny(path.Child("apiVersion"),
			"%q does not serve kind %s, so KEDA cannot find %q; write %s",
			apiVersion, kind, ref.Name, scaleTargetRef(want, kind, ref.Name)), true
	}

	// A kind the settings do not know: only the apps group can be judged.
	if gv.Group == "apps" {
		if apiVersion == "" {
			return deny(path.Child("apiVersion"),
				"is empty, so KEDA looks for an apps/v1 %s %q, and apps/v1 has no kind %s; set apiVersion to the group/version that serves %s",
				kind, ref.Name, kind, kind), true
		}
		return deny(path.Child("kind"), "apps has no kind %s, so KEDA cannot find %q; use Deployment or StatefulSet, or the apiVersion that serves %s",
			kind, ref.Name, kind), true
	}
	return nil, false
}

// checkExists looks the target up when the view can see its kind.
func checkExists(so *kedav1alpha1.ScaledObject, ref *kedav1alpha1.ScaleTarget, in *policies.Input, path *field.Path) []policies.Finding {
	target, _ := policies.KEDATarget(so)
	target.Namespace = in.Namespace()
	if !policies.ViewsKind(target.GroupKind()) {
		return nil
	}
	if _, ok := policies.LookupWorkload(in.View, target); ok {
		return nil
	}
	if _, ok := autoscalers.GeneratesWorkload(in.View, target); ok {
		return nil // a cataloged autoscaler's controller creates it (a NIMService's Deployment).
	}
	ns := target.Namespace
	if target.GroupKind() == policies.DeploymentKind {
		if _, ok := generatingInferenceService(in.View, ns, ref.Name); ok {
			// KServe creates this Deployment from the InferenceService (the
			// GPU rules judge the InferenceService in its place): nothing is
			// missing.
			return nil
		}
		if ms, ok := in.View.ModelServing(ns, ref.Name); ok {
			return defaultKindMismatch(ref, path, "ModelServing", ms.GetName(), scaleTargetRef(apis.ModelServing.GroupVersion().String(), "ModelServing", ref.Name))
		}
		if sts, ok := in.View.StatefulSet(ns, ref.Name); ok {
			return defaultKindMismatch(ref, path, "StatefulSet", sts.GetName(), scaleTargetRef("apps/v1", "StatefulSet", ref.Name))
		}
		if isvc, ok := in.View.InferenceService(ns, ref.Name); ok {
			predictor := ref.Name + "-predictor"
			if isvc.Spec.Predictor.Name != "" {
				predictor = ref.Name + "-" + isvc.Spec.Predictor.Name + "-predictor"
			}
			if ref.Kind != "" {
				// The user wrote Deployment explicitly; it may still be coming.
				return []policies.Finding{policies.Warnf(path.Child("name"),
					"apps/v1 Deployment %q does not exist yet, but the namespace has an InferenceService %q; if that is the model to scale, its predictor Deployment is %q: write %s",
					ref.Name, ref.Name, predictor, scaleTargetRef("", "", predictor))}
			}
			return []policies.Finding{policies.Denyf(path.Child("name"),
				"names InferenceService %q, but KEDA scales the apps/v1 Deployment %q, which does not exist; KServe's predictor Deployment is %q: write %s",
				ref.Name, ref.Name, predictor, scaleTargetRef("", "", predictor))}
		}
	}
	return []policies.Finding{policies.Warnf(path.Child("name"),
		"%s does not exist in namespace %q yet; KEDA reports the ScaledObject not ready until it does (fine when it is applied later)",
		describe(target), ns)}
}

// generatingInferenceService is the InferenceService of the view whose
// KServe controller creates a Deployment of this name: its predictor
// (<isvc>-predictor, or <isvc>-<name>-predictor for a named predictor),
// transformer or explainer.
func generatingInferenceService(view policies.ClusterView, ns, deployment string) (string, bool) {
	for _, isvc := range view.InferenceServices(ns) {
		predictor := isvc.Name + "-predictor"
		if n := isvc.Spec.Predictor.Name; n != "" {
			predictor = isvc.Name + "-" + n + "-predictor"
		}
		switch {
		case deployment == predictor,
			isvc.Spec.Transformer != nil && deployment == isvc.Name+"-transformer",
			isvc.Spec.Explainer != nil && deployment == isvc.Name+"-explainer":
			return isvc.Name, true
		}
	}
	return "", false
}

func defaultKindMismatch(ref *kedav1alpha1.ScaleTarget, path *field.Path, foundKind, name, fix string) []policies.Finding {
	if ref.Kind != "" {
		// The user wrote Deployment explicitly; it may still be coming.
		return []policies.Finding{policies.Warnf(path.Child("name"),
			"apps/v1 Deployment %q does not exist yet, but the namespace has a %s %q; if that is the target, write %s",
			name, foundKind, name, fix)}
	}
	return []policies.Finding{policies.Denyf(path.Child("kind"),
		"is empty, so KEDA scales the apps/v1 Deployment %q, which does not exist; the namespace has a %s %q and no Deployment of that name: write %s",
		name, foundKind, name, fix)}
}

func deny(path *field.Path, format string, args ...any) []policies.Finding {
	return []policies.Finding{policies.Denyf(path, format, args...)}
}

func describe(t policies.WorkloadRef) string {
	return fmt.Sprintf("%s %s %q", apiVersionOfGroup(t.Group), t.Kind, t.Name)
}

func apiVersionOfGroup(group string) string {
	switch group {
	case "apps":
		return "apps/v1"
	case apis.ModelServing.Group:
		return apis.ModelServing.GroupVersion().String()
	case policies.LeaderWorkerSetKind.Group:
		return "leaderworkerset.x-k8s.io/v1"
	}
	return group
}

// scaleTargetRef renders the reference to write, omitting empty fields.
func scaleTargetRef(apiVersion, kind, name string) string {
	var parts []string
	if apiVersion != "" {
		parts = append(parts, "apiVersion: "+apiVersion)
	}
	if kind != "" {
		parts = append(parts, "kind: "+kind)
	}
	parts = append(parts, "name: "+name)
	return "scaleTargetRef: {" + strings.Join(parts, ", ") + "}"
}

func unscalableFix(kind, name string) string {
	switch kind {
	case "InferenceService":
		return fmt.Sprintf("scale KServe's predictor Deployment instead: %s, with serving.kserve.io/autoscalerClass: external on the InferenceService",
			scaleTargetRef("", "", name+"-predictor"))
	case "AutoscalingPolicy":
		return "scale the ModelServing it targets instead"
	}
	return "scale a Deployment, StatefulSet or another kind with a /scale subresource"
}

func apiVersionsServing(kinds []policies.KindRef, kind string) []string {
	var out []string
	for _, k := range kinds {
		if k.Kind == kind {
			out = append(out, k.APIVersion)
		}
	}
	return out
}

func kindsServedBy(kinds []policies.KindRef, apiVersion string) []string {
	var out []string
	for _, k := range kinds {
		if k.APIVersion == apiVersion {
			out = append(out, k.Kind)
		}
	}
	return out
}

func groupOf(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return apiVersion
	}
	return gv.Group
}
