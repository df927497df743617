package conflict_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

func TestConflictScaledObject(t *testing.T) {
	const onLLM = `the workload "llm" (apps/v1 Deployment) is already scaled by ScaledObject "queue"`
	cases := map[string]struct {
		docs string
		want []want
	}{
		"KEDA's defaults on one side, written out on the other": {
			docs: deployment("llm") + scaledObject("queue", `{name: llm}`) + scaledObject("kv-cache", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef", onLLM,
				`merge the triggers into "queue" (KEDA scales on the highest of them), or delete it first`)},
		},
		"only the kind written out": {
			docs: scaledObject("queue", `{apiVersion: apps/v1, name: llm}`) + scaledObject("kv-cache", `{kind: Deployment, name: llm}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef", onLLM)},
		},
		"the version does not matter": {
			docs: scaledObject("queue", `{apiVersion: apps/v1beta2, kind: Deployment, name: llm}`) + scaledObject("kv-cache", `{name: llm}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef", onLLM)},
		},
		"the same name is the same object": {
			docs: scaledObject("queue", `{name: llm}`) + scaledObject("queue", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
		},
		"another Deployment": {
			docs: scaledObject("queue", `{name: other}`) + scaledObject("kv-cache", `{name: llm}`),
		},
		"a StatefulSet of the same name": {
			docs: scaledObject("queue", `{apiVersion: apps/v1, kind: StatefulSet, name: llm}`) + scaledObject("kv-cache", `{name: llm}`),
		},
		"another namespace": {
			docs: scaledObjectIn("staging", "queue", `{name: llm}`, "") + scaledObject("kv-cache", `{name: llm}`),
		},
		"a ModelServing": {
			docs: modelServing("serving", "llm") +
				scaledObject("queue", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`) +
				scaledObject("router", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef",
				`the workload "llm" (workload.serving.volcano.sh/v1alpha1 ModelServing) is already scaled by ScaledObject "queue"`)},
		},
		"two HPA names collide (custom name taken)": {
			docs: scaledObject("b", `{name: other}`) +
				scaledObjectIn("serving", "a", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: keda-hpa-b}}"),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.advanced.horizontalPodAutoscalerConfig.name",
				`gives this ScaledObject the HPA name "keda-hpa-b", which is already the HPA of ScaledObject "b"`, "choose another spec.advanced.horizontalPodAutoscalerConfig.name")},
		},
		"two HPA names collide (default name taken)": {
			docs: scaledObjectIn("serving", "a", `{name: other}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: keda-hpa-b}}") +
				scaledObject("b", `{name: llm}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "metadata.name",
				`the HPA name "keda-hpa-b", which is already the HPA of ScaledObject "a"`, `KEDA's default "keda-hpa-b" is taken`)},
		},
		"KServe's live ScaledObject is conflict-kserve's": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: keda`) +
				scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen-queue", `{name: qwen-predictor}`),
		},
		"KServe's ScaledObject left behind after the class changed": {
			docs: isvc(raw+`, serving.kserve.io/autoscalerClass: external`) +
				scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen-queue", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef",
				`is already scaled by ScaledObject "qwen-predictor", which InferenceService "qwen" generated while its autoscalerClass was keda`,
				`delete ScaledObject "qwen-predictor"`)},
		},
		"KServe's ScaledObject of an InferenceService that states no mode": {
			docs: isvc(`serving.kserve.io/autoscalerClass: keda`) +
				scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen-queue", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef",
				`is already scaled by ScaledObject "qwen-predictor", which InferenceService "qwen" generates (serving.kserve.io/autoscalerClass: keda)`,
				`set serving.kserve.io/autoscalerClass: external on InferenceService "qwen", then delete ScaledObject "qwen-predictor"`)},
		},
		"KServe's ScaledObject without its InferenceService in view": {
			docs: scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen-queue", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef", `is already scaled by ScaledObject "qwen-predictor"; KEDA would run an HPA for each`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.ScaledObjectID), tc.want...)
		})
	}
}
