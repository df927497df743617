package gpu_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// plainHPA is an HPA "llm-hpa" on the Deployment "llm" with extra spec
// lines.
func plainHPA(meta, spec string) string {
	return `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: llm-hpa, namespace: serving` + meta + `}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
` + spec
}

// httpScaledObject is a KEDA HTTP add-on HTTPScaledObject "llm" routing to
// and scaling the Deployment "llm", with extra spec lines.
func httpScaledObject(spec string) string {
	return `
apiVersion: http.keda.sh/v1alpha1
kind: HTTPScaledObject
metadata: {name: llm, namespace: serving}
spec:
  hosts: [llm.example.com]
  scaleTargetRef: {name: llm, kind: Deployment, apiVersion: apps/v1, service: llm, port: 8000}
` + spec
}

func gpuRules(fs []policies.Finding) []policies.Finding {
	var out []policies.Finding
	for _, f := range fs {
		if strings.HasPrefix(f.Rule, "gpu-") {
			out = append(out, f)
		}
	}
	return out
}

// TestPlainHPAs: gpu-idle-cost and gpu-cooldown judge HPAs on a GPU tier.
func TestPlainHPAs(t *testing.T) {
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"minReplicas unset on a GPU Deployment": {docs: deployment(gpuContainer) + plainHPA("", ""),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicas",
				"minReplicas 1 (Kubernetes' default when unset) keeps 1 GPU (730 GPU-hours a month) allocated while idle",
				"never scales below 1 replica (minReplicas 0 needs the alpha feature gate HPAScaleToZero)", "a KEDA ScaledObject with minReplicaCount: 0")}},
		"minReplicas 2 of 2 GPUs": {docs: deployment(`{containers: [{name: vllm, image: vllm, resources: {limits: {nvidia.com/gpu: "2"}}}]}`) + plainHPA("", "  minReplicas: 2\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicas", "minReplicas 2 keeps 4 GPUs")}},
		"minReplicas 0 (HPAScaleToZero)": {docs: deployment(gpuContainer) + plainHPA("", "  minReplicas: 0\n")},
		"a CPU Deployment":               {docs: deployment(`{containers: [{name: web, image: web}]}`) + plainHPA("", "")},
		"a short scale-down window": {docs: deployment(gpuContainer) + plainHPA("", "  minReplicas: 0\n  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}\n"),
			want: []policytest.Want{policytest.Warn(gpu.CooldownID, "spec.behavior.scaleDown.stabilizationWindowSeconds",
				`is 60s, below the 300s a GPU tier needs: the HPA removes GPU replicas of Deployment "llm" after 60s`)}},
		"a long scale-down window": {docs: deployment(gpuContainer) + plainHPA("", "  minReplicas: 0\n  behavior: {scaleDown: {stabilizationWindowSeconds: 600}}\n")},
		"KEDA's HPA is judged through its ScaledObject": {docs: deployment(gpuContainer) +
			plainHPA(", ownerReferences: [{apiVersion: keda.sh/v1alpha1, kind: ScaledObject, name: llm, uid: u, controller: true}]", "  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}\n")},
		"KServe's HPA names the InferenceService": {docs: deployment(gpuContainer) +
			plainHPA(", ownerReferences: [{apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, name: qwen, uid: u, controller: true}]", ""),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicas", `serving.kserve.io/autoscalerClass: keda on InferenceService "qwen"`)}},
		"a namespace label puts it on the tier": {docs: namespace("{scaleguard.io/tier: gpu}") + deployment(`{containers: [{name: web, image: web}]}`) + plainHPA("", ""),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicas", "scaleguard cannot count the GPUs they hold")}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			policytest.Expect(t, gpuRules(policytest.Admit(t, c.docs).Result.Findings), c.want...)
		})
	}
}

// TestHTTPScaledObjects: the KEDA HTTP add-on's HTTPScaledObject is judged
// at the owner; the ScaledObject the add-on generates is never paused.
func TestHTTPScaledObjects(t *testing.T) {
	generated := `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: llm
  namespace: serving
  ownerReferences: [{apiVersion: http.keda.sh/v1alpha1, kind: HTTPScaledObject, name: llm, uid: u, controller: true}]
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicaCount: 1
  cooldownPeriod: 30
  triggers: [{type: external-push, metadata: {scalerAddress: "keda-add-ons-http-external-scaler.keda:9090", httpScaledObject: llm}}]
`
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"scale to zero with the default period": {docs: deployment(gpuContainer) + httpScaledObject("")},
		"replicas.min 1": {docs: deployment(gpuContainer) + httpScaledObject("  replicas: {min: 1, max: 4}\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.replicas.min", "replicas.min 1 keeps 1 GPU (730 GPU-hours a month) allocated while idle",
				"set replicas.min: 0", "the add-on's interceptor holds requests")}},
		"a short scaledownPeriod": {docs: deployment(gpuContainer) + httpScaledObject("  scaledownPeriod: 60\n"),
			want: []policytest.Want{policytest.Warn(gpu.CooldownID, "spec.scaledownPeriod", "is 60s, below the 300s a GPU tier needs", "set scaledownPeriod: 300 or more")}},
		"a short scaledownPeriod that never applies": {docs: deployment(gpuContainer) + httpScaledObject("  scaledownPeriod: 60\n  replicas: {min: 1}\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.replicas.min", "replicas.min 1")}},
		"a CPU Deployment": {docs: deployment(`{containers: [{name: web, image: web}]}`) + httpScaledObject("  scaledownPeriod: 60\n  replicas: {min: 1}\n")},
		"the generated ScaledObject is not paused nor judged": {docs: deployment(gpuContainer) + generated},
		"a ScaledObject of one's own is still paused": {docs: deployment(gpuContainer) + strings.Replace(generated,
			"  ownerReferences: [{apiVersion: http.keda.sh/v1alpha1, kind: HTTPScaledObject, name: llm, uid: u, controller: true}]\n", "", 1),
			want: []policytest.Want{
				policytest.Mutate(gpu.PausedDefaultID, "metadata.annotations[autoscaling.keda.sh/paused]", `set to "true"`),
				policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "while paused"),
			}},
		"a ScaledObject of one's own that scales to zero: its cooldown is judged": {docs: deployment(gpuContainer) + strings.Replace(strings.Replace(generated,
			"  ownerReferences: [{apiVersion: http.keda.sh/v1alpha1, kind: HTTPScaledObject, name: llm, uid: u, controller: true}]\n", "", 1), "minReplicaCount: 1", "minReplicaCount: 0", 1),
			want: []policytest.Want{
				policytest.Mutate(gpu.PausedDefaultID, "metadata.annotations[autoscaling.keda.sh/paused]", `set to "true"`),
				policytest.Warn(gpu.CooldownID, "spec.cooldownPeriod", "is 30s"),
			}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			policytest.Expect(t, gpuRules(policytest.Admit(t, c.docs).Result.Findings), c.want...)
		})
	}
}

