package conflict_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// TestConflictAutoscalerFromTheAutoscaler judges a cataloged autoscaler
// arriving after a ScaledObject or an HPA.
func TestConflictAutoscalerFromTheAutoscaler(t *testing.T) {
	cases := map[string]struct {
		docs string
		want []want
	}{
		"AIBrix PodAutoscaler on a Deployment a ScaledObject scales": {
			docs: scaledObject("llm", `{name: llm}`) + podAutoscaler("llm-pa", "llm", "HPA"),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`with scalingStrategy HPA, AIBrix creates the HPA "llm-pa-hpa" on the workload "llm" (apps/v1 Deployment), and ScaledObject "llm" already scales`,
				`delete ScaledObject "llm" first, or delete PodAutoscaler "llm-pa"`)},
		},
		"AIBrix PodAutoscaler on a Deployment an HPA scales": {
			docs: hpa("llm", llmDeployment) + podAutoscaler("llm-pa", "llm", "APA"),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`AIBrix writes the replicas of the workload "llm" (apps/v1 Deployment), and HorizontalPodAutoscaler "llm" already scales`)},
		},
		"AIBrix PodAutoscaler and its own HPA": {
			docs: hpa("llm-pa-hpa", llmDeployment, ownedBy("autoscaling.aibrix.ai/v1alpha1", "PodAutoscaler", "llm-pa", true)) +
				podAutoscaler("llm-pa", "llm", "HPA"),
		},
		"AIBrix PodAutoscaler, a ScaledObject and an HPA on its Deployment: one finding names both": {
			docs: scaledObject("llm", `{name: llm}`) + hpa("llm", llmDeployment) + podAutoscaler("llm-pa", "llm", "KPA"),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`and ScaledObject "llm", HorizontalPodAutoscaler "llm" already scale`)},
		},
		"NIMService with spec.scale.enabled on a Deployment a ScaledObject scales": {
			docs: scaledObject("llama", `{name: llama}`) + nimService("llama", nimScale),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scale.enabled",
				`with spec.scale.enabled: true, NVIDIA NIM operator creates the HPA "llama" on the workload "llama" (apps/v1 Deployment)`,
				`set spec.scale.enabled: false on NIMService "llama" and leave spec.replicas unset`)},
		},
		"NIMService without scaling leaves a ScaledObject alone": {
			docs: scaledObject("llama", `{name: llama}`) + nimService("llama", ""),
		},
		"Knative Service whose revision Deployments a ScaledObject scales": {
			docs: scaledObject("chat", `{name: chat-00002-deployment}`) + knativeService("chat", ""),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.template.metadata.annotations[autoscaling.knative.dev/class]",
				`Knative Serving writes the replicas of the workload "chat-00002-deployment" (apps/v1 Deployment), and ScaledObject "chat" already scales`)},
		},
		"KubeAI Model a ScaledObject scales": {
			docs: scaledObject("qwen", `{apiVersion: kubeai.org/v1, kind: Model, name: qwen}`) + kubeAIModel("qwen", ""),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.autoscalingDisabled",
				`with autoscalingDisabled unset, KubeAI writes the replicas of this Model, and ScaledObject "qwen" already scales this Model`,
				`set spec.autoscalingDisabled: true on Model "qwen"`)},
		},
		"KubeAI Model with autoscaling disabled": {
			docs: scaledObject("qwen", `{apiVersion: kubeai.org/v1, kind: Model, name: qwen}`) + kubeAIModel("qwen", "  autoscalingDisabled: true\n"),
		},
		"KAITO InferenceSet auto-provisioned while a ScaledObject scales it": {
			docs: scaledObject("business-hours", `{apiVersion: kaito.sh/v1alpha1, kind: InferenceSet, name: phi-4-mini}`) +
				inferenceSet("kaito.sh/v1beta1", "phi-4-mini", kaitoAutoProvision),
			want: []want{policytest.Deny(conflict.AutoscalerID, "metadata.annotations[scaledobject.kaito.sh/auto-provision]",
				`KAITO creates the ScaledObject "phi-4-mini" on this InferenceSet, and ScaledObject "business-hours" already scales`)},
		},
		"KAITO InferenceSet and the ScaledObject it generated": {
			docs: scaledObject("phi-4-mini", `{apiVersion: kaito.sh/v1beta1, kind: InferenceSet, name: phi-4-mini}`,
				ownedBy("kaito.sh/v1beta1", "InferenceSet", "phi-4-mini", true)) +
				inferenceSet("kaito.sh/v1beta1", "phi-4-mini", kaitoAutoProvision),
		},
		"two cataloged autoscalers on one Deployment": {
			docs: nimService("llm", nimScale) + podAutoscaler("llm-pa", "llm", "KPA"),
			want: []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef",
				`and NVIDIA NIM operator NIMService "llm" already scales the workload "llm"`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.AutoscalerID), tc.want...)
		})
	}
}

