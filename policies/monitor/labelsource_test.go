package monitor_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/monitor"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// kthenaModel is the Kthena PR's ModelServing, its PodMonitor as
// scaleguard leaves it (port rewritten to portNumber 8000), and extra
// PodMonitor fields.
func kthenaModel(podMonitorExtra string) string {
	return `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: my-modelserving, namespace: kthena-demo}
spec:
  replicas: 1
  template:
    roles:
      - name: decode
        entryTemplate:
          metadata: {labels: {app: my-modelserving}}
          spec: {containers: [{name: vllm, image: vllm/vllm-openai:v0.11.0, ports: [{containerPort: 8000}]}]}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: inference-pods, namespace: kthena-demo}
spec:
  selector: {matchLabels: {modelserving.volcano.sh/name: my-modelserving}}
  podMetricsEndpoints: [{portNumber: 8000, path: /metrics}]
` + podMonitorExtra + `
---
`
}

// scaledObject scales the ModelServing on a query.
func scaledObject(query string) string {
	return `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: my-modelserving, namespace: kthena-demo, annotations: {autoscaling.keda.sh/paused: "true"}}
spec:
  scaleTargetRef: {apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: my-modelserving}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        threshold: "5"
        query: '` + query + `'
`
}

func TestPromQLLabelSource(t *testing.T) {
	const q = "spec.triggers[0].metadata.query"
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"a pod label no monitor copies": {
			docs: kthenaModel("") + scaledObject(`sum(vllm:num_requests_waiting{namespace="kthena-demo", modelserving_volcano_sh_name="my-modelserving"})`),
			want: []policytest.Want{policytest.Warn(monitor.LabelSourceID, q,
				"filters on modelserving_volcano_sh_name, which none of the monitors scraping the pods of ModelServing \"my-modelserving\" (PodMonitor \"inference-pods\") gives its series",
				"add podTargetLabels: [modelserving.volcano.sh/name] to PodMonitor \"inference-pods\"")},
		},
		"a pod label the monitor copies with podTargetLabels": {
			docs: kthenaModel("  podTargetLabels: [modelserving.volcano.sh/name]") +
				scaledObject(`sum(vllm:num_requests_waiting{namespace="kthena-demo", modelserving_volcano_sh_name="my-modelserving"})`),
		},
		"a pod label a relabeling writes": {
			docs: `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: my-modelserving, namespace: kthena-demo}
spec:
  template:
    roles:
      - name: decode
        entryTemplate: {spec: {containers: [{name: vllm, image: vllm, ports: [{containerPort: 8000}]}]}}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: inference-pods, namespace: kthena-demo}
spec:
  selector: {matchLabels: {modelserving.volcano.sh/name: my-modelserving}}
  podMetricsEndpoints:
    - portNumber: 8000
      relabelings: [{sourceLabels: [__meta_kubernetes_pod_label_modelserving_volcano_sh_name], targetLabel: modelserving_volcano_sh_name}]
---
` + scaledObject(`sum(vllm:num_requests_waiting{modelserving_volcano_sh_name="my-modelserving"})`),
		},
		"a labelmap relabeling may write any label": {
			docs: `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: my-modelserving, namespace: kthena-demo}
spec:
  template:
    roles:
      - name: decode
        entryTemplate: {spec: {containers: [{name: vllm, image: vllm, ports: [{containerPort: 8000}]}]}}
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: inference-pods, namespace: kthena-demo}
spec:
  selector: {matchLabels: {modelserving.volcano.sh/name: my-modelserving}}
  podMetricsEndpoints:
    - portNumber: 8000
      relabelings: [{action: labelmap, regex: __meta_kubernetes_pod_label_(.+)}]
---
` + scaledObject(`sum(vllm:num_requests_waiting{modelserving_volcano_sh_name="my-modelserving"})`),
		},
		"target labels every monitor produces": {
			docs: kthenaModel("") + scaledObject(`sum(vllm:num_requests_waiting{namespace="kthena-demo", pod=~"my-modelserving-.*", container="vllm", job="kthena-demo/inference-pods"})`),
		},
		"the metric's own labels": {
			docs: kthenaModel("") + scaledObject(`sum(vllm:num_requests_waiting{namespace="kthena-demo", model_name="qwen"})`),
		},
		"service on a PodMonitor's series": {
			docs: kthenaModel("") + scaledObject(`sum(vllm:num_requests_waiting{namespace="kthena-demo", service="my-modelserving"})`),
			want: []policytest.Want{policytest.Warn(monitor.LabelSourceID, q, "filters on service", "only a ServiceMonitor gives series a service label")},
		},
		"endpoint with portNumber": {
			docs: kthenaModel("") + scaledObject(`sum(vllm:num_requests_waiting{namespace="kthena-demo", endpoint="http"})`),
			want: []policytest.Want{policytest.Warn(monitor.LabelSourceID, q, "filters on endpoint", "selects its port by portNumber gives no endpoint label")},
		},
		"a matcher that accepts the empty value requires nothing": {
			docs: kthenaModel("") + scaledObject(`sum(vllm:num_requests_waiting{namespace="kthena-demo", modelserving_volcano_sh_name=~".*"})`),
		},
		"a shared component's metric": {
			docs: kthenaModel("") + scaledObject(`sum(kthena_router_active_downstream_requests{model="my-modelserving", service="kthena-router"})`),
		},
		"no monitor selects the target": {
			docs: strings.Replace(kthenaModel(""), "modelserving.volcano.sh/name: my-modelserving", "modelserving.volcano.sh/name: another", 1) +
				scaledObject(`sum(vllm:num_requests_waiting{modelserving_volcano_sh_name="my-modelserving"})`),
		},
		"a query that does not parse is promql-invalid's": {
			docs: kthenaModel("") + scaledObject(`sum(vllm:num_requests_waiting{modelserving_volcano_sh_name="x"`),
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, policytest.OnlyRule(got.Result.Findings, monitor.LabelSourceID), c.want...)
		})
	}
}

// TestPromQLLabelSourceThroughAServiceMonitor: vLLM production-stack's
// engine ServiceMonitor gives the series service and endpoint, not the
// pods' model label, which vLLM itself does not expose either.
func TestPromQLLabelSourceThroughAServiceMonitor(t *testing.T) {
	so := func(query string) string {
		return `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llama3, namespace: default}
spec:
  scaleTargetRef: {name: vllm-llama3-deployment-vllm}
  triggers:
    - type: prometheus
      metadata: {serverAddress: "http://prometheus:9090", threshold: "5", query: '` + query + `'}
`
	}
	const q = "spec.triggers[0].metadata.query"
	docs := testdata(t, "production-stack.yaml")
	got := policytest.Admit(t, docs+so(`sum(vllm:num_requests_waiting{namespace="default", service="vllm-llama3-engine-service", endpoint="service-port"})`))
	policytest.Expect(t, policytest.OnlyRule(got.Result.Findings, monitor.LabelSourceID))

	got = policytest.Admit(t, docs+so(`sum(vllm:num_requests_waiting{namespace="default", model="llama3"})`))
	policytest.Expect(t, policytest.OnlyRule(got.Result.Findings, monitor.LabelSourceID),
		policytest.Warn(monitor.LabelSourceID, q, "filters on model", `ServiceMonitor "vllm-engine-servicemonitor"`,
			`add podTargetLabels: [model] to ServiceMonitor "vllm-engine-servicemonitor"`))
}
