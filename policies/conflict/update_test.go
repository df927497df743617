package conflict_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// On UPDATE the view holds the stored (old) object, as the cache does.
func TestConflictsOnUpdate(t *testing.T) {
	const edited = "(already so before this update; admitted so it can be fixed by editing)"
	cases := map[string]struct {
		rule             string
		stored, obj, old string
		want             []want
	}{
		"ScaledObject already in conflict with an HPA, threshold edited": {
			rule:   conflict.HPAID,
			stored: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			old:    scaledObject("llm", `{name: llm}`),
			obj:    strings.Replace(scaledObject("llm", `{name: llm}`), `threshold: "5"`, `threshold: "8"`, 1),
			want:   []want{policytest.Warn(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by HorizontalPodAutoscaler "llm"`, edited)},
		},
		"ScaledObject retargeted onto a Deployment an HPA scales": {
			rule:   conflict.HPAID,
			stored: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			old:    scaledObject("llm", `{name: llm-old}`),
			obj:    scaledObject("llm", `{name: llm}`),
			want:   []want{policytest.Deny(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by HorizontalPodAutoscaler "llm"`)},
		},
		"ScaledObject fixed by the transfer annotation": {
			rule:   conflict.HPAID,
			stored: hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			old:    scaledObject("llm", `{name: llm}`),
			obj: scaledObjectIn("serving", "llm", `{name: llm}`, "\n  advanced: {horizontalPodAutoscalerConfig: {name: llm}}",
				`annotations: {scaledobject.keda.sh/transfer-hpa-ownership: "true"}`),
		},
		"HPA already in conflict, edited": {
			rule:   conflict.HPAID,
			stored: scaledObject("llm", `{name: llm}`),
			old:    hpa("cpu", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			obj:    strings.Replace(hpa("cpu", `{apiVersion: apps/v1, kind: Deployment, name: llm}`), "maxReplicas: 4", "maxReplicas: 6", 1),
			want:   []want{policytest.Warn(conflict.HPAID, "spec.scaleTargetRef", `is already scaled by ScaledObject "llm"`, edited)},
		},
		"two ScaledObjects already on one target, one edited": {
			rule:   conflict.ScaledObjectID,
			stored: scaledObject("queue", `{name: llm}`),
			old:    scaledObject("kv-cache", `{name: llm}`),
			obj:    strings.Replace(scaledObject("kv-cache", `{name: llm}`), "maxReplicaCount: 4", "maxReplicaCount: 8", 1),
			want:   []want{policytest.Warn(conflict.ScaledObjectID, "spec.scaleTargetRef", `is already scaled by ScaledObject "queue"`, edited)},
		},
		"ScaledObject moved onto another ScaledObject's target": {
			rule:   conflict.ScaledObjectID,
			stored: scaledObject("queue", `{name: llm}`),
			old:    scaledObject("kv-cache", `{name: other}`),
			obj:    scaledObject("kv-cache", `{name: llm}`),
			want:   []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef", `is already scaled by ScaledObject "queue"`)},
		},
		"InferenceService switched from external to hpa under a ScaledObject": {
			rule:   conflict.KServeID,
			stored: scaledObject("qwen-queue", `{name: qwen-predictor}`),
			old:    isvc(raw + `, serving.kserve.io/autoscalerClass: external`),
			obj:    isvc(raw + `, serving.kserve.io/autoscalerClass: hpa`),
			want:   []want{policytest.Deny(conflict.KServeID, "metadata.annotations[serving.kserve.io/autoscalerClass]", `but ScaledObject "qwen-queue" already scales it`)},
		},
		"InferenceService already in conflict switched from hpa to keda: the same conflict": {
			rule:   conflict.KServeID,
			stored: scaledObject("qwen-queue", `{name: qwen-predictor}`),
			old:    isvc(raw),
			obj:    isvc(raw + `, serving.kserve.io/autoscalerClass: keda`),
			want: []want{policytest.Warn(conflict.KServeID, "metadata.annotations[serving.kserve.io/autoscalerClass]",
				`its own ScaledObject "qwen-predictor"`, edited)},
		},
		"InferenceService already in conflict, model edited": {
			rule:   conflict.KServeID,
			stored: scaledObject("qwen-queue", `{name: qwen-predictor}`),
			old:    isvc(raw),
			obj:    strings.Replace(isvc(raw), "Qwen2.5-0.5B", "Qwen2.5-1.5B", 1),
			want:   []want{policytest.Warn(conflict.KServeID, "metadata.annotations[serving.kserve.io/autoscalerClass]", `already scales it`, edited)},
		},
		"InferenceService fixed with class external": {
			rule:   conflict.KServeID,
			stored: scaledObject("qwen-queue", `{name: qwen-predictor}`),
			old:    isvc(raw),
			obj:    isvc(raw + `, serving.kserve.io/autoscalerClass: external`),
		},
		"policy already in conflict gets a second target that is also scaled": {
			rule:   conflict.KthenaID,
			stored: scaledObject("llm", msRef) + scaledObject("small", `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: small}`),
			old:    policy("serving", "pool", heterogeneous(`{kind: ModelServing, name: llm}`)),
			obj:    policy("serving", "pool", heterogeneous(`{kind: ModelServing, name: llm}`, `{kind: ModelServing, name: small}`)),
			want: []want{
				policytest.Warn(conflict.KthenaID, "spec.heterogeneousTarget.params[0].target.targetRef", `ScaledObject "llm" already scales`, edited),
				policytest.Deny(conflict.KthenaID, "spec.heterogeneousTarget.params[1].target.targetRef", `ScaledObject "small" already scales`),
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := stored(t, tc.stored, tc.obj, tc.old)
			policytest.Expect(t, policytest.OnlyRule(got, tc.rule), tc.want...)
		})
	}
}
