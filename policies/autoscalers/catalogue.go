package autoscalers

import (
	"github.com/scaleguard/scaleguard/apis"
)

// Catalogue lists the autoscaling kinds scaleguard knows, one entry each.
var Catalogue = []Autoscaler{
	{
		// AIBrix: api/autoscaling/v1alpha1/podautoscaler_types.go (spec),
		// pkg/controller/podautoscaler/podautoscaler_controller.go
		// (Reconcile: strategy HPA → reconcileHPA, KPA and APA →
		// reconcileCustomPA, which scales the target through /scale; the
		// target is resolved in the PodAutoscaler's namespace) and
		// hpa_resources.go (makeHPA: "<name>-hpa", controller owner
		// reference to the PodAutoscaler), v0.7.0.
		Project: "AIBrix", GVK: apis.PodAutoscaler,
		Source: "vllm-project/aibrix pkg/controller/podautoscaler/podautoscaler_controller.go and hpa_resources.go, v0.7.0",
		Target: Target{Ref: []string{"spec", "scaleTargetRef"}},
		Modes: []Mode{
			{
				Name: "scalingStrategy HPA", Field: []string{"spec", "scalingStrategy"},
				When:    []Condition{{Path: []string{"spec", "scalingStrategy"}, In: []string{"HPA"}}},
				Scaling: CreatesHPA, Generated: "{name}-hpa",
				Fix: "delete PodAutoscaler {name} (AIBrix has no switch that keeps it without scaling)",
			},
			{
				Name: "scalingStrategy {spec.scalingStrategy}", Field: []string{"spec", "scalingStrategy"},
				When:    []Condition{{Path: []string{"spec", "scalingStrategy"}, In: []string{"KPA", "APA"}}},
				Scaling: WritesReplicas,
				Fix:     "delete PodAutoscaler {name} (AIBrix has no switch that keeps it without scaling)",
			},
		},
	},
	{
		// NVIDIA NIM operator: api/apps/v1alpha1/nimservice_types.go
		// (GetHPAParams: an HPA named after the NIMService on the
		// apps/v1 Deployment of that name; IsAutoScalingEnabled:
		// spec.scale.enabled; inferencePlatform defaults to standalone)
		// and internal/controller/platform/standalone/nimservice.go (the
		// HPA is synced with a controller owner reference; with autoscaling
		// off, the Deployment's spec.replicas is set back to the
		// NIMService's spec.replicas whenever it drifts, except for a
		// multi-node NIMService), v3.1.2. On the kserve platform the
		// operator generates an InferenceService instead, which
		// conflict-kserve judges.
		Project: "NVIDIA NIM operator", GVK: apis.NIMService,
		Source: "NVIDIA/k8s-nim-operator api/apps/v1alpha1/nimservice_types.go and internal/controller/platform/standalone/nimservice.go, v3.1.2",
		Target: Target{APIVersion: "apps/v1", Kind: "Deployment", Names: []string{"{name}"}},
		Modes: []Mode{
			{
				Name: "spec.scale.enabled: true", Field: []string{"spec", "scale", "enabled"},
				When: []Condition{
					{Path: []string{"spec", "scale", "enabled"}, In: []string{"true"}},
					{Path: []string{"spec", "inferencePlatform"}, In: []string{"", "standalone"}},
				},
				Scaling: CreatesHPA, Generated: "{name}",
				Fix: "set spec.scale.enabled: false on NIMService {name} and leave spec.replicas unset (the operator then deletes its HPA and leaves the replicas alone)",
			},
			{
				Name: "spec.replicas without spec.scale.enabled", Field: []string{"spec", "replicas"},
				When: []Condition{
					{Path: []string{"spec", "scale", "enabled"}, In: []string{"true"}, Not: true},
					{Path: []string{"spec", "inferencePlatform"}, In: []string{"", "standalone"}},
					{Path: []string{"spec", "replicas"}, In: []string{""}, Not: true},
					{Path: []string{"spec", "multiNode"}, In: []string{""}},
				},
				Scaling: WritesReplicas,
				Fix:     "remove spec.replicas from NIMService {name} (the operator then leaves the Deployment's replicas alone)",
			},
		},
	},
	{
		// Knative Serving: pkg/apis/autoscaling/register.go (the class
		// annotation, kpa.autoscaling.knative.dev and
		// hpa.autoscaling.knative.dev), pkg/reconciler/configuration/resources/revision.go
		// (a revision is named <configuration>-NNNNN, or by the template's
		// metadata.name; the Configuration is named after the Service),
		// pkg/reconciler/revision/resources/names/names.go (its Deployment
		// is <revision>-deployment, its PodAutoscaler <revision>) and
		// pkg/reconciler/autoscaling/hpa/resources/hpa.go (the HPA class
		// makes an HPA named after the PodAutoscaler, owned by it),
		// knative-v1.23.0. Without the annotation the cluster's
		// pod-autoscaler-class (config-autoscaler) applies: kpa as shipped.
		// A Service an InferenceService generated is left to
		// conflict-kserve.
		Project: "Knative Serving", GVK: apis.KnativeService,
		Source: "knative/serving pkg/reconciler/configuration/resources/revision.go, pkg/reconciler/revision/resources/names/names.go and pkg/reconciler/autoscaling/hpa/resources/hpa.go, knative-v1.23.0",
		Target: Target{APIVersion: "apps/v1", Kind: "Deployment", Names: []string{"{name}-[0-9]{5}-deployment", "{spec.template.metadata.name}-deployment"}, Revisions: true},
		Modes: []Mode{
			{
				Name: "the Knative Pod Autoscaler (kpa.autoscaling.knative.dev)", Field: knativeClass,
				When:    []Condition{{Path: knativeClass, In: []string{"", "kpa.autoscaling.knative.dev"}}},
				Scaling: WritesReplicas,
				Fix:     "scale Service {name} with Knative alone (its autoscaling.knative.dev annotations), or run the model as a plain Deployment, whose name does not change with each revision",
			},
			{
				Name: "autoscaling.knative.dev/class: hpa.autoscaling.knative.dev", Field: knativeClass,
				When:    []Condition{{Path: knativeClass, In: []string{"hpa.autoscaling.knative.dev"}}},
				Scaling: CreatesHPA, Via: &OwnerKind{Group: "autoscaling.internal.knative.dev", Kind: "PodAutoscaler"},
				Fix: "scale Service {name} with Knative alone (its autoscaling.knative.dev annotations), or run the model as a plain Deployment, whose name does not change with each revision",
			},
		},
	},
	{
		// KubeAI: api/k8s/v1/model_types.go (a /scale subresource on
		// spec.replicas; autoscalingDisabled "will stop the controller from
		// managing the replicas") and internal/modelautoscaler/autoscaler.go
		// (every Model without autoscalingDisabled is scaled through
		// modelclient.Scale; the proxy scales from zero likewise,
		// internal/modelclient/scale.go), v0.21.0. The Model's pods are
		// KubeAI's own: the Model itself is the scaled workload.
		Project: "KubeAI", GVK: apis.KubeAIModel,
		Source: "substratusai/kubeai api/k8s/v1/model_types.go and internal/modelautoscaler/autoscaler.go, v0.21.0",
		Target: Target{Self: true},
		Modes: []Mode{{
			Name: "autoscalingDisabled unset", Field: []string{"spec", "autoscalingDisabled"},
			When:    []Condition{{Path: []string{"spec", "autoscalingDisabled"}, In: []string{"true"}, Not: true}},
			Scaling: WritesReplicas,
			Fix:     "set spec.autoscalingDisabled: true on Model {name}",
		}},
	},
	{
		// KAITO: website/docs/keda-autoscaler-inference.md (kaito v0.12.0:
		// the annotation scaledobject.kaito.sh/auto-provision: "true" has
		// the KEDA KAITO scaler provision a ScaledObject for the
		// InferenceSet) and kaito-project/keda-kaito-scaler
		// pkg/scaledobject/provisioner.go (buildScaledObject: named after
		// the InferenceSet, scaleTargetRef the InferenceSet, controller
		// owner reference to it) and pkg/controllers/autoprovision (it
		// deletes its ScaledObject when the annotation is not "true"),
		// v0.6.2. KAITO's own controller does not scale an InferenceSet.
		Project: "KAITO", GVK: apis.InferenceSet,
		Source: "kaito-project/keda-kaito-scaler pkg/scaledobject/provisioner.go and pkg/controllers/autoprovision/auto_provision_controller.go, v0.6.2; kaito-project/kaito website/docs/keda-autoscaler-inference.md, v0.12.0",
		Target: Target{Self: true},
		Modes: []Mode{{
			Name: "scaledobject.kaito.sh/auto-provision: \"true\"", Field: kaitoAutoProvision,
			When:    []Condition{{Path: kaitoAutoProvision, In: []string{"true"}}},
			Scaling: CreatesScaledObject, Generated: "{name}",
			Fix: "remove the annotation scaledobject.kaito.sh/auto-provision from InferenceSet {name} (the KEDA KAITO scaler then deletes its ScaledObject)",
		}},
	},
}

var (
	knativeClass       = []string{"spec", "template", "metadata", "annotations", "autoscaling.knative.dev/class"}
	kaitoAutoProvision = []string{"metadata", "annotations", "scaledobject.kaito.sh/auto-provision"}
)
