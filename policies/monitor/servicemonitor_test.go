package monitor_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies/monitor"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// service is a Service in namespace serving selecting the "chat" pods,
// with labels and ports (YAML flow).
func service(name, labels, ports string) string {
	return `
apiVersion: v1
kind: Service
metadata: {name: ` + name + `, namespace: serving, labels: ` + labels + `}
spec: {selector: {app: chat}, ports: ` + ports + `}
---
`
}

func serviceMonitor1(spec string) string {
	return `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: chat, namespace: serving}
spec: {` + spec + `}
`
}

func TestServiceMonitors(t *testing.T) {
	pods := deployment(`[{name: http, containerPort: 8000}]`)
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"a port name no Service has, one named port each": {
			docs: pods + service("chat", `{app: chat}`, `[{name: web, port: 80, targetPort: http}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: metrics}]`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, "spec.endpoints[0].port",
				`port "metrics" names no port of the Services it selects (Service "chat" has "web" 80→http)`, "rewritten to port: web")},
		},
		"a port name no Service has, several ports": {
			docs: pods + service("chat", `{app: chat}`, `[{name: web, port: 80, targetPort: http}, {name: grpc, port: 9000}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: metrics}]`),
			want: []policytest.Want{policytest.Deny(monitor.PortID, "spec.endpoints[0].port",
				`"web" 80→http, "grpc" 9000→9000`, "name the Service port that serves metrics here")},
		},
		"a number written as a Service port name": {
			docs: pods + service("chat", `{app: chat}`, `[{port: 80, targetPort: 8000}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: "8000"}]`),
			want: []policytest.Want{policytest.Deny(monitor.PortID, "spec.endpoints[0].port",
				`port "8000" is a Service port name (a string), not a number`, "unnamed 80→8000", "targetPort takes a container port number")},
		},
		"a port name a Service has": {
			docs: pods + service("chat", `{app: chat}`, `[{name: web, port: 80, targetPort: http}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: web}]`),
		},
		"a targetPort the pods declare": {
			docs: pods + service("chat", `{app: chat}`, `[{name: web, port: 80, targetPort: http}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{targetPort: 8000}]`),
		},
		"a targetPort the pods do not declare": {
			docs: pods + service("chat", `{app: chat}`, `[{name: web, port: 80, targetPort: http}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{targetPort: 9090}]`),
			want: []policytest.Want{policytest.Deny(monitor.PortID, "spec.endpoints[0].targetPort",
				"9090 is not a declared container port of the pods behind the Services it selects", `Deployment "chat" declare "http" (8000)`)},
		},
		"a targetPort name the pods do not declare": {
			docs: pods + service("chat", `{app: chat}`, `[{name: web, port: 80, targetPort: http}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{targetPort: metrics}]`),
			want: []policytest.Want{policytest.Deny(monitor.PortID, "spec.endpoints[0].targetPort",
				`"metrics" names no container port of the pods behind the Services`, "write targetPort: <one of http> or targetPort: <one of 8000>")},
		},
		"no Service matches": {
			docs: pods + serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: web}]`),
			want: []policytest.Want{policytest.Warn(monitor.NoTargetsID, "spec.selector", `selects no Services now: no Service in namespace "serving" has labels matching app=chat`)},
		},
		"an overmatch through a targetPort endpoint is not judged": {
			docs: pods + service("chat", `{app: chat}`, `[{name: web, port: 80, targetPort: http}]`) +
				service("chat-admin", `{app: chat}`, `[{name: admin, port: 81, targetPort: 9999}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{targetPort: 8000}]`),
		},
		"an overmatch narrowed by a label of its own": {
			docs: pods + service("chat", `{app: chat, tier: api}`, `[{name: web, port: 80, targetPort: http}]`) +
				service("chat-admin", `{app: chat, tier: admin}`, `[{name: admin, port: 81, targetPort: 9999}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: web}]`),
			want: []policytest.Want{policytest.Mutate(monitor.OvermatchID, "spec.selector.matchLabels",
				`also matches Service "chat-admin", which has no port "web"`, "narrowed with tier: api")},
		},
		"an overmatch from matchExpressions only": {
			docs: pods + service("chat", `{app: chat, tier: api}`, `[{name: web, port: 80, targetPort: http}]`) +
				service("chat-admin", `{app: chat, tier: admin}`, `[{name: admin, port: 81, targetPort: 9999}]`) +
				serviceMonitor1(`selector: {matchExpressions: [{key: app, operator: Exists}]}, endpoints: [{port: web}]`),
			want: []policytest.Want{policytest.Mutate(monitor.OvermatchID, "spec.selector.matchLabels", "narrowed with tier: api")},
		},
		"a Service whose endpoints are written by hand": {
			docs: `
