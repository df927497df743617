package conflict_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

const (
	onPredictor = `the workload "qwen-predictor" (apps/v1 Deployment) is the predictor of InferenceService "qwen", which KServe already scales with`
	fixExternal = `set serving.kserve.io/autoscalerClass: external on InferenceService "qwen" so this ScaledObject alone scales it`
	fixRawMode  = `run InferenceService "qwen" in raw mode (serving.kserve.io/deploymentMode: RawDeployment with serving.kserve.io/autoscalerClass: external; KServe does not change the mode of an existing InferenceService, so recreate it)`
)

func TestConflictKServeFromTheScaledObject(t *testing.T) {
	standard := policies.DefaultSettings()
	standard.Conflicts.KServeDefaultDeploymentMode = "Standard"
	cases := map[string]struct {
		docs     string
		settings *policies.Settings
		want     []want
	}{
		"raw mode, no autoscalerClass: KServe's HPA": {
			docs: isvc(raw) + scaledObject("qwen", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", onPredictor,
				`its own HorizontalPodAutoscaler "qwen-predictor" (serving.kserve.io/autoscalerClass is absent, which means hpa)`, fixExternal)},
		},
		"raw mode, class hpa": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: hpa`) + scaledObject("qwen", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", onPredictor, `(serving.kserve.io/autoscalerClass: hpa)`, fixExternal)},
		},
		"raw mode, class keda: KServe's ScaledObject": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: keda`) + scaledObject("qwen", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", onPredictor,
				`its own ScaledObject "qwen-predictor" (serving.kserve.io/autoscalerClass: keda)`, fixExternal)},
		},
		"raw mode, class none: KServe pins the replicas": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: none`) + scaledObject("qwen", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef",
				`the workload "qwen-predictor" (apps/v1 Deployment) is the predictor of InferenceService "qwen", which KServe already holds at minReplicas, writing spec.replicas back on every reconcile (serving.kserve.io/autoscalerClass: none)`, fixExternal)},
		},
		"raw mode, class external": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: external`) + scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"raw mode under its current name Standard": {
			docs: isvc(`serving.kserve.io/deploymentMode: Standard`) + scaledObject("qwen", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", onPredictor, "HorizontalPodAutoscaler")},
		},
		"a class KServe rejects runs no autoscaler": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: kpa`) + scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"Knative mode by annotation (Serverless)": {
			docs: isvc(`serving.kserve.io/deploymentMode: Serverless, serving.kserve.io/autoscalerClass: external`) +
				scaledObject("qwen", `{name: qwen-predictor-00003-deployment}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef",
				`the workload "qwen-predictor-00003-deployment" (apps/v1 Deployment) is a Knative revision of the predictor "qwen-predictor" of InferenceService "qwen"`,
				`which Knative's autoscaler already scales (Knative mode: serving.kserve.io/deploymentMode: Serverless)`, fixRawMode,
				`target its Deployment "qwen-predictor", which keeps its name across revisions`)},
		},
		"Knative mode: the predictor's own name is a Knative Service, no Deployment": {
			docs: isvc(`serving.kserve.io/deploymentMode: Knative`) + scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"Knative mode, a named predictor's revision": {
			docs: isvc(`serving.kserve.io/deploymentMode: Knative`, "\n    name: main") + scaledObject("qwen", `{name: qwen-main-predictor-00002-deployment}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", `is a Knative revision of the predictor "qwen-main-predictor"`)},
		},
		"Knative mode, a revision under the name KServe used before 0.16": {
			docs: isvc(`serving.kserve.io/deploymentMode: Knative`) + scaledObject("qwen", `{name: qwen-predictor-default-00001-deployment}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", `is a Knative revision of the predictor "qwen-predictor-default"`)},
		},
		"Knative mode, a Deployment that only looks like a revision": {
			docs: isvc(`serving.kserve.io/deploymentMode: Knative`) + scaledObject("qwen", `{name: qwen-predictor-1-deployment}`),
		},
		"no deploymentMode on a Standard cluster, class external": {
			docs:     isvc(`serving.kserve.io/autoscalerClass: external`) + scaledObject("qwen", `{name: qwen-predictor}`),
			settings: standard,
		},
		"status.deploymentMode decides over the default": {
			docs: isvcWith(`serving.kserve.io/autoscalerClass: external`, "", "status: {deploymentMode: RawDeployment}\n") +
				scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"ModelMesh: KServe does not reconcile the predictor": {
			docs: isvc(`serving.kserve.io/deploymentMode: ModelMesh`) + scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"a named predictor": {
			docs: isvc(raw, "\n    name: main") + scaledObject("qwen", `{name: qwen-main-predictor}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef",
				`the workload "qwen-main-predictor" (apps/v1 Deployment) is the predictor of InferenceService "qwen"`, `HorizontalPodAutoscaler "qwen-main-predictor"`)},
		},
		"a named predictor no longer answers to the default name": {
			docs: isvc(raw, "\n    name: main") + scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"the transformer": {
			docs: isvcWith(raw, "", "  transformer:\n    containers: [{name: kserve-container, image: transformer:1}]\n") +
				scaledObject("qwen", `{name: qwen-transformer}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", `"qwen-transformer" (apps/v1 Deployment) is the transformer of InferenceService "qwen"`)},
		},
		"no transformer, no conflict on its name": {
			docs: isvc(raw) + scaledObject("qwen", `{name: qwen-transformer}`),
		},
		"KServe's own ScaledObject": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: keda`) +
				scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)),
		},
		"an InferenceService in another namespace": {
			docs: isvc(raw) + scaledObjectIn("staging", "qwen", `{name: qwen-predictor}`, ""),
		},
		"a ScaledObject on a ModelServing": {
			docs: isvc(raw) + scaledObject("qwen", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: qwen-predictor}`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs, tc.settings).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.KServeID), tc.want...)
		})
	}
}

