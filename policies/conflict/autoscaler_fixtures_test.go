package conflict_test

import "fmt"

// Cataloged autoscalers in the shape their projects publish them, in
// namespace "serving".

// podAutoscaler is an AIBrix PodAutoscaler (config/samples and
// benchmarks/scenarios/autoscaling, vllm-project/aibrix v0.7.0) on the
// Deployment target with the given strategy (HPA, KPA, APA).
func podAutoscaler(name, target, strategy string) string {
	return fmt.Sprintf(`
apiVersion: autoscaling.aibrix.ai/v1alpha1
kind: PodAutoscaler
metadata:
  name: %s
  namespace: serving
  labels: {app.kubernetes.io/name: aibrix, app.kubernetes.io/managed-by: kustomize}
spec:
  scalingStrategy: %s
  minReplicas: 1
  maxReplicas: 8
  metricsSources:
    - metricSourceType: pod
      protocolType: http
      port: '8000'
      path: /metrics
      targetMetric: gpu_cache_usage_perc
      targetValue: '50'
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %s
---
`, name, strategy, target)
}

// nimService is a NIMService (config/samples/nim/serving/standalone,
// NVIDIA/k8s-nim-operator v3.1.2) with the given scaling lines under spec.
func nimService(name, scaling string) string {
	return fmt.Sprintf(`
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata: {name: %s, namespace: serving}
spec:
  image:
    repository: nvcr.io/nim/meta/llama-3.2-1b-instruct
    tag: "1.8"
    pullPolicy: IfNotPresent
    pullSecrets: [ngc-secret]
  authSecret: ngc-api-secret
  storage:
    nimCache: {name: meta-llama-3-2-1b-instruct, profile: ''}
  resources:
    limits: {nvidia.com/gpu: 1}
  expose:
    service: {type: ClusterIP, port: 8000}
%s---
`, name, scaling)
}

const nimScale = `  scale:
    enabled: true
    hpa:
      maxReplicas: 2
      minReplicas: 1
      metrics:
      - type: Object
        object:
          metric: {name: gpu_cache_usage_perc}
          describedObject: {apiVersion: v1, kind: Service, name: meta-llama-3-2-1b-instruct}
          target: {type: Value, value: "0.5"}
`

// knativeService is a Knative Serving Service (docs/serving, knative
// v1.23) with the given template metadata lines.
func knativeService(name, templateMeta string) string {
	return fmt.Sprintf(`
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: %s, namespace: serving}
spec:
  template:
    metadata:
%s    spec:
      containers:
        - image: vllm/vllm-openai:v0.11.0
          args: ["--model", "Qwen/Qwen2.5-0.5B-Instruct"]
          ports: [{containerPort: 8000}]
---
`, name, templateMeta)
}

// kubeAIModel is a KubeAI Model (charts/models and
// docs/how-to/configure-autoscaling.md, substratusai/kubeai v0.21.0).
func kubeAIModel(name, extra string) string {
	return fmt.Sprintf(`
apiVersion: kubeai.org/v1
kind: Model
metadata: {name: %s, namespace: serving}
spec:
  features: [TextGeneration]
  url: hf://Qwen/Qwen2.5-0.5B-Instruct
  engine: VLLM
  resourceProfile: nvidia-gpu-l4:1
  minReplicas: 1
  maxReplicas: 9
  targetRequests: 250
%s---
`, name, extra)
}

// inferenceSet is a KAITO InferenceSet (website/docs/keda-autoscaler-inference.md,
// kaito v0.12.0) with the given annotations (flow YAML entries).
func inferenceSet(apiVersion, name, annotations string) string {
	ann := ""
	if annotations != "" {
		ann = ", annotations: {" + annotations + "}"
	}
	return fmt.Sprintf(`
apiVersion: %s
kind: InferenceSet
metadata: {name: %s, namespace: serving%s}
spec:
  labelSelector:
    matchLabels: {apps: %s}
  replicas: 1
  template:
    inference:
      preset: {accessMode: public, name: phi-4-mini-instruct}
    resource: {instanceType: Standard_NC24ads_A100_v4}
---
`, apiVersion, name, ann, name)
}

const kaitoAutoProvision = `scaledobject.kaito.sh/auto-provision: "true", scaledobject.kaito.sh/max-replicas: "5", scaledobject.kaito.sh/threshold: "10"`
