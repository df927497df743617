package conflict_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// In Knative mode the component's own name is a Knative Service: only the
// revision Deployments are scaled by Knative's autoscaler. A mode that only
// comes from conflicts.kserveDefaultDeploymentMode is an assumption: what
// it finds is a warning, never a denial.
func TestConflictKServeDeploymentModes(t *testing.T) {
	const (
		assumedKnative  = `if it runs in Knative mode, as conflicts.kserveDefaultDeploymentMode assumes for an InferenceService that states no deployment mode`
		assumedStandard = `if it runs in Standard mode, as conflicts.kserveDefaultDeploymentMode assumes for an InferenceService that states no deployment mode`
		notDenied       = `not denied on an assumption: set serving.kserve.io/deploymentMode on InferenceService "qwen" to the mode it runs in (or conflicts.kserveDefaultDeploymentMode to the cluster's default)`
		revision        = `the workload "qwen-predictor-00001-deployment" (apps/v1 Deployment) is a Knative revision of the predictor "qwen-predictor" of InferenceService "qwen"`
		modeField       = "metadata.annotations[serving.kserve.io/deploymentMode]"
		classField      = "metadata.annotations[serving.kserve.io/autoscalerClass]"
	)
	standard := policies.DefaultSettings()
	standard.Conflicts.KServeDefaultDeploymentMode = "Standard"
	cases := map[string]struct {
		docs     string
		settings *policies.Settings
		want     []want
	}{
		// From the ScaledObject.
		"no mode, class external, a ScaledObject on the predictor's name": {
			docs: isvc(`serving.kserve.io/autoscalerClass: external`) + scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"no mode, no class, a ScaledObject on the predictor's name: a Knative Service, no Deployment": {
			docs: isvc(``) + scaledObject("qwen", `{name: qwen-predictor}`),
		},
		"Knative mode stated, an explicit apps/v1 Deployment on the predictor's name": {
			docs: isvc(`serving.kserve.io/deploymentMode: Knative`) + scaledObject("qwen", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`),
		},
		"Knative mode by status, a revision": {
			docs: isvcWith(``, "", "status: {deploymentMode: Serverless}\n") + scaledObject("qwen", `{name: qwen-predictor-00001-deployment}`),
			want: []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", revision,
				`which Knative's autoscaler already scales (Knative mode: status.deploymentMode: Serverless)`,
				`target its Deployment "qwen-predictor", which keeps its name across revisions`)},
		},
		"no mode, a revision under the default Knative: a warning": {
			docs: isvc(``) + scaledObject("qwen", `{name: qwen-predictor-00001-deployment}`),
			want: []want{policytest.Warn(conflict.KServeID, "spec.scaleTargetRef", revision, assumedKnative,
				"Knative's autoscaler scales it too", notDenied, `run InferenceService "qwen" in raw mode`)},
		},
		"an unknown mode annotation falls back to the setting": {
			docs: isvc(`serving.kserve.io/deploymentMode: Raw`) + scaledObject("qwen", `{name: qwen-predictor-00001-deployment}`),
			want: []want{policytest.Warn(conflict.KServeID, "spec.scaleTargetRef", revision, assumedKnative)},
		},
		"no mode on a cluster that defaults to Standard: a warning": {
			docs:     isvc(``) + scaledObject("qwen", `{name: qwen-predictor}`),
			settings: standard,
			want: []want{policytest.Warn(conflict.KServeID, "spec.scaleTargetRef",
				`the workload "qwen-predictor" (apps/v1 Deployment) is the predictor of InferenceService "qwen"`, assumedStandard,
				`KServe scales it too with its own HorizontalPodAutoscaler "qwen-predictor" (serving.kserve.io/autoscalerClass is absent, which means hpa)`,
				notDenied, `set serving.kserve.io/autoscalerClass: external on InferenceService "qwen"`)},
		},
		"no mode on a cluster that defaults to Standard, a revision name": {
			docs:     isvc(``) + scaledObject("qwen", `{name: qwen-predictor-00001-deployment}`),
			settings: standard,
		},
		"Standard mode stated: still a denial": {
			docs:     isvc(`serving.kserve.io/deploymentMode: Standard`) + scaledObject("qwen", `{name: qwen-predictor}`),
			settings: standard,
			want:     []want{policytest.Deny(conflict.KServeID, "spec.scaleTargetRef", onPredictor, "HorizontalPodAutoscaler")},
		},

		// From the InferenceService.
		"InferenceService without mode, a ScaledObject on the predictor's name": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor}`) + isvc(``),
		},
		"InferenceService in Knative mode, a ScaledObject on the predictor's name": {
			docs: scaledObject("qwen-queue", `{apiVersion: apps/v1, kind: Deployment, name: qwen-predictor}`) + isvc(`serving.kserve.io/deploymentMode: Serverless`),
		},
		"InferenceService without mode, a ScaledObject on a revision: a warning": {
			docs: scaledObject("qwen-queue", `{name: qwen-predictor-00001-deployment}`) + isvc(``),
			want: []want{policytest.Warn(conflict.KServeID, modeField,
				`Knative's autoscaler scales the revisions of its predictor "qwen-predictor", among them the workload "qwen-predictor-00001-deployment" (apps/v1 Deployment)`,
				assumedKnative, `but ScaledObject "qwen-queue" already scales it`, notDenied, "deploy it in raw mode")},
		},
		"InferenceService without mode on a Standard cluster: a warning": {
			docs:     scaledObject("qwen-queue", `{name: qwen-predictor}`) + isvc(``),
			settings: standard,
			want: []want{policytest.Warn(conflict.KServeID, classField,
				`KServe would scale its predictor, the workload "qwen-predictor" (apps/v1 Deployment), with its own HorizontalPodAutoscaler "qwen-predictor"`,
				assumedStandard, notDenied, "set serving.kserve.io/autoscalerClass: external")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs, tc.settings).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.KServeID), tc.want...)
		})
	}
}
