package targetref_test

import (
	"os"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
	"github.com/scaleguard/scaleguard/policies/targetref"
)

const (
	modelServing = `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: llm, namespace: serving}
spec: {replicas: 1}
---
`
	deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: serving}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec: {containers: [{name: vllm, image: vllm}]}
---
`
	statefulSet = `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: llm, namespace: serving}
spec:
  selector: {matchLabels: {app: llm}}
  serviceName: llm
  template:
    metadata: {labels: {app: llm}}
    spec: {containers: [{name: vllm, image: vllm}]}
---
`
	isvc = `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: llm, namespace: serving}
spec:
  predictor:
    model: {modelFormat: {name: huggingface}}
---
`
)

func scaledObject(ref string) string {
	return `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm-scaler, namespace: serving}
spec:
  scaleTargetRef: ` + ref + `
  triggers:
    - type: cpu
      metadata: {value: "50"}
      metricType: Utilization
`
}

func TestTargetRef(t *testing.T) {
	type want = policytest.Want
	cases := map[string]struct {
		docs string
		want []want
	}{
		"ModelServing kind without apiVersion": {
			docs: modelServing + scaledObject(`{kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.apiVersion",
				"KEDA looks for an apps/v1 ModelServing", "scaleTargetRef: {apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}")},
		},
		"ModelServing with its apiVersion": {
			docs: modelServing + scaledObject(`{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`),
		},
		"ModelServing with its apiVersion, not created yet": {
			docs: scaledObject(`{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `workload.serving.volcano.sh/v1alpha1 ModelServing "llm" does not exist in namespace "serving" yet`)},
		},
		"apps/v1 ModelServing": {
			docs: modelServing + scaledObject(`{apiVersion: apps/v1, kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.apiVersion", `"apps/v1" does not serve kind ModelServing`, "apiVersion: workload.serving.volcano.sh/v1alpha1")},
		},
		"ModelServing under a version its group does not serve": {
			docs: modelServing + scaledObject(`{apiVersion: workload.serving.volcano.sh/v1, kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.apiVersion", `"workload.serving.volcano.sh/v1" does not serve kind ModelServing`)},
		},
		"no kind next to a ModelServing and no Deployment": {
			docs: modelServing + scaledObject(`{name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.kind",
				`KEDA scales the apps/v1 Deployment "llm", which does not exist`, `ModelServing "llm"`,
				"scaleTargetRef: {apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}")},
		},
		"no kind next to a ModelServing and a Deployment of that name": {
			docs: modelServing + deployment + scaledObject(`{name: llm}`),
		},
		"explicit Deployment next to a ModelServing only": {
			docs: modelServing + scaledObject(`{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `namespace has a ModelServing "llm"`)},
		},
		"no kind next to a StatefulSet": {
			docs: statefulSet + scaledObject(`{name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.kind", "scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: llm}")},
		},
		"StatefulSet without apiVersion is KEDA's apps/v1 default": {
			docs: statefulSet + scaledObject(`{kind: StatefulSet, name: llm}`),
		},
		"name of an InferenceService instead of its predictor": {
			docs: isvc + scaledObject(`{name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.name", `predictor Deployment is "llm-predictor"`, "scaleTargetRef: {name: llm-predictor}")},
		},
		"explicit Deployment named like an InferenceService": {
			docs: isvc + scaledObject(`{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `the namespace has an InferenceService "llm"`, `its predictor Deployment is "llm-predictor"`)},
		},
		"LeaderWorkerSet with its apiVersion": {
			docs: "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: llm, namespace: serving}\n" +
				"spec:\n  leaderWorkerTemplate:\n    size: 2\n    workerTemplate: {spec: {containers: [{name: vllm, image: vllm}]}}\n---\n" +
				scaledObject(`{apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet, name: llm}`),
		},
		"LeaderWorkerSet not applied yet": {
			docs: scaledObject(`{apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet, name: llm}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `leaderworkerset.x-k8s.io/v1 LeaderWorkerSet "llm" does not exist in namespace "serving" yet`)},
		},
		"LeaderWorkerSet without apiVersion": {
			docs: scaledObject(`{kind: LeaderWorkerSet, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.apiVersion", "apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet")},
		},
		// KServe creates the predictor Deployment from the
		// InferenceService: nothing to warn about.
		"predictor Deployment not created yet": {
			docs: isvc + scaledObject(`{name: llm-predictor}`),
		},
		"a named predictor's Deployment not created yet": {
			docs: strings.Replace(isvc, "  predictor:\n", "  predictor:\n    name: blue\n", 1) + scaledObject(`{name: llm-blue-predictor}`),
		},
		"the unnamed predictor of an InferenceService whose predictor is named": {
			docs: strings.Replace(isvc, "  predictor:\n", "  predictor:\n    name: blue\n", 1) + scaledObject(`{name: llm-predictor}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `apps/v1 Deployment "llm-predictor" does not exist`)},
		},
		"a transformer Deployment the InferenceService does not have": {
			docs: isvc + scaledObject(`{name: llm-transformer}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `apps/v1 Deployment "llm-transformer" does not exist`)},
		},
		"a predictor Deployment with no InferenceService": {
			docs: scaledObject(`{name: llm-predictor}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `apps/v1 Deployment "llm-predictor" does not exist`)},
		},
		"Deployment target present": {
			docs: deployment + scaledObject(`{name: llm}`),
		},
		"nothing of that name anywhere": {
			docs: scaledObject(`{name: llm}`),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", "KEDA reports the ScaledObject not ready until it does")},
		},
		"InferenceService has no scale subresource": {
			docs: isvc + scaledObject(`{apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.kind", "has no /scale subresource", "scaleTargetRef: {name: llm-predictor}", "autoscalerClass: external")},
		},
		"InferenceService kind without apiVersion": {
			docs: isvc + scaledObject(`{kind: InferenceService, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.kind", "has no /scale subresource")},
		},
		"DaemonSet": {
			docs: scaledObject(`{apiVersion: apps/v1, kind: DaemonSet, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.kind", "apps/v1 DaemonSet has no /scale subresource")},
		},
		"apps kind that does not exist": {
			docs: scaledObject(`{apiVersion: apps/v1, kind: Deploymnet, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.kind", "apps has no kind Deploymnet")},
		},
		"CRD kind without apiVersion": {
			docs: scaledObject(`{kind: CloneSet, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.apiVersion", "apps/v1 has no kind CloneSet", "set apiVersion")},
		},
		"CRD kind with an apiVersion is trusted": {
			docs: scaledObject(`{apiVersion: apps.kruise.io/v1alpha1, kind: CloneSet, name: llm}`),
		},
		"Argo Rollout": {
			docs: scaledObject(`{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: llm}`),
		},
		"Kthena apiVersion without kind": {
			docs: modelServing + scaledObject(`{apiVersion: workload.serving.volcano.sh/v1alpha1, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.kind",
				"KEDA looks for a workload.serving.volcano.sh/v1alpha1 Deployment", "kind: ModelServing")},
		},
		"unparsable apiVersion": {
			docs: scaledObject(`{apiVersion: a/b/c, kind: ModelServing, name: llm}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.apiVersion", `"a/b/c" is not a group/version`)},
		},
		"missing scaleTargetRef": {
			docs: `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: x, namespace: serving}
spec:
  triggers: [{type: cpu, metadata: {value: "50"}}]
`,
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef", "is missing")},
		},
		"empty name": {
			docs: scaledObject(`{kind: Deployment, name: ""}`),
			want: []want{policytest.Deny(targetref.ID, "spec.scaleTargetRef.name", "is empty")},
		},
		"no namespace anywhere means default": {
			docs: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  selector: {matchLabels: {app: llm}}
  template: {metadata: {labels: {app: llm}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: s}
spec:
  scaleTargetRef: {name: llm}
  triggers: [{type: cpu, metadata: {value: "50"}}]
`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, targetref.ID), tc.want...)
		})
	}
}

func TestTargetRefSettingsAddKinds(t *testing.T) {
	s := policies.DefaultSettings()
	s.TargetRef.ScalableKinds = append(s.TargetRef.ScalableKinds, policies.KindRef{APIVersion: "apps.kruise.io/v1alpha1", Kind: "CloneSet"})
	got := policytest.Admit(t, scaledObject(`{apiVersion: apps.kruise.io/v1beta1, kind: CloneSet, name: llm}`), s).Result.Findings
	policytest.Expect(t, policytest.OnlyRule(got, targetref.ID), policytest.Want{
		Rule: targetref.ID, Action: policies.Deny, Field: "spec.scaleTargetRef.apiVersion",
		Fragments: []string{`"apps.kruise.io/v1beta1" does not serve kind CloneSet`, "apiVersion: apps.kruise.io/v1alpha1"},
	})
}

func TestTargetRefKthenaPRExample(t *testing.T) {
	docs, err := os.ReadFile("testdata/kthena-pr-scaledobject.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := policytest.Admit(t, string(docs)).Result.Findings
	policytest.Expect(t, policytest.OnlyRule(got, targetref.ID), policytest.Want{
		Rule: targetref.ID, Action: policies.Deny, Field: "spec.scaleTargetRef.apiVersion",
		Fragments: []string{"scaleTargetRef: {apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: my-modelserving}"},
	})
}
