package monitor_test

import (
	"strconv"
	"testing"

	"github.com/scaleguard/scaleguard/policies/monitor"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// deployment is a vLLM Deployment "chat" in namespace serving declaring
// the given container ports (a YAML flow sequence).
func deployment(ports string) string {
	return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: serving}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat, app.kubernetes.io/part-of: llm}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          ports: ` + ports + `
---
`
}

// podMonitorIn is a PodMonitor "chat" in a namespace with a spec (YAML flow
// mapping entries).
func podMonitorIn(ns, spec string) string {
	return `
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: chat, namespace: ` + ns + `}
spec: {` + spec + `}
`
}

func podMonitor1(spec string) string { return podMonitorIn("serving", spec) }

func TestMonitorPortOnPodMonitors(t *testing.T) {
	const ep = "spec.podMetricsEndpoints[0]"
	unnamed := deployment(`[{containerPort: 8000}]`)
	named := deployment(`[{name: metrics, containerPort: 9090}]`)
	two := deployment(`[{name: http, containerPort: 8000}, {name: grpc, containerPort: 9000}]`)
	cases := map[string]struct {
		docs string
		want []policytest.Want
		// port, portNumber and targetPort of the endpoint after admission
		// ("-" for absent).
		after [3]string
	}{
		"a name no pod declares, over one unnamed port": {
			docs:  unnamed + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", `port "http" names no container port`, `Deployment "chat" declare 8000 (unnamed)`, "rewritten to portNumber: 8000, the one port they declare")},
			after: [3]string{"-", "8000", "-"},
		},
		"a name no pod declares, over one named port": {
			docs:  named + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", `"metrics" (9090)`, "rewritten to portNumber: 9090")},
			after: [3]string{"-", "9090", "-"},
		},
		"a name no pod declares, over two ports: denied": {
			docs: two + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: metrics}]`),
			want: []policytest.Want{policytest.Deny(monitor.PortID, ep+".port", `port "metrics" names no container port`,
				`"http" (8000), "grpc" (9000)`, "write port: <one of http, grpc> or portNumber: <one of 8000, 9000>")},
			after: [3]string{"metrics", "-", "-"},
		},
		"a name no pod declares, with the number beside it": {
			docs:  two + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: metrics, targetPort: 9000}]`),
			want:  []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", "rewritten to portNumber: 9000, the targetPort written beside it")},
			after: [3]string{"-", "9000", "-"},
		},
		"a number written as a string": {
			docs: unnamed + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: "8000"}]`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", `"8000" is a port name (a string)`, "port names need a letter",
				"rewritten to portNumber: 8000, the field that takes a number")},
			after: [3]string{"-", "8000", "-"},
		},
		"a number written as a string, before its workload": {
			docs: podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: "8000"}]`),
			want: []policytest.Want{
				policytest.Mutate(monitor.PortID, ep+".port", "rewritten to portNumber: 8000"),
				policytest.Warn(monitor.NoTargetsID, "spec.selector", "selects no pods now"),
			},
			after: [3]string{"-", "8000", "-"},
		},
		"a number written as a string the pods do not declare": {
			docs:  two + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: "8080"}]`),
			want:  []policytest.Want{policytest.Deny(monitor.PortID, ep+".port", `port "8080" is a port name (a string), not a number`)},
			after: [3]string{"8080", "-", "-"},
		},
		"a name the pods declare": {
			docs:  named + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: metrics}]`),
			after: [3]string{"metrics", "-", "-"},
		},
		"a regular expression that matches a declared name": {
			docs:  two + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: "metrics|grpc"}]`),
			after: [3]string{"metrics|grpc", "-", "-"},
		},
		"a portNumber the pods declare": {
			docs:  unnamed + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{portNumber: 8000}]`),
			after: [3]string{"-", "8000", "-"},
		},
		"a portNumber the pods do not declare": {
			docs: unnamed + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{portNumber: 8080}]`),
			want: []policytest.Want{policytest.Deny(monitor.PortID, ep+".portNumber", "8080 is not a declared container port",
				"Prometheus keeps only declared ports", "write portNumber: 8000, or declare containerPort 8080")},
			after: [3]string{"-", "8080", "-"},
		},
		"pods that declare no port": {
			docs:  deployment(`[]`) + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Deny(monitor.PortID, ep+".port", `Deployment "chat" declare no ports`, "declare the metrics port in the pod template")},
			after: [3]string{"http", "-", "-"},
		},
		"a port a service mesh injects": {
			docs:  unnamed + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http-envoy-prom}]`),
			after: [3]string{"http-envoy-prom", "-", "-"},
		},
		"no port at all: every declared port is scraped": {
			docs:  unnamed + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{path: /metrics}]`),
			after: [3]string{"-", "-", "-"},
		},
		"the selector selects nothing: no port verdict": {
			docs:  unnamed + podMonitor1(`selector: {matchLabels: {app: other}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Warn(monitor.NoTargetsID, "spec.selector", "selects no pods now", `namespace "serving"`, "app=other")},
			after: [3]string{"http", "-", "-"},
		},
		"the workload in another namespace than the monitor's": {
			docs:  unnamed + podMonitorIn("monitoring", `selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Warn(monitor.NoTargetsID, "spec.selector", `namespace "monitoring"`)},
			after: [3]string{"http", "-", "-"},
		},
		"namespaceSelector.matchNames reaches the workload": {
			docs:  unnamed + podMonitorIn("monitoring", `namespaceSelector: {matchNames: [serving]}, selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", "rewritten to portNumber: 8000")},
			after: [3]string{"-", "8000", "-"},
		},
		"namespaceSelector.any reaches the workload": {
			docs:  unnamed + podMonitorIn("monitoring", `namespaceSelector: {any: true}, selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", "rewritten to portNumber: 8000")},
			after: [3]string{"-", "8000", "-"},
		},
		"a selector on a label the controller sets per pod may match": {
			docs:  unnamed + podMonitor1(`selector: {matchLabels: {app: chat, pod-template-hash: 5d8f7c9b4}}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", "rewritten to portNumber: 8000")},
			after: [3]string{"-", "8000", "-"},
		},
		"matchExpressions": {
			docs:  unnamed + podMonitor1(`selector: {matchExpressions: [{key: app.kubernetes.io/part-of, operator: In, values: [llm]}, {key: canary, operator: DoesNotExist}]}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Mutate(monitor.PortID, ep+".port", "rewritten to portNumber: 8000")},
			after: [3]string{"-", "8000", "-"},
		},
		"matchExpressions that exclude the workload": {
			docs:  unnamed + podMonitor1(`selector: {matchExpressions: [{key: app, operator: NotIn, values: [chat]}]}, podMetricsEndpoints: [{port: http}]`),
			want:  []policytest.Want{policytest.Warn(monitor.NoTargetsID, "spec.selector", "selects no pods now", "app notin (chat)")},
			after: [3]string{"http", "-", "-"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, family(got.Result.Findings), c.want...)
			e := podMonitor(t, got.Result.Object).Spec.PodMetricsEndpoints[0]
			have := [3]string{"-", "-", "-"}
			if e.Port != nil {
				have[0] = *e.Port
			}
			if e.PortNumber != nil {
				have[1] = strconv.Itoa(int(*e.PortNumber))
			}
			if e.TargetPort != nil {
				have[2] = e.TargetPort.String()
			}
			if have != c.after {
				t.Errorf("endpoint after admission: port, portNumber, targetPort = %q, want %q", have, c.after)
			}
			if !got.Result.Denied() {
				again(t, c.docs, got)
			}
		})
	}
}
