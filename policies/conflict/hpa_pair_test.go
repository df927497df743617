package conflict_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// TestConflictHPAWithAnotherHPA: two HPAs on one workload make Kubernetes
// mark both AmbiguousSelector; the second is denied, whichever it is.
func TestConflictHPAWithAnotherHPA(t *testing.T) {
	const onLLM = `{apiVersion: apps/v1, kind: Deployment, name: llm}`
	cases := map[string]struct {
		docs string
		want []want
	}{
		"a second HPA on the Deployment": {
			docs: deployment("llm") + hpa("llm-cpu", onLLM) + hpa("llm-memory", onLLM),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef",
				`the workload "llm" (apps/v1 Deployment) is already scaled by HorizontalPodAutoscaler "llm-cpu"`,
				"Kubernetes marks both AmbiguousSelector and scales neither", `put this HPA's metrics into "llm-cpu"`)},
		},
		"the other order": {
			docs: hpa("llm-memory", onLLM) + hpa("llm-cpu", onLLM),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by HorizontalPodAutoscaler "llm-memory"`)},
		},
		"a second HPA on a ModelServing": {
			docs: hpa("a", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`) +
				hpa("b", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `(workload.serving.volcano.sh/v1alpha1 ModelServing) is already scaled by HorizontalPodAutoscaler "a"`)},
		},
		"the same HPA applied again": {docs: hpa("llm-cpu", onLLM) + hpa("llm-cpu", onLLM)},
		"HPAs on two workloads":      {docs: hpa("a", onLLM) + hpa("b", `{apiVersion: apps/v1, kind: Deployment, name: other}`)},
		"HPAs on a Deployment and a StatefulSet of one name": {
			docs: hpa("a", onLLM) + hpa("b", `{apiVersion: apps/v1, kind: StatefulSet, name: llm}`),
		},
		"KEDA's HPA is judged through its ScaledObject": {
			docs: hpa("keda-hpa-llm", onLLM, ownedBy("keda.sh/v1alpha1", "ScaledObject", "llm", true)) + hpa("llm-cpu", onLLM),
		},
		"KEDA's HPA arriving after a user HPA": {
			docs: hpa("llm-cpu", onLLM) + hpa("keda-hpa-llm", onLLM, ownedBy("keda.sh/v1alpha1", "ScaledObject", "llm", true)),
		},
		"KServe's HPA is judged at its InferenceService": {
			docs: hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)) +
				hpa("qwen-cpu", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`),
		},
		"KServe's own HPA arriving after a user HPA": {
			docs: hpa("qwen-cpu", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`) +
				hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true)),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.HPAID), tc.want...)
		})
	}
}

// An HPA already next to another is admitted with a warning when edited,
// and denied when an edit points it at a workload another HPA scales.
func TestConflictHPAWithAnotherHPAOnUpdate(t *testing.T) {
	const onLLM = `{apiVersion: apps/v1, kind: Deployment, name: llm}`
	edited := stored(t, hpa("llm-cpu", onLLM), strings.Replace(hpa("llm-memory", onLLM), "maxReplicas: 4", "maxReplicas: 6", 1), hpa("llm-memory", onLLM))
	policytest.Expect(t, policytest.OnlyRule(edited, conflict.HPAID),
		policytest.Warn(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by HorizontalPodAutoscaler "llm-cpu"`, "(already so before this update"))
	retargeted := stored(t, hpa("llm-cpu", onLLM), hpa("llm-memory", onLLM), hpa("llm-memory", `{apiVersion: apps/v1, kind: Deployment, name: other}`))
	policytest.Expect(t, policytest.OnlyRule(retargeted, conflict.HPAID),
		policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by HorizontalPodAutoscaler "llm-cpu"`))
}
