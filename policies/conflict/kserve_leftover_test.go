package conflict_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// KServe deletes neither its ScaledObject when the class leaves keda nor
// its HPA when the class becomes keda: the leftover is reported on the
// InferenceService, whose class change brings the fight.
func TestConflictKServeLeftovers(t *testing.T) {
	const (
		classField = "metadata.annotations[serving.kserve.io/autoscalerClass]"
		leftSO     = `but ScaledObject "qwen-predictor", which KServe generated for this InferenceService while its class was keda, still scales it (KServe does not delete it when the class changes)`
		viaSO      = `set serving.kserve.io/autoscalerClass: external, delete ScaledObject "qwen-predictor" (KServe recreates it while the class is keda), then set the class you want`
		leftHPA    = `but HorizontalPodAutoscaler "qwen-predictor", which KServe generated for this InferenceService while its class was hpa, still scales it (KServe does not delete it when the class becomes keda)`
		viaHPA     = `set serving.kserve.io/autoscalerClass: external first (KServe then deletes that HPA), and keda once it is gone`
	)
	kserveSO := func(target string) string {
		return scaledObject(target, `{name: `+target+`}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true))
	}
	kserveHPA := func(target string) string {
		return hpa(target, `{apiVersion: apps/v1, kind: Deployment, name: `+target+`}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true))
	}
	cases := map[string]struct {
		docs string
		want []want
	}{
		"class hpa, KServe's ScaledObject left behind": {
			docs: kserveSO("qwen-predictor") + isvc(raw+`, serving.kserve.io/autoscalerClass: hpa`),
			want: []want{policytest.Deny(conflict.KServeID, classField,
				`KServe scales its predictor, the workload "qwen-predictor" (apps/v1 Deployment), with its own HorizontalPodAutoscaler "qwen-predictor" (serving.kserve.io/autoscalerClass: hpa)`,
				leftSO, "two autoscalers overwrite each other's spec.replicas", viaSO)},
		},
		"no class (hpa), KServe's ScaledObject left behind": {
			docs: kserveSO("qwen-predictor") + isvc(raw),
			want: []want{policytest.Deny(conflict.KServeID, classField, "(serving.kserve.io/autoscalerClass is absent, which means hpa)", leftSO, viaSO)},
		},
		"class none, KServe's ScaledObject left behind": {
			docs: kserveSO("qwen-predictor") + isvc(raw+`, serving.kserve.io/autoscalerClass: none`),
			want: []want{policytest.Deny(conflict.KServeID, classField,
				`KServe holds its predictor, the workload "qwen-predictor" (apps/v1 Deployment), at minReplicas, writing spec.replicas back on every reconcile`, leftSO, viaSO)},
		},
		"class external, KServe's ScaledObject left behind: no fight, a warning": {
			docs: kserveSO("qwen-predictor") + isvc(raw+`, serving.kserve.io/autoscalerClass: external`),
			want: []want{policytest.Warn(conflict.KServeID, classField,
				`ScaledObject "qwen-predictor", which KServe generated for this InferenceService while its class was keda, still scales its predictor, the workload "qwen-predictor" (apps/v1 Deployment)`,
				`KServe no longer updates it and does not delete it: delete ScaledObject "qwen-predictor"`)},
		},
		"class keda: KServe's live ScaledObject": {
			docs: kserveSO("qwen-predictor") + isvc(raw+`, serving.kserve.io/autoscalerClass: keda`),
		},
		"no mode stated: KServe's ScaledObject shows raw mode": {
			docs: kserveSO("qwen-predictor") + isvc(`serving.kserve.io/autoscalerClass: none`),
			want: []want{policytest.Deny(conflict.KServeID, classField, leftSO, viaSO)},
		},
		"Knative mode stated: KServe runs no raw autoscaler": {
			docs: kserveSO("qwen-predictor") + isvc(`serving.kserve.io/deploymentMode: Knative`),
		},
		"the transformer's ScaledObject left behind": {
			docs: kserveSO("qwen-transformer") +
				isvcWith(raw, "", "  transformer:\n    containers: [{name: kserve-container, image: transformer:1}]\n"),
			want: []want{policytest.Deny(conflict.KServeID, classField,
				`KServe scales its transformer, the workload "qwen-transformer" (apps/v1 Deployment)`,
				`but ScaledObject "qwen-transformer", which KServe generated`, `delete ScaledObject "qwen-transformer"`)},
		},
		"another InferenceService's ScaledObject is not a leftover of this one": {
			docs: scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "old", true)) +
				isvc(raw+`, serving.kserve.io/autoscalerClass: external`),
		},
		"a ScaledObject it owns without being its controller is not KServe's": {
			docs: scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", false)) +
				isvc(raw+`, serving.kserve.io/autoscalerClass: external`),
		},
		"class keda, KServe's HPA left behind": {
			docs: kserveHPA("qwen-predictor") + isvc(raw+`, serving.kserve.io/autoscalerClass: keda`),
			want: []want{policytest.Deny(conflict.KServeID, classField,
				`KServe scales its predictor, the workload "qwen-predictor" (apps/v1 Deployment), with its own ScaledObject "qwen-predictor" (serving.kserve.io/autoscalerClass: keda)`,
				leftHPA, viaHPA)},
		},
		"class hpa: KServe's live HPA": {
			docs: kserveHPA("qwen-predictor") + isvc(raw+`, serving.kserve.io/autoscalerClass: hpa`),
		},
		"class external: KServe deletes its HPA itself": {
			docs: kserveHPA("qwen-predictor") + isvc(raw+`, serving.kserve.io/autoscalerClass: external`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.KServeID), tc.want...)
		})
	}
}