apiVersion: v1
kind: Service
metadata: {name: external-vllm, namespace: serving, labels: {app: chat}}
spec: {ports: [{name: web, port: 80}]}
---
` + serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: metrics}]`),
		},
		"two endpoints, each served by one Service": {
			docs: pods + service("chat", `{app: chat, tier: api}`, `[{name: web, port: 80, targetPort: http}]`) +
				service("chat-admin", `{app: chat, tier: admin}`, `[{name: admin, port: 81, targetPort: 9999}]`) +
				serviceMonitor1(`selector: {matchLabels: {app: chat}}, endpoints: [{port: web}, {port: admin}]`),
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, family(got.Result.Findings), c.want...)
			if !got.Result.Denied() {
				again(t, c.docs, got)
			}
		})
	}
}

// TestSelectionThatCanNeverMatch: a namespace name or selector value that
// is not valid (an unrendered Helm template) is denied at its field.
func TestSelectionThatCanNeverMatch(t *testing.T) {
	pods := deployment(`[{name: http, containerPort: 8000}]`)
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"an unrendered namespace": {
			docs: pods + podMonitorIn("monitoring", `namespaceSelector: {matchNames: ["{{ .Release.Namespace }}"]}, selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want: []policytest.Want{policytest.Deny(monitor.NoTargetsID, "spec.namespaceSelector.matchNames[0]",
				`"{{ .Release.Namespace }}" is not a valid namespace name (an unrendered template?), so it can never match`)},
		},
		"an unrendered namespace beside a valid one": {
			docs: pods + podMonitorIn("monitoring", `namespaceSelector: {matchNames: [serving, "{{ .Values.ns }}"]}, selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
			want: []policytest.Want{policytest.Deny(monitor.NoTargetsID, "spec.namespaceSelector.matchNames[1]", `"{{ .Values.ns }}"`)},
		},
		"matchNames is ignored with any: true": {
			docs: pods + podMonitorIn("monitoring", `namespaceSelector: {any: true, matchNames: ["{{ .Release.Namespace }}"]}, selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http}]`),
		},
		"an unrendered label value": {
			docs: pods + serviceMonitor1(`selector: {matchLabels: {app: "{{ .Values.app }}"}}, endpoints: [{port: web}]`),
			want: []policytest.Want{policytest.Deny(monitor.NoTargetsID, "spec.selector.matchLabels[app]",
				`value "{{ .Values.app }}" is not a valid label value (an unrendered template?)`, "prometheus-operator rejects the monitor", "render the template")},
		},
		"an invalid expression": {
			docs: pods + podMonitor1(`selector: {matchExpressions: [{key: app, operator: In}]}, podMetricsEndpoints: [{port: http}]`),
			want: []policytest.Want{policytest.Deny(monitor.NoTargetsID, "spec.selector.matchExpressions[0].values", "operator In needs at least one value")},
		},
		"an unrendered expression value": {
			docs: pods + podMonitor1(`selector: {matchExpressions: [{key: app, operator: In, values: [chat, "${APP}"]}]}, podMetricsEndpoints: [{port: http}]`),
			want: []policytest.Want{policytest.Deny(monitor.NoTargetsID, "spec.selector.matchExpressions[0].values[1]", `"${APP}" is not a valid label value`)},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, family(got.Result.Findings), c.want...)
		})
	}
}
