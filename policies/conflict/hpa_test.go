package conflict_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

type want = policytest.Want

func TestConflictHPAFromTheScaledObject(t *testing.T) {
	const userHPA = `the workload "llm" (apps/v1 Deployment) is already scaled by HorizontalPodAutoscaler "llm", which this ScaledObject does not own`
	cases := map[string]struct {
		docs string
		want []want
	}{
		"an HPA already scales the Deployment (kind left to KEDA's default)": {
			docs: deployment("llm") + hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`) + scaledObject("llm", `{name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", userHPA,
				`delete that HPA, or let KEDA take it over with the annotation scaledobject.keda.sh/transfer-hpa-ownership: "true" and spec.advanced.horizontalPodAutoscalerConfig.name: llm`)},
		},
		"an HPA already scales the Deployment (kind written out)": {
			docs: hpa("cpu", `{apiVersion: apps/v1, kind: Deployment, name: llm}`) + scaledObject("queue", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by HorizontalPodAutoscaler "cpu"`)},
		},
		"an HPA on a ModelServing": {
			docs: modelServing("serving", "llm") + hpa("llm", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`) +
				scaledObject("llm", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef",
				`the workload "llm" (workload.serving.volcano.sh/v1alpha1 ModelServing) is already scaled by HorizontalPodAutoscaler "llm"`)},
		},
		"an HPA on another Deployment": {
			docs: hpa("other", `{apiVersion: apps/v1, kind: Deployment, name: other}`) + scaledObject("llm", `{name: llm}`),
		},
		"an HPA on a StatefulSet of the same name": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: StatefulSet, name: llm}`) + scaledObject("llm", `{name: llm}`),
		},
		"an HPA in another namespace": {
			docs: `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: llm, namespace: staging}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  maxReplicas: 3