// TestConflictAutoscalerGeneratedObjectsAreJudgedAtTheirOwner judges, as
// serve does, a ScaledObject or HPA on a workload whose cataloged
// autoscaler already made its HPA or ScaledObject: one finding, under
// conflict-autoscaler, and none under conflict-hpa or
// conflict-scaledobject for the generated object.
func TestConflictAutoscalerGeneratedObjectsAreJudgedAtTheirOwner(t *testing.T) {
	aibrixHPA := hpa("llm-pa-hpa", llmDeployment, ownedBy("autoscaling.aibrix.ai/v1alpha1", "PodAutoscaler", "llm-pa", true))
	nimHPA := hpa("llama", `{apiVersion: apps/v1, kind: Deployment, name: llama}`, ownedBy("apps.nvidia.com/v1alpha1", "NIMService", "llama", true))
	knativeHPA := hpa("chat-00001", `{apiVersion: apps/v1, kind: Deployment, name: chat-00001-deployment}`,
		ownedBy("autoscaling.internal.knative.dev/v1alpha1", "PodAutoscaler", "chat-00001", true))
	kaitoSO := scaledObject("phi-4-mini", `{apiVersion: kaito.sh/v1beta1, kind: InferenceSet, name: phi-4-mini}`,
		ownedBy("kaito.sh/v1beta1", "InferenceSet", "phi-4-mini", true))
	cases := map[string]struct {
		stored, obj string
		want        []want
	}{
		"a ScaledObject beside AIBrix's HPA": {
			stored: deployment("llm") + podAutoscaler("llm-pa", "llm", "HPA") + aibrixHPA,
			obj:    scaledObject("llm", `{name: llm}`),
			want:   []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `AIBrix PodAutoscaler "llm-pa"`)},
		},
		"an HPA beside AIBrix's HPA": {
			stored: podAutoscaler("llm-pa", "llm", "HPA") + aibrixHPA,
			obj:    hpa("llm", llmDeployment),
			want:   []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `AIBrix PodAutoscaler "llm-pa"`)},
		},
		"a ScaledObject beside the NIM operator's HPA": {
			stored: nimService("llama", nimScale) + nimHPA,
			obj:    scaledObject("llama", `{name: llama}`),
			want:   []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `NIMService "llama"`)},
		},
		"a ScaledObject beside Knative's HPA of a revision": {
			stored: knativeService("chat", "      annotations: {autoscaling.knative.dev/class: hpa.autoscaling.knative.dev}\n") + knativeHPA,
			obj:    scaledObject("chat", `{name: chat-00001-deployment}`),
			want:   []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `Knative Serving Service "chat"`)},
		},
		"a ScaledObject beside KAITO's ScaledObject": {
			stored: inferenceSet("kaito.sh/v1beta1", "phi-4-mini", kaitoAutoProvision) + kaitoSO,
			obj:    scaledObject("business-hours", `{apiVersion: kaito.sh/v1alpha1, kind: InferenceSet, name: phi-4-mini}`),
			want:   []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `InferenceSet`)},
		},
		"an HPA beside KAITO's ScaledObject": {
			stored: inferenceSet("kaito.sh/v1beta1", "phi-4-mini", kaitoAutoProvision) + kaitoSO,
			obj:    hpa("phi", `{apiVersion: kaito.sh/v1beta1, kind: InferenceSet, name: phi-4-mini}`),
			want:   []want{policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `KAITO's own autoscaler`)},
		},
		"AIBrix's HPA left behind after its PodAutoscaler moved to KPA: both are named": {
			stored: podAutoscaler("llm-pa", "llm", "KPA") + aibrixHPA,
			obj:    scaledObject("llm", `{name: llm}`),
			want: []want{
				policytest.Deny(conflict.AutoscalerID, "spec.scaleTargetRef", `(scalingStrategy KPA: AIBrix writes the replicas itself)`),
				policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `HorizontalPodAutoscaler "llm-pa-hpa", which this ScaledObject does not own`),
			},
		},
		"the generated HPA itself, arriving after a ScaledObject: warned, judged at its owner": {
			stored: podAutoscaler("llm-pa", "llm", "HPA") + scaledObject("llm", `{name: llm}`),
			obj:    aibrixHPA,
			want:   []want{policytest.Warn(conflict.HPAID, "spec.scaleTargetRef", `ScaledObject "llm"`, `(generated by PodAutoscaler "llm-pa": judged there)`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := stored(t, tc.stored, strings.TrimPrefix(tc.obj, "\n"), "")
			var conflicts []policies.Finding
			for _, f := range got {
				if strings.HasPrefix(f.Rule, "conflict-") && f.Rule != conflict.GitOpsID {
					conflicts = append(conflicts, f)
				}
			}
			policytest.Expect(t, conflicts, tc.want...)
		})
	}
}

// TestConflictAutoscalerOnUpdate follows the other conflict rules: a
// conflict the stored object already had is admitted with a warning; an
// update that brings one (a mode that scales) is denied.
func TestConflictAutoscalerOnUpdate(t *testing.T) {
	so := scaledObject("qwen", `{apiVersion: kubeai.org/v1, kind: Model, name: qwen}`)
	t.Run("an edit to a Model already in conflict", func(t *testing.T) {
		got := stored(t, so, kubeAIModel("qwen", "  targetRequests: 100\n"), kubeAIModel("qwen", ""))
		policytest.Expect(t, policytest.OnlyRule(got, conflict.AutoscalerID),
			policytest.Warn(conflict.AutoscalerID, "spec.autoscalingDisabled", `ScaledObject "qwen" already scales`, "already so before this update"))
	})
	t.Run("an update that turns KubeAI's autoscaler on", func(t *testing.T) {
		got := stored(t, so, kubeAIModel("qwen", ""), kubeAIModel("qwen", "  autoscalingDisabled: true\n"))
		policytest.Expect(t, policytest.OnlyRule(got, conflict.AutoscalerID),
			policytest.Deny(conflict.AutoscalerID, "spec.autoscalingDisabled", `ScaledObject "qwen" already scales`))
	})
	t.Run("an update of an AIBrix PodAutoscaler from KPA to HPA on the same target", func(t *testing.T) {
		got := stored(t, hpa("llm", llmDeployment), podAutoscaler("llm-pa", "llm", "HPA"), podAutoscaler("llm-pa", "llm", "KPA"))
		policytest.Expect(t, policytest.OnlyRule(got, conflict.AutoscalerID),
			policytest.Warn(conflict.AutoscalerID, "spec.scaleTargetRef", `HorizontalPodAutoscaler "llm" already scales`, "already so before this update"))
	})
}
