package conflict

import (
	"fmt"
	"sort"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	vpav1 "github.com/scaleguard/scaleguard/apis/vpa/v1"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

// VPAID is the rule ID of conflict-vpa.
const VPAID = "conflict-vpa"

// resourceUse is one cpu or memory utilisation an autoscaler scales on:
// of every container of the pods, or of one (an HPA's ContainerResource
// metric, a KEDA trigger's containerName).
type resourceUse struct {
	resource  string
	container string
	// path is the field that sets it, on the autoscaler.
	path *field.Path
}

// utilisationScaler is an autoscaler of a workload that scales on cpu or
// memory utilisation.
type utilisationScaler struct {
	obj  client.Object
	text string // `HorizontalPodAutoscaler "llm"`
	uses []resourceUse
}

func checkVPA(in *policies.Input) []policies.Finding {
	switch o := in.Object.(type) {
	case *vpav1.VerticalPodAutoscaler:
		return scalersBesideVPA(o, in)
	case *autoscalingv2.HorizontalPodAutoscaler:
		if generatedHPA(o, in.View) || autoscalers.GeneratedByAny(o) {
			return nil // judged at its owner (the VPA names it).
		}
		return vpasBeside(policies.HPATarget(o), hpaUses(o), in)
	case *kedav1alpha1.ScaledObject:
		if _, kserve := controllerOf(o, apis.InferenceService.Group, apis.InferenceService.Kind); kserve {
			return nil // judged at its InferenceService.
		}
		t, ok := policies.KEDATarget(o)
		if !ok || t.Name == "" {
			return nil
		}
		return vpasBeside(t, scaledObjectUses(o), in)
	case *kservev1beta1.InferenceService:
		var out []policies.Finding
		uses := kserveUses(o, in.Settings)
		if len(uses) == 0 {
			return nil
		}
		for _, c := range componentsOf(o) {
			out = append(out, vpasBeside(deploymentRef(defaultNS(o.Namespace), c.deployment), uses, in)...)
		}
		return out
	}
	return nil
}

// updating reports whether the VPA changes running or new pods' requests
// in a way that moves the utilisation an HPA reads: every mode but Off and
// Initial (which sets requests only when a pod is created). Unset means
// Recreate.
func updating(vpa *vpav1.VerticalPodAutoscaler) (string, bool) {
	if vpa.Spec.UpdatePolicy == nil || vpa.Spec.UpdatePolicy.UpdateMode == nil {
		return "unset (Recreate)", true
	}
	m := *vpa.Spec.UpdatePolicy.UpdateMode
	switch m {
	case vpav1.UpdateModeOff, vpav1.UpdateModeInitial:
		return string(m), false
	}
	return string(m), true
}

// controls reports whether the VPA controls resource of container ("" for
// any container of the pods): the container's own policy, else the "*"
// policy, else the default (cpu and memory).
func controls(vpa *vpav1.VerticalPodAutoscaler, resource, container string) bool {
	var named []vpav1.ContainerResourcePolicy
	var fallback *vpav1.ContainerResourcePolicy
	if rp := vpa.Spec.ResourcePolicy; rp != nil {
		for i, p := range rp.ContainerPolicies {
			if p.ContainerName == vpav1.DefaultContainerResourcePolicy {
				fallback = &rp.ContainerPolicies[i]
			} else {
				named = append(named, p)
			}
		}
	}
	policyControls := func(p *vpav1.ContainerResourcePolicy) bool {
		if p == nil {
			return resource == "cpu" || resource == "memory"
		}
		if p.Mode != nil && *p.Mode == vpav1.ContainerScalingModeOff {
			return false
		}
		if p.ControlledResources == nil {
			return resource == "cpu" || resource == "memory"
		}
		for _, r := range *p.ControlledResources {
			if string(r) == resource {
				return true
			}
		}
		return false
	}
	if container != "" {
		for i := range named {
			if named[i].ContainerName == container {
				return policyControls(&named[i])
			}
		}
		return policyControls(fallback)
	}
	for i := range named {
		if policyControls(&named[i]) {
			return true
		}
	}
	// Containers without a policy of their own take the fallback.
	return policyControls(fallback)
}

// overlap lists the resources of uses the VPA controls.
func overlap(vpa *vpav1.VerticalPodAutoscaler, uses []resourceUse) []resourceUse {
	var out []resourceUse
	for _, u := range uses {
		if controls(vpa, u.resource, u.container) {
			out = append(out, u)
		}
	}
	return out
}

// vpaTarget is the workload a VPA sizes.
func vpaTarget(vpa *vpav1.VerticalPodAutoscaler) (policies.WorkloadRef, bool) {
	ref := vpa.Spec.TargetRef
	if ref == nil || ref.Name == "" {
		return policies.WorkloadRef{}, false
	}
	group := ref.APIVersion
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err == nil {
		group = gv.Group
	}
	return policies.WorkloadRef{Group: group, Kind: ref.Kind, Namespace: defaultNS(vpa.Namespace), Name: ref.Name}, true
}

// vpasBeside warns about the VPAs that rewrite the requests of the
// resources an HPA, ScaledObject or InferenceService scales on.
func vpasBeside(target policies.WorkloadRef, uses []resourceUse, in *policies.Input) []policies.Finding {
	if len(uses) == 0 || target.Name == "" {
		return nil
	}
	var out []policies.Finding
	for _, vpa := range in.View.VerticalPodAutoscalers(target.Namespace) {
		t, ok := vpaTarget(vpa)
		if !ok || t != target {
			continue
		}
		mode, ok := updating(vpa)
		if !ok {
			continue
		}
		for _, u := range overlap(vpa, uses) {
			out = append(out, policies.Warnf(u.path,
				"scales on %s utilisation of the pods of %s, whose %s requests VerticalPodAutoscaler %q rewrites (updateMode %s), and utilisation is measured against those requests: each resize moves what this autoscaler acts on (Kubernetes documents the pair as unsupported); %s",
				u.what(), workloadText(apiVersionOf(target), target, target.Namespace), u.resource, vpa.Name, mode, vpaFix(vpa.Name, u.resource)))
		}
	}
	return out
}

// scalersBesideVPA warns, on a VPA in an updating mode, about the
// autoscalers of its workload that scale on a utilisation it rewrites.
func scalersBesideVPA(vpa *vpav1.VerticalPodAutoscaler, in *policies.Input) []policies.Finding {
	target, ok := vpaTarget(vpa)
	if !ok {
		return nil
	}
	mode, ok := updating(vpa)
	if !ok {
		return nil
	}
	var scalers []utilisationScaler
	for _, hpa := range in.View.HPAsFor(target) {
		if _, keda := kedaOwner(hpa, in.View); keda {
			continue // its ScaledObject is named.
		}
		if _, kserve := controllerOf(hpa, apis.InferenceService.Group, apis.InferenceService.Kind); kserve {
			continue // its InferenceService is named.
		}
		text := fmt.Sprintf("HorizontalPodAutoscaler %q", hpa.Name)
		if ref := controllerRef(hpa); ref != "" {
			text += " (generated by " + ref + ")"
		}
		scalers = append(scalers, utilisationScaler{hpa, text, hpaUses(hpa)})
	}
	for _, so := range in.View.ScaledObjectsFor(target) {
		if _, kserve := controllerOf(so, apis.InferenceService.Group, apis.InferenceService.Kind); kserve {
			continue // its InferenceService is named.
		}
		scalers = append(scalers, utilisationScaler{so, fmt.Sprintf("ScaledObject %q", so.Name), scaledObjectUses(so)})
	}
	if target.GroupKind() == policies.DeploymentKind {
		for _, isvc := range in.View.InferenceServices(target.Namespace) {
			for _, c := range componentsOf(isvc) {
				if c.deployment == target.Name {
					scalers = append(scalers, utilisationScaler{isvc, fmt.Sprintf("InferenceService %q (KServe's autoscaler)", isvc.Name), kserveUses(isvc, in.Settings)})
				}
			}
		}
	}
	resources := map[string]bool{}
	var named []string
	for _, s := range scalers {
		hit := overlap(vpa, s.uses)
		if len(hit) == 0 {
			continue
		}
		named = append(named, s.text)
		for _, u := range hit {
			resources[u.resource] = true
		}
	}
	if len(named) == 0 {
		return nil
	}
	var rs []string
	for r := range resources {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	path := field.NewPath("spec", "updatePolicy", "updateMode")
	return []policies.Finding{policies.Warnf(path,
		"is %s, so this VPA rewrites the %s requests of the pods of %s, and %s scales them on %s utilisation, which is measured against those requests: each resize moves what the autoscaler acts on (Kubernetes documents the pair as unsupported); %s",
		mode, strings.Join(rs, " and "), workloadText(apiVersionOf(target), target, target.Namespace), strings.Join(named, ", "), strings.Join(rs, " and "), vpaFix(vpa.Name, strings.Join(rs, " and ")))}
}

func vpaFix(vpa, resource string) string {
	return fmt.Sprintf("leave %s out of the controlledResources of VerticalPodAutoscaler %q, or set its updateMode: Off (recommendations only), or scale on a metric that is not cpu or memory (requests waiting, KV-cache use)", resource, vpa)
}

func (u resourceUse) what() string {
	if u.container != "" {
		return fmt.Sprintf("the %s of container %q", u.resource, u.container)
	}
	return u.resource
}

// apiVersionOf renders a target's group for messages.
func apiVersionOf(t policies.WorkloadRef) string {
	switch t.Group {
	case "apps":
		return "apps/v1"
	case "":
		return "v1"
	}
	return t.Group
}

// controllerRef renders an object's controller owner: `PodAutoscaler "llm"`.
func controllerRef(obj client.Object) string {
	for _, r := range obj.GetOwnerReferences() {
		if r.Controller != nil && *r.Controller {
			return fmt.Sprintf("%s %q", r.Kind, r.Name)
		}
	}
	return ""
}

// hpaUses lists the cpu and memory utilisation metrics of an HPA.
func hpaUses(hpa *autoscalingv2.HorizontalPodAutoscaler) []resourceUse {
	var out []resourceUse
	for i, m := range hpa.Spec.Metrics {
		p := field.NewPath("spec", "metrics").Index(i)
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			if isUtilisation(string(m.Resource.Name), m.Resource.Target.Type) {
				out = append(out, resourceUse{resource: string(m.Resource.Name), path: p.Child("resource", "name")})
			}
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
			if isUtilisation(string(m.ContainerResource.Name), m.ContainerResource.Target.Type) {
				out = append(out, resourceUse{resource: string(m.ContainerResource.Name), container: m.ContainerResource.Container, path: p.Child("containerResource", "name")})
			}
		}
	}
	return out
}

func isUtilisation(resource string, t autoscalingv2.MetricTargetType) bool {
	return (resource == "cpu" || resource == "memory") && t == autoscalingv2.UtilizationMetricType
}

// scaledObjectUses lists the cpu and memory triggers of a ScaledObject
// whose metricType is Utilization (KEDA's default for them).
func scaledObjectUses(so *kedav1alpha1.ScaledObject) []resourceUse {
	var out []resourceUse
	for i, tr := range so.Spec.Triggers {
		if tr.Type != "cpu" && tr.Type != "memory" {
			continue
		}
		mt := tr.MetricType
		if mt == "" {
			mt = autoscalingv2.MetricTargetType(tr.Metadata["type"]) // KEDA's deprecated metadata.type
		}
		if mt == "" || mt == autoscalingv2.UtilizationMetricType {
			out = append(out, resourceUse{resource: tr.Type, container: tr.Metadata["containerName"], path: field.NewPath("spec", "triggers").Index(i).Child("type")})
		}
	}
	return out
}

// kserveUses lists the cpu and memory utilisation KServe's autoscaler
// scales an InferenceService's components on, in raw mode: its HPA's
// metrics (KServe v0.20.0 pkg/controller/v1beta1/inferenceservice/reconcilers/hpa/hpa_reconciler.go
// getHPAMetrics: autoScaling.metrics, else scaleMetric, cpu by default at
// 80%), or the Resource metrics it gives KEDA. The predictor's settings
// are read; they are the ones the fix names.
func kserveUses(isvc *kservev1beta1.InferenceService, settings *policies.Settings) []resourceUse {
	mode := deploymentModeOf(isvc, settings)
	if mode.name != modeStandard {
		return nil
	}
	class, _ := autoscalerClassOf(isvc)
	ext := isvc.Spec.Predictor.ComponentExtensionSpec
	p := field.NewPath("spec", "predictor")
	var out []resourceUse
	if ext.AutoScaling != nil {
		for i, m := range ext.AutoScaling.Metrics {
			if m.Type != kservev1beta1.ResourceMetricSourceType || m.Resource == nil {
				continue
			}
			t := m.Resource.Target.Type
			if t == "" && (m.Resource.Name == "cpu" || class == "keda") {
				t = autoscalingv2.UtilizationMetricType // KServe's default for cpu; KEDA's for both
			}
			if isUtilisation(m.Resource.Name, t) && (class == "hpa" || class == "keda") {
				out = append(out, resourceUse{resource: m.Resource.Name, path: p.Child("autoScaling", "metrics").Index(i).Child("resource", "name")})
			}
		}
		return out
	}
	if class != "hpa" {
		return nil
	}
	switch {
	case ext.ScaleMetric == nil || *ext.ScaleMetric == "cpu":
		return []resourceUse{{resource: "cpu", path: p.Child("scaleMetric")}}
	case *ext.ScaleMetric == "memory" && ext.ScaleTarget != nil:
		return []resourceUse{{resource: "memory", path: p.Child("scaleMetric")}}
	}
	return nil
}