func TestConflictKServeFromTheInferenceService(t *testing.T) {
	const classField = "metadata.annotations[serving.kserve.io/autoscalerClass]"
	const already = `but ScaledObject "qwen-queue" already scales it`
	cases := map[string]struct {
		docs string
		want []want
	}{
		"created without autoscalerClass while a ScaledObject scales the predictor": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor}`) + isvc(raw),
			want: []want{policytest.Deny(conflict.KServeID, classField,
				`KServe would scale its predictor, the workload "qwen-predictor" (apps/v1 Deployment), with its own HorizontalPodAutoscaler "qwen-predictor"`,
				already, "set serving.kserve.io/autoscalerClass: external so the ScaledObject alone scales it")},
		},
		"class keda": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor}`) + isvc(raw+`, serving.kserve.io/autoscalerClass: keda`),
			want: []want{policytest.Deny(conflict.KServeID, classField, `its own ScaledObject "qwen-predictor"`, already)},
		},
		"class none": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor}`) + isvc(raw+`, serving.kserve.io/autoscalerClass: none`),
			want: []want{policytest.Deny(conflict.KServeID, classField,
				`KServe would hold its predictor, the workload "qwen-predictor" (apps/v1 Deployment), at minReplicas, writing spec.replicas back on every reconcile (serving.kserve.io/autoscalerClass: none)`, already)},
		},
		"class external": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor}`) + isvc(raw+`, serving.kserve.io/autoscalerClass: external`),
		},
		"Knative mode, a ScaledObject on a revision": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor-00002-deployment}`) + isvc(`serving.kserve.io/deploymentMode: Knative`),
			want: []want{policytest.Deny(conflict.KServeID, "metadata.annotations[serving.kserve.io/deploymentMode]",
				`in Knative mode (serving.kserve.io/deploymentMode: Knative), Knative's autoscaler scales the revisions of its predictor "qwen-predictor", among them the workload "qwen-predictor-00002-deployment" (apps/v1 Deployment)`,
				already, `deploy it in raw mode (serving.kserve.io/deploymentMode: RawDeployment with serving.kserve.io/autoscalerClass: external`, `point the ScaledObject at "qwen-predictor"`)},
		},
		"a ScaledObject on another Deployment": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor-old}`) + isvc(raw),
		},
		"KServe's own ScaledObject": {
			docs: scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				isvc(raw+`, serving.kserve.io/autoscalerClass: keda`),
		},
		"another InferenceService's ScaledObject is a ScaledObject like any other": {
			docs: scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "old", true)) +
				isvc(raw+`, serving.kserve.io/autoscalerClass: keda`),
			want: []want{policytest.Deny(conflict.KServeID, classField, `but ScaledObject "qwen-predictor" already scales it`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.KServeID), tc.want...)
		})
	}
}
