package conflict_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// argoDeployment is Deployment llm as Argo CD left it: tracked, replicas
// per meta and body.
func argoDeployment(meta, replicas string) string {
	return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: serving, ` + meta + `}
spec:` + replicas + `
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec: {containers: [{name: vllm, image: "vllm/vllm-openai:v0.11.0"}]}
---
`
}

const (
	tracked      = `annotations: {argocd.argoproj.io/tracking-id: "serving:apps/Deployment:serving/llm"}`
	instance     = `labels: {app.kubernetes.io/instance: llm}`
	threeReplica = "\n  replicas: 3"
	live         = `resourceVersion: "4711", uid: 6f0e4c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6`
)

func TestConflictGitOpsReplicas(t *testing.T) {
	const (
		resets    = "with self-heal on, every sync resets the replicas this ScaledObject chose; drop spec.replicas from the manifest, or add an ignoreDifferences entry for /spec/replicas with the sync option RespectIgnoreDifferences=true"
		suggests  = "the label app.kubernetes.io/instance suggests Argo CD label tracking; if Argo CD manages it with self-heal, every sync resets the replicas this ScaledObject chose"
		helmToo   = "(Helm sets this label too, and helm upgrade keeps replicas its chart did not change)"
		gitOpsFix = "drop spec.replicas from the manifest, or add an ignoreDifferences entry for /spec/replicas with the sync option RespectIgnoreDifferences=true"
	)
	so := scaledObject("llm", `{name: llm}`)
	cases := map[string]struct {
		docs string
		want []want
	}{
		"tracking label only, the manifest sets replicas: Argo CD is suggested, not asserted": {
			docs: argoDeployment(instance, threeReplica) + so,
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.scaleTargetRef",
				`the workload "llm" (apps/v1 Deployment): its manifest sets spec.replicas, and `+suggests, helmToo, gitOpsFix)},
		},
		"tracking annotation": {
			docs: argoDeployment(tracked, threeReplica) + so,
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.scaleTargetRef",
				`the workload "llm" (apps/v1 Deployment) is managed by Argo CD (annotation argocd.argoproj.io/tracking-id) and its manifest sets spec.replicas`, resets)},
		},
		"tracking annotation and label: the annotation is firm": {
			docs: argoDeployment(`annotations: {argocd.argoproj.io/tracking-id: "serving:apps/Deployment:serving/llm"}, labels: {app.kubernetes.io/instance: llm}`, threeReplica) + so,
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.scaleTargetRef", "is managed by Argo CD (annotation argocd.argoproj.io/tracking-id)", resets)},
		},
		"the manifest leaves replicas to the autoscaler": {
			docs: argoDeployment(instance, "") + so,
		},
		"not managed by Argo CD": {
			docs: argoDeployment(`labels: {app: llm}`, threeReplica) + so,
		},
		"live object, client-side apply with replicas": {
			docs: argoDeployment(instance+", "+live+`, annotations: {kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":3}}'}`, threeReplica) + so,
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.scaleTargetRef", "its last-applied configuration sets spec.replicas")},
		},
		"live object, client-side apply without replicas": {
			docs: argoDeployment(instance+", "+live+`, annotations: {kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{}}}'}`, threeReplica) + so,
		},
		"live object, server-side apply owning replicas": {
			docs: argoDeployment(instance+", "+live+`, managedFields: [{manager: argocd-controller, operation: Apply, apiVersion: apps/v1, fieldsType: FieldsV1, fieldsV1: {"f:spec": {"f:replicas": {}, "f:template": {}}}}]`, threeReplica) + so,
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.scaleTargetRef", `field manager "argocd-controller" applies spec.replicas`)},
		},
		"live object, server-side apply without replicas; KEDA's scale updates do not count": {
			docs: argoDeployment(instance+", "+live+`, managedFields: [{manager: argocd-controller, operation: Apply, apiVersion: apps/v1, fieldsType: FieldsV1, fieldsV1: {"f:spec": {"f:template": {}}}}, {manager: keda, operation: Update, subresource: scale, apiVersion: apps/v1, fieldsType: FieldsV1, fieldsV1: {"f:spec": {"f:replicas": {}}}}]`, threeReplica) + so,
		},
		"live object without any record of what was applied": {
			docs: argoDeployment(instance+", "+live, threeReplica) + so,
		},
		"an Argo Rollout": {
			docs: `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: llm, namespace: serving, labels: {app.kubernetes.io/instance: llm}}
spec:
  replicas: 2
  template: {spec: {containers: [{name: vllm, image: "vllm/vllm-openai:v0.11.0"}]}}
---
` + scaledObject("llm", `{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: llm}`),
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.scaleTargetRef",
				`the workload "llm" (argoproj.io/v1alpha1 Rollout): its manifest sets spec.replicas, and `+suggests)},
		},
		"an HPA on it": {
			docs: argoDeployment(instance, threeReplica) + hpa("llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.scaleTargetRef", "the replicas this HPA chose")},
		},
		"KEDA's own HPA is left to its ScaledObject": {
			docs: argoDeployment(instance, threeReplica) + hpa("keda-hpa-llm", `{apiVersion: apps/v1, kind: Deployment, name: llm}`, ownedBy("keda.sh/v1alpha1", "ScaledObject", "llm", true)),
		},
		"a ModelServing scaled by a ScaledObject": {
			docs: scaledObject("llm", msRef) + modelServing("serving", "llm", instance),
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.replicas",
				`is set by the applied manifest of this ModelServing (its manifest sets spec.replicas), and ScaledObject "llm" scales it; the label app.kubernetes.io/instance suggests Argo CD label tracking; if Argo CD manages it with self-heal, every sync resets the replicas the autoscaler chose`,
				helmToo, gitOpsFix)},
		},
		"a ModelServing with the tracking annotation": {
			docs: scaledObject("llm", msRef) + modelServing("serving", "llm", tracked),
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.replicas",
				`is set by the applied manifest of this ModelServing (its manifest sets spec.replicas), which Argo CD manages (annotation argocd.argoproj.io/tracking-id), and ScaledObject "llm" scales it: with self-heal on, every sync resets the replicas the autoscaler chose`)},
		},
		"a ModelServing scaled by a policy in another namespace": {
			docs: policy("kthena-system", "llm", homogeneous(`{kind: ModelServing, namespace: serving, name: llm}`)) + modelServing("serving", "llm", instance),
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.replicas", `AutoscalingPolicy "llm" in namespace "kthena-system" scales it`)},
		},
		"a ModelServing nothing scales": {
			docs: modelServing("serving", "llm", instance),
		},
		"a ModelServing whose roles a disaggregated policy scales": {
			docs: policy("serving", "llm", disaggregated(`{kind: ModelServing, name: llm}`)) + modelServing("serving", "llm", instance),
		},
		"a homogeneous policy on a tracked ModelServing": {
			docs: modelServing("serving", "llm", instance) + policy("serving", "llm", homogeneous(`{kind: ModelServing, name: llm}`)),
			want: []want{policytest.Warn(conflict.GitOpsID, "spec.homogeneousTarget.target.targetRef",
				`the workload "llm" (workload.serving.volcano.sh/v1alpha1 ModelServing): its manifest sets spec.replicas, and the label app.kubernetes.io/instance suggests Argo CD label tracking`,
				"the replicas Kthena's autoscaler chose")},
		},
		"a disaggregated policy on a tracked ModelServing": {
			docs: modelServing("serving", "llm", instance) + policy("serving", "llm", disaggregated(`{kind: ModelServing, name: llm}`)),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.GitOpsID), tc.want...)
		})
	}
}
