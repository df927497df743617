package targetref_test

import (
	"strings"
	"testing"

	_ "github.com/scaleguard/scaleguard/policies/gpu"
	"github.com/scaleguard/scaleguard/policies/policytest"
	"github.com/scaleguard/scaleguard/policies/targetref"
)

// TestTargetRefAgreesWithTheGPUTier: target-ref says a target does not
// exist yet exactly when the GPU rules cannot find it either; when the GPU
// rules judged the target (or the InferenceService generating it), no
// finding claims it is missing.
func TestTargetRefAgreesWithTheGPUTier(t *testing.T) {
	gpuISVC := strings.Replace(isvc, "    model: {modelFormat: {name: huggingface}}",
		"    model: {modelFormat: {name: huggingface}, resources: {limits: {nvidia.com/gpu: \"1\"}}}", 1)
	lws := "apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\nmetadata: {name: llm, namespace: serving}\n" +
		"spec:\n  leaderWorkerTemplate:\n    size: 2\n    workerTemplate: {spec: {containers: [{name: vllm, image: vllm, resources: {limits: {nvidia.com/gpu: \"1\"}}}]}}\n---\n"
	for name, docs := range map[string]string{
		"predictor of a GPU InferenceService":     gpuISVC + scaledObject(`{name: llm-predictor}`),
		"predictor with no InferenceService":      scaledObject(`{name: llm-predictor}`),
		"a LeaderWorkerSet":                       lws + scaledObject(`{apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet, name: llm}`),
		"a LeaderWorkerSet not applied yet":       scaledObject(`{apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet, name: llm}`),
		"a Deployment":                            deployment + scaledObject(`{name: llm}`),
		"a Deployment not applied yet":            scaledObject(`{name: llm}`),
		"an operator kind scaleguard cannot read": scaledObject(`{apiVersion: production-stack.vllm.ai/v1alpha1, kind: VLLMRuntime, name: llm}`),
		"a ModelServing":                          modelServing + scaledObject(`{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`),
	} {
		t.Run(name, func(t *testing.T) {
			fs := policytest.Admit(t, docs).Result.Findings
			var missing, gpuMissing, gpuJudged bool
			for _, f := range fs {
				switch {
				case f.Rule == targetref.ID && strings.Contains(f.Message, "does not exist"):
					missing = true
				case strings.HasPrefix(f.Rule, "gpu-") && strings.Contains(f.Message, "does not exist"):
					gpuMissing = true
				case strings.HasPrefix(f.Rule, "gpu-"):
					gpuJudged = true
				}
			}
			if missing && gpuJudged {
				t.Errorf("target-ref says the target is missing while the GPU rules judged it:\n%v", fs)
			}
			if missing != gpuMissing {
				t.Errorf("target-ref missing=%v, GPU rules missing=%v:\n%v", missing, gpuMissing, fs)
			}
		})
	}
}
