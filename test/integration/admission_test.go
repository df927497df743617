package integration

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

func TestTargetAbsentIsAdmittedWithAWarning(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "tr-warn")
	so := fromYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: later, namespace: tr-warn}
spec:
  scaleTargetRef: {name: applied-later}
  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]
`)
	if err := c.Create(context.Background(), so); err != nil {
		t.Fatalf("create: %v", err)
	}
	var targetRef []string
	for _, w := range warns {
		if strings.HasPrefix(w, "[target-ref] ") {
			targetRef = append(targetRef, w)
		}
	}
	if len(targetRef) != 1 || !strings.HasPrefix(targetRef[0], "[target-ref] spec.scaleTargetRef.name: apps/v1 Deployment \"applied-later\" does not exist in namespace \"tr-warn\" yet") {
		t.Fatalf("warnings seen by the client: %q", warns)
	}
}

func TestCleanObjectIsAdmittedSilently(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "tr-clean")
	for _, doc := range []string{`
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: tr-clean}
spec:
  selector: {matchLabels: {app: llm}}
  template: {metadata: {labels: {app: llm}}, spec: {containers: [{name: c, image: vllm}]}}
`, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: tr-clean}
spec:
  scaleTargetRef: {name: llm}
  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]
`} {
		if err := c.Create(context.Background(), fromYAML(t, doc)); err != nil {
			t.Fatalf("create: %v", err)
		}
	}
	if len(warns) != 0 {
		t.Fatalf("unexpected warnings: %q", warns)
	}
}

// TestShippedConfigurationIsWhatTheAPIServerUses reads the webhook
// configurations back from the API server and shows that their
// namespaceSelector is in force: kube-system is not judged.
func TestShippedConfigurationIsWhatTheAPIServerUses(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	ctx := context.Background()
	var val admissionregistrationv1.ValidatingWebhookConfiguration
	if err := c.Get(ctx, client.ObjectKey{Name: "scaleguard-validating"}, &val); err != nil {
		t.Fatal(err)
	}
	var mut admissionregistrationv1.MutatingWebhookConfiguration
	if err := c.Get(ctx, client.ObjectKey{Name: "scaleguard-mutating"}, &mut); err != nil {
		t.Fatal(err)
	}
	// Every validating endpoint of the dispatch table, and the mutating
	// endpoints of the kinds a rule patches.
	want := map[webhooks.Phase]int{}
	for _, e := range webhooks.Endpoints() {
		if e.Phase == webhooks.Validating || webhooks.Mutates(policies.Default, e.Kind) {
			want[e.Phase]++
		}
	}
	if len(val.Webhooks) != want[webhooks.Validating] || len(mut.Webhooks) != want[webhooks.Mutating] || want[webhooks.Mutating] == 0 {
		t.Fatalf("%d validating and %d mutating webhooks installed, want %d and %d (the dispatch table)",
			len(val.Webhooks), len(mut.Webhooks), want[webhooks.Validating], want[webhooks.Mutating])
	}
	// A validating webhook fails closed for a kind some rule can refuse.
	failure := map[string]admissionregistrationv1.FailurePolicyType{}
	for _, e := range webhooks.Endpoints() {
		failure[strings.ToLower(e.Kind.GVK.Kind)+"."+string(e.Phase)+".scaleguard.io"] = webhooks.FailurePolicy(e, policies.Default)
	}
	for _, w := range val.Webhooks {
		if *w.FailurePolicy != failure[w.Name] || w.ClientConfig.URL == nil || !strings.HasPrefix(*w.ClientConfig.URL, "https://127.0.0.1:") {
			t.Errorf("%s: failurePolicy %s (want %s) url %v", w.Name, *w.FailurePolicy, failure[w.Name], w.ClientConfig.URL)
		}
	}
	for _, w := range mut.Webhooks {
		if *w.FailurePolicy != admissionregistrationv1.Ignore {
			t.Errorf("%s: failurePolicy %s", w.Name, *w.FailurePolicy)
		}
	}

	bad := fromYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: excluded, namespace: kube-system}
spec:
  scaleTargetRef: {kind: ModelServing, name: x}
  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]
`)
	if err := c.Create(ctx, bad); err != nil {
		t.Fatalf("kube-system is excluded by the shipped namespaceSelector, yet: %v", err)
	}
	if len(warns) != 0 {
		t.Fatalf("kube-system objects must not even be warned about: %q", warns)
	}
}

func TestProbesAndMetrics(t *testing.T) {
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + probeAddr + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", p, resp.Status)
		}
	}
	// Make sure at least one denial happened in this process.
	TestTargetRefDenialReachesClient(t)
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`scaleguard_findings_total{action="deny",kind="ScaledObject",rule="target-ref"}`,
		`controller_runtime_webhook_requests_total{code="200",webhook="/validate-keda-sh-v1alpha1-scaledobject"}`,
		`controller_runtime_webhook_latency_seconds_bucket{webhook="/mutate-keda-sh-v1alpha1-scaledobject"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestKubectlServerSideDryRun is what `kubectl apply --dry-run=server` and
// Argo CD's server-side diff see.
func TestKubectlServerSideDryRun(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "tr-kubectl")
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "so.yaml")
	if err := os.WriteFile(manifest, []byte(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: dry, namespace: tr-kubectl}
spec:
  scaleTargetRef: {kind: ModelServing, name: llm}
  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "--dry-run=server", "-f", manifest).CombinedOutput()
	if err == nil {
		t.Fatalf("kubectl accepted the object:\n%s", out)
	}
	for _, want := range []string{`The ScaledObject "dry" is invalid`, "spec.scaleTargetRef.apiVersion: Forbidden: [target-ref]", "apiVersion: workload.serving.volcano.sh/v1alpha1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl output lacks %q:\n%s", want, out)
		}
	}
}
