package conflict_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

const (
	llmDeployment = `{apiVersion: apps/v1, kind: Deployment, name: llm}`
	scalesLLM     = `the workload "llm" (apps/v1 Deployment)`
)

// TestConflictAutoscalerFromTheScaledObjectOrHPA judges a ScaledObject or
// an HPA arriving after a cataloged autoscaler, for every kind of the
// catalogue in the modes that scale and in those that do not.
func TestConflictAutoscalerFromTheScaledObjectOrHPA(t *testing.T) {
	cases := map[string]struct {
		docs string
		want []want
	}{
		"AIBrix HPA strategy, then a ScaledObject": {
			docs: deployment("llm") + podAutoscaler("llm-pa", "llm", "HPA") + scaledObject("llm", `{name: llm}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", scalesLLM,
				`is already scaled by AIBrix PodAutoscaler "llm-pa" (scalingStrategy HPA: AIBrix creates the HPA "llm-pa-hpa")`,
				`delete PodAutoscaler "llm-pa"`, "so this ScaledObject alone scales it")},
		},
		"AIBrix KPA strategy, then an HPA": {
			docs: podAutoscaler("llm-pa", "llm", "KPA") + hpa("llm", llmDeployment),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`(scalingStrategy KPA: AIBrix writes the replicas itself)`, "so this HorizontalPodAutoscaler alone scales it")},
		},
		"AIBrix APA strategy, then a ScaledObject": {
			docs: podAutoscaler("llm-pa", "llm", "APA") + scaledObject("llm", `{name: llm}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `(scalingStrategy APA: AIBrix writes the replicas itself)`)},
		},
		"AIBrix on another Deployment": {
			docs: podAutoscaler("other-pa", "other", "HPA") + scaledObject("llm", `{name: llm}`),
		},
		"AIBrix with a strategy it does not know scales nothing": {
			docs: podAutoscaler("llm-pa", "llm", "VPA") + scaledObject("llm", `{name: llm}`),
		},
		"NIMService with spec.scale.enabled, then a ScaledObject on its Deployment": {
			docs: nimService("llama", nimScale) + scaledObject("llama", `{name: llama}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`the workload "llama" (apps/v1 Deployment) is already scaled by NVIDIA NIM operator NIMService "llama" (spec.scale.enabled: true: NVIDIA NIM operator creates the HPA "llama")`,
				`set spec.scale.enabled: false on NIMService "llama"`)},
		},
		"NIMService holding spec.replicas, then an HPA": {
			docs: nimService("llama", "  replicas: 1\n") + hpa("llama", `{apiVersion: apps/v1, kind: Deployment, name: llama}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`(spec.replicas without spec.scale.enabled: NVIDIA NIM operator writes the replicas itself)`, `remove spec.replicas from NIMService "llama"`)},
		},
		"NIMService with neither scale nor replicas": {
			docs: nimService("llama", "") + scaledObject("llama", `{name: llama}`),
		},
		"NIMService scale disabled explicitly": {
			docs: nimService("llama", "  scale: {enabled: false}\n") + scaledObject("llama", `{name: llama}`),
		},
		"NIMService on the kserve platform (conflict-kserve judges its InferenceService)": {
			docs: nimService("llama", "  inferencePlatform: kserve\n"+nimScale) + scaledObject("llama", `{name: llama}`),
		},
		"Knative Service (KPA by default), then a ScaledObject on a revision Deployment": {
			docs: knativeService("chat", "      annotations: {autoscaling.knative.dev/target: \"10\"}\n") + scaledObject("chat", `{name: chat-00001-deployment}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`the workload "chat-00001-deployment" (apps/v1 Deployment) is already scaled by Knative Serving Service "chat" (the Knative Pod Autoscaler (kpa.autoscaling.knative.dev): Knative Serving writes the replicas itself)`)},
		},
		"Knative Service with a named revision": {
			docs: knativeService("chat", "      name: chat-v2\n") + scaledObject("chat", `{name: chat-v2-deployment}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `Knative Serving Service "chat"`)},
		},
		"Knative Service, HPA class, then an HPA": {
			docs: knativeService("chat", "      annotations: {autoscaling.knative.dev/class: hpa.autoscaling.knative.dev, autoscaling.knative.dev/metric: cpu}\n") +
				hpa("chat", `{apiVersion: apps/v1, kind: Deployment, name: chat-00003-deployment}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `Knative Serving creates an HPA for each revision`)},
		},
		"Knative Service with another autoscaler class": {
			docs: knativeService("chat", "      annotations: {autoscaling.knative.dev/class: keda.autoscaling.knative.dev}\n") + scaledObject("chat", `{name: chat-00001-deployment}`),
		},
		"Knative Service: a Deployment that is not one of its revisions": {
			docs: knativeService("chat", "") + scaledObject("chat", `{name: chat-router}`),
		},
		"Knative Service an InferenceService generated is left to conflict-kserve": {
			docs: strings.Replace(knativeService("qwen-predictor", ""), "namespace: serving}", "namespace: serving, "+ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)+"}", 1) +
				scaledObject("q", `{name: qwen-predictor-00001-deployment}`),
		},
		"KubeAI Model, then a ScaledObject on it": {
			docs: kubeAIModel("qwen", "") + scaledObject("qwen", `{apiVersion: kubeai.org/v1, kind: Model, name: qwen}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`the workload "qwen" (kubeai.org/v1 Model) is scaled by KubeAI's own autoscaler (autoscalingDisabled unset: KubeAI writes the replicas itself)`,
				`set spec.autoscalingDisabled: true on Model "qwen"`)},
		},
		"KubeAI Model with autoscalingDisabled": {
			docs: kubeAIModel("qwen", "  autoscalingDisabled: true\n") + scaledObject("qwen", `{apiVersion: kubeai.org/v1, kind: Model, name: qwen}`),
		},
		"KAITO InferenceSet auto-provisioned, then a ScaledObject on it": {
			docs: inferenceSet("kaito.sh/v1beta1", "phi-4-mini", kaitoAutoProvision) +
				scaledObject("business-hours", `{apiVersion: kaito.sh/v1alpha1, kind: InferenceSet, name: phi-4-mini}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`is scaled by KAITO's own autoscaler (scaledobject.kaito.sh/auto-provision: "true": KAITO creates the ScaledObject "phi-4-mini")`,
				`remove the annotation scaledobject.kaito.sh/auto-provision from InferenceSet "phi-4-mini"`)},
		},
		"KAITO InferenceSet without auto-provisioning (the docs' cron example)": {
			docs: inferenceSet("kaito.sh/v1alpha1", "phi-4-mini", "") +
				scaledObject("business-hours", `{apiVersion: kaito.sh/v1alpha1, kind: InferenceSet, name: phi-4-mini}`),
		},
		"two cataloged autoscalers on one Deployment: one finding names both": {
			docs: nimService("llm", nimScale) + podAutoscaler("llm-pa", "llm", "KPA") + scaledObject("llm", `{name: llm}`),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`is already scaled by 2 cataloged autoscalers (AIBrix PodAutoscaler "llm-pa", NVIDIA NIM operator NIMService "llm")`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.AutoscalerID), tc.want...)
		})
	}
}