---
` + scaledObject("llm", `{name: llm}`),
		},
		"KEDA's own HPA, by owner reference": {
			docs: hpa("keda-hpa-llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, ownedBy("keda.sh/v1alpha1", "ScaledObject", "llm", true)) +
				scaledObject("llm", `{name: llm}`),
		},
		"KEDA's own HPA, by its default name and label": {
			docs: hpa("keda-hpa-llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `labels: {scaledobject.keda.sh/name: llm}`) +
				scaledObject("llm", `{name: llm}`),
		},
		"KEDA's own HPA, by its custom name and label": {
			docs: hpa("llm-hpa", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `labels: {scaledobject.keda.sh/name: llm}`) +
				scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: llm-hpa}}"),
		},
		"the KEDA label on an HPA of another name is not ownership": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `labels: {scaledobject.keda.sh/name: llm}`) + scaledObject("llm", `{name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", userHPA)},
		},
		"another ScaledObject's HPA is conflict-scaledobject's": {
			docs: hpa("keda-hpa-old", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, ownedBy("keda.sh/v1alpha1", "ScaledObject", "old", true)) +
				scaledObject("llm", `{name: llm}`),
		},
		"escape hatch: validations.keda.sh/hpa-ownership false on the HPA": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `annotations: {validations.keda.sh/hpa-ownership: "false"}`) +
				scaledObject("llm", `{name: llm}`),
		},
		"hpa-ownership with another value is no escape": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `annotations: {validations.keda.sh/hpa-ownership: "no"}`) +
				scaledObject("llm", `{name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", userHPA)},
		},
		"escape hatch: transfer-hpa-ownership with the HPA named": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`) +
				scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: llm}}",
					`annotations: {scaledobject.keda.sh/transfer-hpa-ownership: "true"}`),
		},
		"transfer-hpa-ownership without a name": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`) +
				scaledObject("llm", `{name: llm}`, `annotations: {scaledobject.keda.sh/transfer-hpa-ownership: "true"}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.advanced.horizontalPodAutoscalerConfig.name",
				`is empty, but the annotation scaledobject.keda.sh/transfer-hpa-ownership: "true" only takes over the HPA named here`,
				`is scaled by HorizontalPodAutoscaler "llm"; set spec.advanced.horizontalPodAutoscalerConfig.name: llm`)},
		},
		"transfer-hpa-ownership naming another HPA": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`) +
				scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: llm-keda}}",
					`annotations: {scaledobject.keda.sh/transfer-hpa-ownership: "true"}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.advanced.horizontalPodAutoscalerConfig.name", `is "llm-keda", but`)},
		},
		"the HPA's name without the transfer annotation": {
			docs: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`) +
				scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: llm}}"),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", userHPA)},
		},
		"KServe's HPA is conflict-kserve's": {
			docs: isvc(raw) + hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`,
				ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"KServe's HPA of an InferenceService that states no mode: the HPA shows raw mode": {
			docs: isvc(``) + hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`,
				ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef",
				`the workload "qwen-predictor" (apps/v1 Deployment) is already scaled by HorizontalPodAutoscaler "qwen-predictor", which InferenceService "qwen" generates`,
				`set serving.kserve.io/autoscalerClass: external on InferenceService "qwen" (KServe then deletes that HPA) so this ScaledObject alone scales it`)},
		},
		"KServe's HPA of an InferenceService that states no mode, class external: KServe deletes it": {
			docs: isvc(`serving.kserve.io/autoscalerClass: external`) + hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`,
				ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"an HPA whose InferenceService is gone is an HPA like any other": {
			docs: hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`,
				ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				scaledObject("qwen", `{name: qwen-predictor}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by HorizontalPodAutoscaler "qwen-predictor"`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.HPAID), tc.want...)
		})
	}
}

func TestConflictHPAFromTheHPA(t *testing.T) {
	cases := map[string]struct {
		docs string
		want []want
	}{
		"a ScaledObject already scales the Deployment": {
			docs: deployment("llm") + scaledObject("llm", `{name: llm}`) + hpa("llm-cpu", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef",
				`the workload "llm" (apps/v1 Deployment) is already scaled by ScaledObject "llm" (through KEDA's HPA "keda-hpa-llm")`,
				"put this HPA's metrics into the ScaledObject's triggers")},
		},
		"a ScaledObject already scales the ModelServing": {
			docs: scaledObject("llm", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`) +
				hpa("llm", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `(workload.serving.volcano.sh/v1alpha1 ModelServing) is already scaled by ScaledObject "llm"`)},
		},
		"KEDA creating its own HPA": {
			docs: scaledObject("llm", `{name: llm}`) +
				hpa("keda-hpa-llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, ownedBy("keda.sh/v1alpha1", "ScaledObject", "llm", true),
					`labels: {scaledobject.keda.sh/name: llm}`),
		},
		"KEDA's HPA of a ScaledObject not in view yet": {
			docs: hpa("keda-hpa-llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `labels: {scaledobject.keda.sh/name: llm}`),
		},
		"an HPA on another workload": {
			docs: scaledObject("llm", `{name: llm}`) + hpa("other", `{apiVersion: apps/v1, kind: Deployment, name: other}`),
		},
		"escape hatch: hpa-ownership false": {
			docs: scaledObject("llm", `{name: llm}`) +
				hpa("llm-cpu", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `annotations: {validations.keda.sh/hpa-ownership: "false"}`),
		},
		"escape hatch: the ScaledObject takes this HPA over": {
			docs: scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: llm-cpu}}",
				`annotations: {scaledobject.keda.sh/transfer-hpa-ownership: "true"}`) +
				hpa("llm-cpu", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
		},
		"the ScaledObject would take over another HPA": {
			docs: scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: elsewhere}}",
				`annotations: {scaledobject.keda.sh/transfer-hpa-ownership: "true"}`) +
				hpa("llm-cpu", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by ScaledObject "llm" (through KEDA's HPA "elsewhere")`)},
		},
		"KServe's HPA next to a user ScaledObject is judged at its InferenceService": {
			docs: scaledObject("qwen", `{name: qwen-predictor}`) +
				hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)),
			want: []want{policytest.Warn(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by ScaledObject "qwen"`, `(generated by InferenceService "qwen": judged there)`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.HPAID), tc.want...)
		})
	}
}

// In serve, a ScaledObject being created is not in the cache yet: its own
// HPA (KEDA's custom name, with the label) is recognised from the
// ScaledObject itself.
func TestConflictHPAOwnHPABeforeTheScaledObjectIsStored(t *testing.T) {
	got := stored(t,
		hpa("llm-hpa", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, `labels: {scaledobject.keda.sh/name: llm}`),
		scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: llm-hpa}}"), "")
	policytest.Expect(t, policytest.OnlyRule(got, conflict.HPAID))
}
