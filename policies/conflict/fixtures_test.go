package conflict_test

import (
	"fmt"
	"strings"
)

// Real-shaped manifests for the tests, built from a few parameters. Every
// object lives in namespace "serving" unless a test says otherwise.

func deployment(name string, meta ...string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: serving%s}
spec:
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec: {containers: [{name: vllm, image: "vllm/vllm-openai:v0.11.0"}]}
---
`, name, extra(meta), name, name)
}

func modelServing(ns, name string, meta ...string) string {
	return fmt.Sprintf(`
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: %s, namespace: %s%s}
spec:
  replicas: 1
  template:
    roles:
      - name: decode
        replicas: 1
        workerReplicas: 0
        entryTemplate:
          spec: {containers: [{name: vllm, image: "vllm/vllm-openai:v0.11.0"}]}
---
`, name, ns, extra(meta))
}

// scaledObject is a ScaledObject in "serving" with the given
// scaleTargetRef (flow YAML) and optional extra metadata and spec lines.
func scaledObject(name, ref string, meta ...string) string {
	return scaledObjectIn("serving", name, ref, "", meta...)
}

func scaledObjectIn(ns, name, ref, specExtra string, meta ...string) string {
	return fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s, namespace: %s%s}
spec:
  scaleTargetRef: %s
  minReplicaCount: 1
  maxReplicaCount: 4%s
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        query: sum(vllm:num_requests_waiting{namespace="%s", model_name="llm"})
        threshold: "5"
---
`, name, ns, extra(meta), ref, specExtra, ns)
}

// hpa is an autoscaling/v2 HPA in "serving" on the given scaleTargetRef.
func hpa(name, ref string, meta ...string) string {
	return fmt.Sprintf(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: %s, namespace: serving%s}
spec:
  scaleTargetRef: %s
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
---
`, name, extra(meta), ref)
}

// isvc is an InferenceService "qwen" in "serving" with the given
// annotations (flow YAML entries) and extra spec.predictor lines.
func isvc(annotations string, predictorExtra ...string) string {
	return isvcWith(annotations, strings.Join(predictorExtra, ""), "")
}

// isvcWith is isvc with lines after the predictor (a transformer, status).
func isvcWith(annotations, predictorExtra, tail string) string {
	ann := ""
	if annotations != "" {
		ann = ", annotations: {" + annotations + "}"
	}
	return fmt.Sprintf(`
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: qwen, namespace: serving%s}
spec:
  predictor:
    minReplicas: 1
    maxReplicas: 4
    model:
      modelFormat: {name: huggingface}
      args: ["--model_name=qwen", "--model_id=Qwen/Qwen2.5-0.5B-Instruct"]
      resources: {limits: {cpu: "2", memory: 8Gi}}%s
%s---
`, ann, predictorExtra, tail)
}

const raw = `serving.kserve.io/deploymentMode: RawDeployment`

// ownedBy is an ownerReferences metadata entry.
func ownedBy(apiVersion, kind, name string, controller bool) string {
	return fmt.Sprintf(`ownerReferences: [{apiVersion: %s, kind: %s, name: %s, uid: 0d6a1b7c-1111-4222-8333-944445555666, controller: %t}]`,
		apiVersion, kind, name, controller)
}

func extra(meta []string) string {
	if len(meta) == 0 {
		return ""
	}
	return ", " + strings.Join(meta, ", ")
}
