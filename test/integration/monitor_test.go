package integration

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

// monitorFixture reads a multi-document fixture of the monitor rules' unit
// tests, moved to namespace ns (from the namespace it names, from).
func monitorFixture(t *testing.T, name, from, ns string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.Root, "policies", "monitor", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "namespace: "+from, "namespace: "+ns)
	objs, err := manifests.Parse(name, strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, o := range objs {
		u := &unstructured.Unstructured{}
		if err := json.Unmarshal(o.JSON, &u.Object); err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
	}
	return out
}

// ruleWarnings keeps the warnings of one rule.
func ruleWarnings(warns []string, rule string) []string {
	var out []string
	for _, w := range warns {
		if strings.HasPrefix(w, "["+rule+"] ") {
			out = append(out, w)
		}
	}
	return out
}

// reapply updates the object the API server returned, as a second apply
// of it would, and expects admission to leave it exactly as it was (no
// patch: an unchanged object keeps its resourceVersion) and to say
// nothing.
func reapply(t *testing.T, c client.Client, warns *[]string, stored *unstructured.Unstructured) {
	t.Helper()
	*warns = nil
	again := stored.DeepCopy()
	if err := c.Update(context.Background(), again); err != nil {
		t.Fatalf("second apply: %v", err)
	}
	if again.GetResourceVersion() != stored.GetResourceVersion() {
		a, _ := json.Marshal(again.Object["spec"])
		s, _ := json.Marshal(stored.Object["spec"])
		t.Errorf("second apply changed the object:\n%s\nwas\n%s", a, s)
	}
	if len(*warns) != 0 {
		t.Errorf("second apply warned: %q", *warns)
	}
}

// TestMonitorKthenaPRPodMonitorComesBackScraping applies the Kthena KEDA
// pull request's PodMonitor (port "http" over pods that expose only
// containerPort 8000, the deprecated targetPort beside it) after its
// ModelServing: the API server stores it with portNumber 8000, and a
// second apply of what it returned is not patched again.
func TestMonitorKthenaPRPodMonitorComesBackScraping(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	ns := "mon-kthena-pr"
	namespace(t, c, ns)
	objs := monitorFixture(t, "kthena-pr.yaml", "default", ns)
	createSeen(t, c, objs[0]) // the ModelServing
	warns = nil
	pm := objs[1]
	if err := c.Create(context.Background(), pm); err != nil {
		t.Fatalf("PodMonitor: %v", err)
	}
	ep := pm.Object["spec"].(map[string]any)["podMetricsEndpoints"].([]any)[0].(map[string]any)
	if _, has := ep["port"]; has {
		t.Errorf("port kept: %v", ep)
	}
	if _, has := ep["targetPort"]; has {
		t.Errorf("targetPort kept: %v", ep)
	}
	if n, _ := ep["portNumber"].(int64); n != 8000 {
		t.Errorf("portNumber %v, want 8000: %v", ep["portNumber"], ep)
	}
	got := ruleWarnings(warns, "monitor-port")
	if len(got) != 1 || !strings.Contains(got[0], `mutated spec.podMetricsEndpoints[0].port: port "http" names no container port`) ||
		!strings.Contains(got[0], "rewritten to portNumber: 8000") {
		t.Errorf("monitor-port warnings the client saw: %q", warns)
	}
	reapply(t, c, &warns, pm)
}

// TestMonitorServiceMonitorComesBackNarrowed applies the kthena-router
// Services of Kthena's current chart and a ServiceMonitor over the
// release's common label: it is stored narrowed to the metrics Service,
// and stays so on a second apply.
func TestMonitorServiceMonitorComesBackNarrowed(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	ns := "mon-router"
	namespace(t, c, ns)
	objs := monitorFixture(t, "kthena-router-metrics.yaml", "kthena-system", ns)
	for _, svc := range objs[:3] {
		createSeen(t, c, svc)
	}
	warns = nil
	sm := objs[3]
	if err := c.Create(context.Background(), sm); err != nil {
		t.Fatalf("ServiceMonitor: %v", err)
	}
	sel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
	if len(sel) != 2 || sel["app.kubernetes.io/component"] != "kthena-router-metrics" || sel["app.kubernetes.io/instance"] != "kthena" {
		t.Errorf("selector stored: %v", sel)
	}
	if got := ruleWarnings(warns, "monitor-selector-overmatch"); len(got) != 1 ||
		!strings.Contains(got[0], "narrowed with app.kubernetes.io/component: kthena-router-metrics") {
		t.Errorf("warnings the client saw: %q", warns)
	}
	reapply(t, c, &warns, sm)
}

// TestMonitorDenials: a port no pod declares, with no single port to
// rewrite to, and a namespace left as an unrendered template, are refused
// with their fields.
func TestMonitorDenials(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	ns := "mon-deny"
	namespace(t, c, ns)
	createSeen(t, c, fromYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: mon-deny}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec: {containers: [{name: vllm, image: vllm/vllm-openai, ports: [{name: http, containerPort: 8000}, {name: grpc, containerPort: 9000}]}]}
`))
	err := c.Create(context.Background(), fromYAML(t, `
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: chat, namespace: mon-deny}
spec:
  selector: {matchLabels: {app: chat}}
  podMetricsEndpoints: [{port: metrics}]
`))
	cfDenied(t, err, "monitor-port", "spec.podMetricsEndpoints[0].port", `port "metrics" names no container port`, `"http" (8000), "grpc" (9000)`)

	err = c.Create(context.Background(), fromYAML(t, `
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: chat, namespace: mon-deny}
spec:
  namespaceSelector: {matchNames: ["{{ .Release.Namespace }}"]}
  selector: {matchLabels: {app: chat}}
  endpoints: [{port: http}]
`))
	cfDenied(t, err, "monitor-no-targets", "spec.namespaceSelector.matchNames[0]", "unrendered template")
}

// TestMonitorWebhooksFailClosed reads the validating configuration the API
// server uses: the monitors' webhooks fail closed (their rules can deny),
// the ModelServing one fails open (scaleguard only warns about them).
func TestMonitorWebhooksFailClosed(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	var val admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(context.Background(), client.ObjectKey{Name: "scaleguard-validating"}, &val); err != nil {
		t.Fatal(err)
	}
	want := map[string]admissionregistrationv1.FailurePolicyType{
		"podmonitor.validate.scaleguard.io":     admissionregistrationv1.Fail,
		"servicemonitor.validate.scaleguard.io": admissionregistrationv1.Fail,
		"modelserving.validate.scaleguard.io":   admissionregistrationv1.Ignore,
	}
	for _, w := range val.Webhooks {
		if p, ok := want[w.Name]; ok {
			if w.FailurePolicy == nil || *w.FailurePolicy != p {
				t.Errorf("%s: failurePolicy %v, want %s", w.Name, w.FailurePolicy, p)
			}
			delete(want, w.Name)
		}
	}
	if len(want) != 0 {
		t.Errorf("not configured: %v", want)
	}
}
