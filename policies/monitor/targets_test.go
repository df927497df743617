package monitor_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies/monitor"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// TestWorkloadKinds resolves a PodMonitor through every kind of workload
// scaleguard reads, with the labels its controller gives the pods.
func TestWorkloadKinds(t *testing.T) {
	const port = "spec.podMetricsEndpoints[0].port"
	pm := func(selector string) string {
		return podMonitor1(`selector: ` + selector + `, podMetricsEndpoints: [{port: http}]`)
	}
	const lws = `
apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata: {name: llama, namespace: serving}
spec:
  replicas: 1
  leaderWorkerTemplate:
    size: 2
    leaderTemplate:
      metadata: {labels: {role: leader}}
      spec: {containers: [{name: vllm, image: vllm, ports: [{containerPort: 8080}]}]}
    workerTemplate:
      metadata: {labels: {role: worker}}
      spec: {containers: [{name: vllm, image: vllm}]}
---
`
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"StatefulSet": {
			docs: `
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sglang, namespace: serving}
spec:
  serviceName: sglang
  selector: {matchLabels: {app: sglang}}
  template:
    metadata: {labels: {app: sglang}}
    spec: {containers: [{name: sglang, image: sglang, ports: [{containerPort: 30000}]}]}
---
` + pm(`{matchLabels: {app: sglang}}`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, port, `StatefulSet "sglang" declare 30000 (unnamed)`, "portNumber: 30000")},
		},
		"DaemonSet": {
			// NVIDIA dcgm-exporter's chart runs it as a DaemonSet with a
			// "metrics" port.
			docs: `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: dcgm-exporter, namespace: serving}
spec:
  selector: {matchLabels: {app.kubernetes.io/name: dcgm-exporter}}
  template:
    metadata: {labels: {app.kubernetes.io/name: dcgm-exporter}}
    spec: {containers: [{name: exporter, image: dcgm-exporter, ports: [{name: metrics, containerPort: 9400}]}]}
---
` + podMonitor1(`selector: {matchLabels: {app.kubernetes.io/name: dcgm-exporter}}, podMetricsEndpoints: [{port: metrics}]`),
		},
		"LeaderWorkerSet leader pods": {
			docs: lws + pm(`{matchLabels: {leaderworkerset.sigs.k8s.io/name: llama, leaderworkerset.sigs.k8s.io/worker-index: "0"}}`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, port, `LeaderWorkerSet "llama" leader pods declare 8080 (unnamed)`, "portNumber: 8080")},
		},
		"LeaderWorkerSet leader and worker pods": {
			docs: lws + pm(`{matchLabels: {leaderworkerset.sigs.k8s.io/name: llama}}`),
			want: []policytest.Want{policytest.Deny(monitor.PortID, port, `LeaderWorkerSet "llama" leader pods declare 8080 (unnamed); LeaderWorkerSet "llama" worker pods declare no ports`)},
		},
		"a StatefulSet a LeaderWorkerSet made is read as the LeaderWorkerSet": {
			docs: lws + `
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: llama
  namespace: serving
  ownerReferences: [{apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet, name: llama, uid: u1, controller: true}]
spec:
  serviceName: llama
  selector: {matchLabels: {role: leader}}
  template:
    metadata: {labels: {role: leader, leaderworkerset.sigs.k8s.io/name: llama}}
    spec: {containers: [{name: vllm, image: vllm, ports: [{containerPort: 9999}]}]}
---
` + pm(`{matchLabels: {role: leader}}`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, port, `LeaderWorkerSet "llama" leader pods`, "portNumber: 8080")},
		},
		"ModelServing entry and worker pods": {
			docs: `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: ds, namespace: serving}
spec:
  template:
    roles:
      - name: prefill
        workerReplicas: 1
        entryTemplate: {spec: {containers: [{name: vllm, image: vllm, ports: [{name: http, containerPort: 8000}]}]}}
        workerTemplate: {spec: {containers: [{name: vllm, image: vllm}]}}
---
` + pm(`{matchLabels: {modelserving.volcano.sh/name: ds}}`),
		},
		"ModelServing worker pods only": {
			docs: `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: ds, namespace: serving}
spec:
  template:
    roles:
      - name: prefill
        workerReplicas: 1
        entryTemplate: {spec: {containers: [{name: vllm, image: vllm, ports: [{name: http, containerPort: 8000}]}]}}
        workerTemplate: {spec: {containers: [{name: vllm, image: vllm, ports: [{containerPort: 8001}]}]}}
---
` + pm(`{matchLabels: {modelserving.volcano.sh/name: ds}, matchExpressions: [{key: modelserving.volcano.sh/entry, operator: DoesNotExist}]}`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, port, `ModelServing "ds" role "prefill" worker pods declare 8001 (unnamed)`)},
		},
		"Argo Rollout": {
			docs: `
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: chat, namespace: serving}
spec:
  template:
    metadata: {labels: {app: chat}}
    spec: {containers: [{name: vllm, image: vllm, ports: [{containerPort: 8000}]}]}
---
` + pm(`{matchLabels: {app: chat}}`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, port, `Rollout "chat" declare 8000 (unnamed)`)},
		},
		"KServe predictor whose ports come from its ServingRuntime": {
			docs: `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: qwen, namespace: serving}
spec:
  predictor:
    model: {modelFormat: {name: huggingface}}
---
` + pm(`{matchLabels: {serving.kserve.io/inferenceservice: qwen}}`),
		},
		"KServe predictor with its own container": {
			docs: `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: qwen, namespace: serving}
spec:
  predictor:
    containers: [{name: kserve-container, image: vllm, ports: [{containerPort: 8080, protocol: TCP}]}]
---
` + pm(`{matchLabels: {component: predictor, app: isvc.qwen-predictor}}`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, port, `InferenceService "qwen" predictor declare 8080 (unnamed)`)},
		},
		"KServe predictor whose Deployment exists is read from the Deployment": {
			docs: `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: qwen, namespace: serving}
spec:
  predictor:
    model: {modelFormat: {name: huggingface}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: qwen-predictor, namespace: serving}
spec:
  selector: {matchLabels: {app: isvc.qwen-predictor}}
  template:
    metadata: {labels: {app: isvc.qwen-predictor, serving.kserve.io/inferenceservice: qwen, component: predictor}}
    spec: {containers: [{name: kserve-container, image: vllm, ports: [{containerPort: 8080, protocol: TCP}]}]}
---
` + pm(`{matchLabels: {serving.kserve.io/inferenceservice: qwen}}`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, port, `Deployment "qwen-predictor" declare 8080 (unnamed)`)},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, family(got.Result.Findings), c.want...)
		})
	}
}
