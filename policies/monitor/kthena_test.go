package monitor_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/monitor"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// TestKthenaPRPodMonitor is the Kthena KEDA pull request's PodMonitor:
// port "http" over pods that declare only containerPort 8000, and the
// deprecated targetPort 8000 beside it. It comes back scraping 8000, and a
// second apply of what came back is left alone.
func TestKthenaPRPodMonitor(t *testing.T) {
	docs := testdata(t, "kthena-pr.yaml")
	got := policytest.Admit(t, docs)
	policytest.Expect(t, family(got.Result.Findings),
		policytest.Mutate(monitor.PortID, "spec.podMetricsEndpoints[0].port",
			`port "http" names no container port of the pods it selects`,
			`ModelServing "my-modelserving" role "decode" entry pods declare 8000 (unnamed)`,
			"rewritten to portNumber: 8000, the targetPort written beside it"))
	ep := podMonitor(t, got.Result.Object).Spec.PodMetricsEndpoints[0]
	if ep.Port != nil || ep.TargetPort != nil || ep.PortNumber == nil || *ep.PortNumber != 8000 {
		t.Errorf("endpoint after admission: %+v, want portNumber 8000 alone", ep)
	}
	if ep.Path != "/metrics" || ep.Interval != "15s" {
		t.Errorf("the rest of the endpoint changed: %+v", ep)
	}
	again(t, docs, got)
}

// TestKthenaPRPodMonitorOnAnOldOperator: a PodMonitor CRD from before
// prometheus-operator v0.79 has no portNumber, so targetPort carries the
// number.
func TestKthenaPRPodMonitorOnAnOldOperator(t *testing.T) {
	res := admitOld(t, testdata(t, "kthena-pr.yaml"))
	policytest.Expect(t, family(res.Findings),
		policytest.Mutate(monitor.PortID, "spec.podMetricsEndpoints[0].port", "rewritten to targetPort: 8000"))
	ep := podMonitor(t, res.Object).Spec.PodMetricsEndpoints[0]
	if ep.Port != nil || ep.PortNumber != nil || ep.TargetPort == nil || ep.TargetPort.IntValue() != 8000 {
		t.Errorf("endpoint after admission: %+v, want targetPort 8000 alone", ep)
	}
	second := admitOld(t, testdata(t, "kthena-pr.yaml")+string(res.Object)+"\n")
	if len(second.Patch) != 0 || len(family(second.Findings)) != 0 {
		t.Errorf("second admission: patch %v, findings %v", second.Patch, second.Findings)
	}
}

// TestKthenaRouterV1ServiceMonitor is the exact Kthena case: the router's
// Service has "http", the webhook's has only "webhook", and both carry the
// same labels (Kthena's chart v1.0.0), so no label narrows the selector:
// the webhook Service is named in a warning.
func TestKthenaRouterV1ServiceMonitor(t *testing.T) {
	got := policytest.Admit(t, testdata(t, "kthena-router-v1.0.yaml"))
	policytest.Expect(t, family(got.Result.Findings),
		policytest.Warn(monitor.OvermatchID, "spec.selector",
			`app.kubernetes.io/component=kthena-router also matches Service "kthena-router-webhook", which has no port "http"`,
			"drop", `no label tells them from Service "kthena-router"`))
	if len(got.Result.Patch) != 0 {
		t.Errorf("patched: %v", got.Result.Patch)
	}
}

// TestKthenaRouterMetricsServiceMonitor: with the chart's metrics Service
// (its own component label), a ServiceMonitor over the release's common
// label also matches the router's and the webhook's Services; it comes back
// narrowed to the metrics Service, and stays so.
func TestKthenaRouterMetricsServiceMonitor(t *testing.T) {
	docs := testdata(t, "kthena-router-metrics.yaml")
	got := policytest.Admit(t, docs)
	policytest.Expect(t, family(got.Result.Findings),
		policytest.Mutate(monitor.OvermatchID, "spec.selector.matchLabels",
			`app.kubernetes.io/instance=kthena also matches Services "kthena-router" and "kthena-router-webhook", which have no port "metrics"`,
			"narrowed with app.kubernetes.io/component: kthena-router-metrics"))
	sel := serviceMonitor(t, got.Result.Object).Spec.Selector.MatchLabels
	if len(sel) != 2 || sel["app.kubernetes.io/component"] != "kthena-router-metrics" || sel["app.kubernetes.io/instance"] != "kthena" {
		t.Errorf("selector after admission: %v", sel)
	}
	again(t, docs, got)
}