// TestTargetsScaleguardReadsOrNot: a LeaderWorkerSet's leader and worker
// templates decide the tier; operator kinds whose pods scaleguard cannot
// see leave it undetermined, and the warning says so.
func TestTargetsScaleguardReadsOrNot(t *testing.T) {
	lws := func(leader bool, size string) string {
		s := `
apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata: {name: llm, namespace: serving}
spec:
  replicas: 1
  leaderWorkerTemplate:
    size: ` + size + `
`
		if leader {
			s += `    leaderTemplate: {spec: {containers: [{name: leader, image: vllm, resources: {limits: {nvidia.com/gpu: "8"}}}]}}
`
		}
		return s + `    workerTemplate: {spec: {containers: [{name: worker, image: vllm, resources: {limits: {nvidia.com/gpu: "8"}}}]}}
---
`
	}
	on := func(apiVersion, kind string) string {
		return strings.Replace(scaledObject("", "  minReplicaCount: 1\n"), "scaleTargetRef: {name: llm}",
			"scaleTargetRef: {apiVersion: "+apiVersion+", kind: "+kind+", name: llm}", 1)
	}
	const pausedPath = "metadata.annotations[autoscaling.keda.sh/paused]"
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"a LeaderWorkerSet of 2 pods, leader and worker templates": {docs: lws(true, "2") + on("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"),
			want: []policytest.Want{
				policytest.Mutate(gpu.PausedDefaultID, pausedPath, `LeaderWorkerSet "llm" runs on a GPU tier`, "leaderTemplate: container \"leader\" limits nvidia.com/gpu: 8"),
				policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 16 GPUs", "asks for 16 nvidia.com/gpu per replica"),
			}},
		"a LeaderWorkerSet of 4 pods, one template": {docs: lws(false, "4") + on("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"),
			want: []policytest.Want{
				policytest.Mutate(gpu.PausedDefaultID, pausedPath, `LeaderWorkerSet "llm" runs on a GPU tier`),
				policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 32 GPUs"),
			}},
		"a LeaderWorkerSet not applied yet": {docs: on("leaderworkerset.x-k8s.io/v1", "LeaderWorkerSet"),
			want: []policytest.Want{policytest.Warn(gpu.PausedDefaultID, pausedPath, `LeaderWorkerSet "llm" does not exist in namespace "serving" yet`)}},
		"a VLLMRuntime": {docs: on("production-stack.vllm.ai/v1alpha1", "VLLMRuntime"),
			want: []policytest.Want{policytest.Warn(gpu.PausedDefaultID, pausedPath, "the tier is undetermined",
				`VLLMRuntime "llm" is a vLLM production-stack VLLMRuntime, whose operator makes the pods from a spec scaleguard does not read`,
				"label the namespace scaleguard.io/tier=gpu")}},
		"a Dynamo scaling adapter": {docs: on("nvidia.com/v1alpha1", "DynamoGraphDeploymentScalingAdapter"),
			want: []policytest.Want{policytest.Warn(gpu.PausedDefaultID, pausedPath, "the tier is undetermined", "NVIDIA Dynamo scaling adapter")}},
		"a Dynamo scaling adapter in a GPU namespace": {docs: namespace("{scaleguard.io/tier: gpu}") + on("nvidia.com/v1alpha1", "DynamoGraphDeploymentScalingAdapter"),
			want: []policytest.Want{
				policytest.Mutate(gpu.PausedDefaultID, pausedPath, "runs on a GPU tier (the namespace label only"),
				policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "scaleguard cannot count the GPUs"),
			}},
		"a CRD of the cluster's own stays silent": {docs: on("example.com/v1", "Widget")},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			policytest.Expect(t, gpuRules(policytest.Admit(t, c.docs).Result.Findings), c.want...)
		})
	}
}