// The class change is what brings the fight: it is denied; the way out
// through class external is admitted.
func TestConflictKServeLeftoversOnUpdate(t *testing.T) {
	const (
		classField = "metadata.annotations[serving.kserve.io/autoscalerClass]"
		edited     = "(already so before this update; admitted so it can be fixed by editing)"
	)
	kserveSO := scaledObject("qwen-predictor", `{name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true))
	kserveHPA := hpa("qwen-predictor", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`, ownedBy("serving.kserve.io/v1beta1", "InferenceService", "qwen", true))
	withClass := func(class string) string { return isvc(raw + `, serving.kserve.io/autoscalerClass: ` + class) }
	cases := map[string]struct {
		stored, obj, old string
		want             []want
	}{
		"keda to hpa with KServe's ScaledObject in place": {
			stored: kserveSO, old: withClass("keda"), obj: withClass("hpa"),
			want: []want{policytest.Deny(conflict.KServeID, classField, `ScaledObject "qwen-predictor", which KServe generated`)},
		},
		"keda to none": {
			stored: kserveSO, old: withClass("keda"), obj: withClass("none"),
			want: []want{policytest.Deny(conflict.KServeID, classField, `ScaledObject "qwen-predictor", which KServe generated`)},
		},
		"keda to external: the way out, a warning": {
			stored: kserveSO, old: withClass("keda"), obj: withClass("external"),
			want: []want{policytest.Warn(conflict.KServeID, classField, `delete ScaledObject "qwen-predictor"`)},
		},
		"external to hpa while the ScaledObject is still there": {
			stored: kserveSO, old: withClass("external"), obj: withClass("hpa"),
			want: []want{policytest.Deny(conflict.KServeID, classField, `ScaledObject "qwen-predictor", which KServe generated`)},
		},
		"external to hpa once the ScaledObject is gone": {
			old: withClass("external"), obj: withClass("hpa"),
		},
		"already left behind, an unrelated edit": {
			stored: kserveSO, old: withClass("hpa"), obj: strings.Replace(withClass("hpa"), "Qwen2.5-0.5B", "Qwen2.5-1.5B", 1),
			want: []want{policytest.Warn(conflict.KServeID, classField, `ScaledObject "qwen-predictor", which KServe generated`, edited)},
		},
		"hpa to keda with KServe's HPA in place": {
			stored: kserveHPA, old: withClass("hpa"), obj: withClass("keda"),
			want: []want{policytest.Deny(conflict.KServeID, classField, `HorizontalPodAutoscaler "qwen-predictor", which KServe generated`)},
		},
		"hpa to external: KServe deletes its HPA": {
			stored: kserveHPA, old: withClass("hpa"), obj: withClass("external"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := stored(t, tc.stored, tc.obj, tc.old)
			policytest.Expect(t, policytest.OnlyRule(got, conflict.KServeID), tc.want...)
		})
	}
}