// TestProductionStackMonitorsAreLeftAlone: vLLM production-stack's engine
// ServiceMonitor, as its chart renders it, is correct.
func TestProductionStackMonitorsAreLeftAlone(t *testing.T) {
	got := policytest.Admit(t, testdata(t, "production-stack.yaml"))
	policytest.Expect(t, family(got.Result.Findings))
	if len(got.Result.Patch) != 0 {
		t.Errorf("patched: %v", got.Result.Patch)
	}
}

func TestDeprecatedTargetPort(t *testing.T) {
	const tp = "spec.podMetricsEndpoints[0].targetPort"
	named := deployment(`[{name: metrics, containerPort: 9090}]`)
	cases := map[string]struct {
		docs string
		want []policytest.Want
		kept bool
	}{
		"beside a port that matches": {
			docs: named + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: metrics, targetPort: 9090}]`),
			want: []policytest.Want{policytest.Mutate(monitor.DeprecatedTargetPortID, tp, "is deprecated", "beside port, which takes precedence; removed, port kept")},
		},
		"beside portNumber": {
			docs: named + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{portNumber: 9090, targetPort: metrics}]`),
			want: []policytest.Want{policytest.Mutate(monitor.DeprecatedTargetPortID, tp, "beside portNumber")},
		},
		"beside a port, before the workload exists": {
			docs: podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: metrics, targetPort: 9090}]`),
			want: []policytest.Want{
				policytest.Mutate(monitor.DeprecatedTargetPortID, tp, "is deprecated"),
				policytest.Warn(monitor.NoTargetsID, "spec.selector", "selects no pods now"),
			},
		},
		"alone": {
			docs: named + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{targetPort: 9090}]`),
			kept: true,
		},
		"beside a port that matches nothing: monitor-port rewrites the endpoint": {
			docs: named + podMonitor1(`selector: {matchLabels: {app: chat}}, podMetricsEndpoints: [{port: http, targetPort: 9090}]`),
			want: []policytest.Want{policytest.Mutate(monitor.PortID, "spec.podMetricsEndpoints[0].port", "rewritten to portNumber: 9090, the targetPort written beside it")},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, family(got.Result.Findings), c.want...)
			if kept := podMonitor(t, got.Result.Object).Spec.PodMetricsEndpoints[0].TargetPort != nil; kept != c.kept {
				t.Errorf("targetPort kept: %v, want %v", kept, c.kept)
			}
			again(t, c.docs, got)
		})
	}
}

// TestMonitorPortFailsClosedOnlyWhereItDenies: the rules of the family that
// can refuse an object say so, which makes the PodMonitor and
// ServiceMonitor validating webhooks fail closed.
func TestMonitorPortFailsClosedOnlyWhereItDenies(t *testing.T) {
	for id, denies := range map[string]bool{
		monitor.PortID: true, monitor.NoTargetsID: true,
		monitor.DeprecatedTargetPortID: false, monitor.OvermatchID: false, monitor.LabelSourceID: false,
	} {
		r, ok := policies.Default.Get(id)
		if !ok {
			t.Fatalf("%s is not registered", id)
		}
		if r.Denies() != denies {
			t.Errorf("%s: Denies() = %v, want %v", id, r.Denies(), denies)
		}
		if r.Doc == "" || strings.Contains(r.Summary, "\n") {
			t.Errorf("%s: needs a doc and a one-line summary", id)
		}
	}
}

// TestMonitorOfAnyNamespaceFindsItsTargets: a PodMonitor of any namespace,
// in the monitoring stack's own, finds the engine it selects in another
// namespace and is left alone.
func TestMonitorOfAnyNamespaceFindsItsTargets(t *testing.T) {
	docs := testdata(t, "any-namespace.yaml")
	got := policytest.Admit(t, docs)
	policytest.Expect(t, family(got.Result.Findings))
	if len(got.Result.Patch) != 0 {
		t.Errorf("patched: %v", got.Result.Patch)
	}
	// With the port renamed, the engine in the other namespace is still
	// found, and the endpoint is rewritten to the one port it declares.
	renamed := policytest.Admit(t, strings.Replace(docs, "- port: http", "- port: metrics", 1))
	policytest.Expect(t, family(renamed.Result.Findings), policytest.Mutate(monitor.PortID, "spec.podMetricsEndpoints[0].port",
		`port "metrics" names no container port of the pods it selects`, `Deployment "vllm-llama" declare "http" (8000)`,
		"rewritten to portNumber: 8000"))
}
