package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/internal/keeper"
	"github.com/scaleguard/scaleguard/policies/gpu"
	"github.com/scaleguard/scaleguard/webhooks"
)

// runbookObjects reads the runbook's raw-vllm Deployment (nvidia.com/gpu: 1)
// and its ScaledObject (no pause decision, minReplicaCount 1) from
// examples/gpu, moved to namespace ns.
func runbookObjects(t *testing.T, ns string) (deployment, scaledObject *unstructured.Unstructured) {
	t.Helper()
	read := func(name string) *unstructured.Unstructured {
		b, err := os.ReadFile(filepath.Join(env.Root, "examples", "gpu", name))
		if err != nil {
			t.Fatal(err)
		}
		// The queries name the runbook's namespace; follow the move.
		u := fromYAML(t, strings.ReplaceAll(string(b), `namespace="serving"`, `namespace="`+ns+`"`))
		u.SetNamespace(ns)
		return u
	}
	return read("10-deployment-raw-vllm.yaml"), read("20-scaledobject-raw-vllm.yaml")
}

func getAnnotations(t *testing.T, c client.Client, ns, name string) map[string]string {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("keda.sh/v1alpha1")
	u.SetKind("ScaledObject")
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u.GetAnnotations()
}

func hasWarning(warns []string, prefix string, fragments ...string) bool {
	for _, w := range warns {
		if !strings.HasPrefix(w, prefix) {
			continue
		}
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(w, f)
		}
		if ok {
			return true
		}
	}
	return false
}

// eventually polls cond every 200ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("after %s: %s", timeout, what)
	return time.Time{}
}

func keeperEvent(t *testing.T, c client.Client, ns, name, reason string) *eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	if err := c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for i, e := range list.Items {
		if e.Regarding.Kind == "ScaledObject" && e.Regarding.Name == name && e.Reason == reason {
			return &list.Items[i]
		}
	}
	return nil
}

// waitUntilSeen waits until admission pauses a dry run of so: the webhook
// reads an informer cache, which sees an object created a moment ago only a
// moment later (a mutating call that misses the target and a validating
// call that sees it end in a gpu-unpaused denial, which a retry resolves).
func waitUntilSeen(t *testing.T, c client.Client, so *unstructured.Unstructured) {
	t.Helper()
	eventually(t, 10*time.Second, "admission never saw the GPU target of "+so.GetName(), func() bool {
		probe := so.DeepCopy()
		return c.Create(context.Background(), probe, client.DryRunAll) == nil && probe.GetAnnotations()[gpu.PausedAnnotation] == "true"
	})
}

func TestGPURunbookScaledObjectComesBackPaused(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "gpu-runbook")
	dep, so := runbookObjects(t, "gpu-runbook")
	ctx := context.Background()
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	waitUntilSeen(t, c, so)
	warns = nil
	if err := c.Create(ctx, so); err != nil {
		t.Fatalf("create: %v", err)
	}
	// The client's object is what the API server stored.
	if got := so.GetAnnotations(); len(got) != 1 || got[gpu.PausedAnnotation] != "true" {
		t.Errorf("stored annotations %v, want exactly autoscaling.keda.sh/paused: \"true\"", got)
	}
	if got := getAnnotations(t, c, "gpu-runbook", "raw-vllm"); got[gpu.PausedAnnotation] != "true" {
		t.Errorf("read back: annotations %v", got)
	}
	if !hasWarning(warns, "[gpu-paused-default] mutated metadata.annotations[autoscaling.keda.sh/paused]: ", `Deployment "raw-vllm" runs on a GPU tier`, "nvidia.com/gpu: 1") ||
		!hasWarning(warns, "[gpu-idle-cost] spec.minReplicaCount: ", "keeps 1 GPU (730 GPU-hours a month)") ||
		// The runbook's max() of the KV-cache fraction under AverageValue.
		!hasWarning(warns, "[promql-aggregation] spec.triggers[1].metadata.query: ", "outer max()") || len(warns) != 3 {
		t.Errorf("warnings seen by the client: %q", warns)
	}
}

// TestGPUFullUpdateWithoutTheAnnotationStaysPaused is KEDA's or KServe's
// controller writing the whole object back without the annotation (KServe
// replaces ScaledObjects on spec drift, dropping annotations it did not set).
func TestGPUFullUpdateWithoutTheAnnotationStaysPaused(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "gpu-update")
	dep, so := runbookObjects(t, "gpu-update")
	ctx := context.Background()
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	waitUntilSeen(t, c, so)
	if err := c.Create(ctx, so); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		_, desired := runbookObjects(t, "gpu-update")
		desired.SetResourceVersion(so.GetResourceVersion())
		desired.SetLabels(map[string]string{"scaledobject.keda.sh/name": "raw-vllm"})
		if i == 1 {
			desired.SetAnnotations(map[string]string{"serving.kserve.io/autoscalerClass": "keda"})
		}
		warns = nil
		if err := c.Update(ctx, desired); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		if got := desired.GetAnnotations(); got[gpu.PausedAnnotation] != "true" {
			t.Fatalf("update %d: stored annotations %v", i, got)
		}
		// The client is told why an update was paused.
		if !hasWarning(warns, "[gpu-paused-default] mutated metadata.annotations[autoscaling.keda.sh/paused]: ",
			`set to "true" on this update, which drops the stored pause decision`) {
			t.Errorf("update %d: warnings %q", i, warns)
		}
		so = desired
	}
	if got := so.GetAnnotations(); len(got) != 2 || got["serving.kserve.io/autoscalerClass"] != "keda" {
		t.Errorf("the update's own annotations were not kept: %v", got)
	}
	// An update that keeps the decision is not sent to the mutating
	// webhook (its matchCondition), only to the validating one.
	mutated := webhooks.AdmissionRequestsTotal.WithLabelValues("/mutate-keda-sh-v1alpha1-scaledobject", "mutate", webhooks.ResultAllowed)
	validated := webhooks.AdmissionRequestsTotal.WithLabelValues("/validate-keda-sh-v1alpha1-scaledobject", "validate", webhooks.ResultAllowed)
	m0, v0 := testutil.ToFloat64(mutated), testutil.ToFloat64(validated)
	so.SetLabels(map[string]string{"scaledobject.keda.sh/name": "raw-vllm", "team": "inference"})
	if err := c.Update(ctx, so); err != nil {
		t.Fatal(err)
	}
	if got := so.GetAnnotations(); got[gpu.PausedAnnotation] != "true" {
		t.Errorf("stored annotations %v", got)
	}
	if m, v := testutil.ToFloat64(mutated)-m0, testutil.ToFloat64(validated)-v0; m != 0 || v != 1 {
		t.Errorf("an update keeping the pause decision made %v mutating and %v validating calls, want 0 and 1", m, v)
	}
}

func TestGPUKeeperRepausesAfterTheExpiry(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "gpu-expiry")
	dep, so := runbookObjects(t, "gpu-expiry")
	ctx := context.Background()
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	waitUntilSeen(t, c, so)
	expiry := time.Now().Add(4 * time.Second).Truncate(time.Second).Add(time.Second)
	so.SetAnnotations(map[string]string{gpu.PausedAnnotation: "false", gpu.UnpauseUntilAnnotation: expiry.UTC().Format(time.RFC3339), "team": "llm"})
	warns = nil
	if err := c.Create(ctx, so); err != nil {
		t.Fatal(err)
	}
	if hasWarning(warns, "[gpu-unpaused]") || hasWarning(warns, "[gpu-paused-default]") {
		t.Errorf("an un-pause with an expiry inside the window was warned about: %q", warns)
	}
	if got := getAnnotations(t, c, "gpu-expiry", "raw-vllm"); got[gpu.PausedAnnotation] != "false" {
		t.Fatalf("re-paused before its expiry: %v", got)
	}
	var got map[string]string
	at := eventually(t, 30*time.Second, "the keeper did not re-pause after the expiry", func() bool {
		got = getAnnotations(t, c, "gpu-expiry", "raw-vllm")
		return got[gpu.PausedAnnotation] == "true"
	})
	if at.Before(expiry) {
		t.Errorf("re-paused at %s, before the expiry %s", at, expiry)
	}
	t.Logf("re-paused %s after the expiry", at.Sub(expiry).Round(10*time.Millisecond))
	if _, ok := got[gpu.UnpauseUntilAnnotation]; ok || got["team"] != "llm" || len(got) != 2 {
		t.Errorf("annotations after re-pausing: %v, want paused \"true\" and team kept, expiry removed", got)
	}
	var ev *eventsv1.Event
	eventually(t, 10*time.Second, "no Repaused event on the ScaledObject", func() bool {
		ev = keeperEvent(t, c, "gpu-expiry", "raw-vllm", keeper.ReasonRepaused)
		return ev != nil
	})
	if !strings.Contains(ev.Note, "scaleguard.io/unpause-until "+expiry.UTC().Format(time.RFC3339)+" passed") || ev.Type != "Normal" {
		t.Errorf("event %s %s: %s", ev.Type, ev.Reason, ev.Note)
	}
	stored := &unstructured.Unstructured{}
	stored.SetAPIVersion("keda.sh/v1alpha1")
	stored.SetKind("ScaledObject")
	if err := c.Get(ctx, client.ObjectKey{Namespace: "gpu-expiry", Name: "raw-vllm"}, stored); err != nil {
		t.Fatal(err)
	}
	managers := map[string]bool{}
	for _, mf := range stored.GetManagedFields() {
		managers[mf.Manager] = true
	}
	if !managers[keeper.FieldManager] {
		t.Errorf("field managers %v lack %q", managers, keeper.FieldManager)
	}
}

// TestGPUKeeperPausesWhenTheTargetArrivesLater is Argo CD applying the
// ScaledObject before its Deployment.
func TestGPUKeeperPausesWhenTheTargetArrivesLater(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "gpu-late")
	dep, so := runbookObjects(t, "gpu-late")
	ctx := context.Background()
	if err := c.Create(ctx, so); err != nil {
		t.Fatal(err)
	}
	if !hasWarning(warns, "[gpu-paused-default] metadata.annotations[autoscaling.keda.sh/paused]: is not set and the tier is undetermined", `Deployment "raw-vllm" does not exist in namespace "gpu-late" yet`) {
		t.Errorf("warnings seen by the client: %q", warns)
	}
	if got := getAnnotations(t, c, "gpu-late", "raw-vllm"); len(got) != 0 {
		t.Fatalf("admitted with annotations %v, want none", got)
	}
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the keeper did not pause the ScaledObject once its GPU target appeared", func() bool {
		return getAnnotations(t, c, "gpu-late", "raw-vllm")[gpu.PausedAnnotation] == "true"
	})
	eventually(t, 10*time.Second, "no Paused event on the ScaledObject", func() bool {
		ev := keeperEvent(t, c, "gpu-late", "raw-vllm", keeper.ReasonPaused)
		return ev != nil && strings.Contains(ev.Note, `Deployment "raw-vllm" appeared on a GPU tier`)
	})
}

// TestGPUUnpausedWhenTheMutatingWebhookIsGone unregisters the mutating
// webhooks (their failure policy is Ignore, so a webhook that is down looks
// the same to the API server) and shows the validating side refusing what
// would otherwise be stored un-paused. It restores the configuration before
// it returns.
func TestGPUUnpausedWhenTheMutatingWebhookIsGone(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	ctx := context.Background()
	namespace(t, c, "gpu-failopen")
	dep, so := runbookObjects(t, "gpu-failopen")
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	waitUntilSeen(t, c, so)
	stored := so.DeepCopy()
	if err := c.Create(ctx, stored); err != nil {
		t.Fatal(err)
	}

	var saved admissionregistrationv1.MutatingWebhookConfiguration
	if err := c.Get(ctx, client.ObjectKey{Name: "scaleguard-mutating"}, &saved); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, &saved); err != nil {
		t.Fatal(err)
	}
	restore := func() {
		cfg := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: saved.Name, Labels: saved.Labels, Annotations: saved.Annotations}, Webhooks: saved.Webhooks}
		if err := c.Create(ctx, cfg); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Errorf("restoring %s: %v", saved.Name, err)
		}
	}
	t.Cleanup(func() {
		restore()
		// The probe below scales raw-vllm as the stored ScaledObject does:
		// delete that one, or conflict-scaledobject refuses the probe.
		if err := c.Delete(ctx, stored); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting %s: %v", stored.GetName(), err)
		}
		// Wait until the API server calls the mutating webhook again, so
		// that later tests see the shipped configuration.
		waitUntilSeen(t, c, so)
	})

	so.SetName("unpaused")
	var err error
	eventually(t, 30*time.Second, "the API server kept calling the deleted mutating webhook", func() bool {
		err = c.Create(ctx, so.DeepCopy(), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), "[gpu-unpaused]")
	})
	for _, dry := range []bool{true, false} {
		var opts []client.CreateOption
		if dry {
			opts = append(opts, client.DryRunAll)
		}
		err = c.Create(ctx, so.DeepCopy(), opts...)
		status, ok := err.(apierrors.APIStatus)
		if !ok {
			t.Fatalf("dryRun=%v: %v, want a denial", dry, err)
		}
		st := status.Status()
		// "unpaused" scales the Deployment the stored ScaledObject already
		// scales, so conflict-scaledobject refuses it too; only the
		// gpu-unpaused cause is under test here.
		var causes []metav1.StatusCause
		if st.Details != nil {
			for _, c := range st.Details.Causes {
				if strings.Contains(c.Message, "[gpu-unpaused]") {
					causes = append(causes, c)
				}
			}
		}
		if st.Code != http.StatusUnprocessableEntity || len(causes) != 1 ||
			causes[0].Field != "metadata.annotations[autoscaling.keda.sh/paused]" ||
			!strings.Contains(causes[0].Message, `[gpu-unpaused] is missing on a GPU-tier ScaledObject: Deployment "raw-vllm" runs on a GPU tier`) {
			t.Errorf("dryRun=%v: %d %+v", dry, st.Code, st.Details)
		}
	}

	// A controller's full update that drops the annotation is refused too.
	desired := stored.DeepCopy()
	desired.SetAnnotations(nil)
	err = c.Update(ctx, desired)
	if err == nil || !strings.Contains(err.Error(), "[gpu-unpaused]") {
		t.Errorf("update without the annotation: %v, want a gpu-unpaused denial", err)
	}
	if got := getAnnotations(t, c, "gpu-failopen", "raw-vllm"); got[gpu.PausedAnnotation] != "true" {
		t.Errorf("stored annotations %v", got)
	}
}

// TestGPUDeviceClaimIsReadFromTheCache is a pod template that gets its GPU
// through dynamic resource allocation: serve reads the
// ResourceClaimTemplate from its informer cache.
func TestGPUDeviceClaimIsReadFromTheCache(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	ctx := context.Background()
	namespace(t, c, "gpu-dra")
	for _, doc := range []string{`
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: one-gpu, namespace: gpu-dra}
spec:
  spec:
    devices:
      requests: [{name: gpu, exactly: {deviceClassName: gpu.nvidia.com, count: 2}}]
`, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: gpu-dra}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      resourceClaims: [{name: gpu, resourceClaimTemplateName: one-gpu}]
      containers: [{name: vllm, image: vllm, resources: {claims: [{name: gpu}]}}]
`} {
		if err := c.Create(ctx, fromYAML(t, doc)); err != nil {
			t.Fatal(err)
		}
	}
	so := fromYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: gpu-dra}
spec:
  scaleTargetRef: {name: llm}
  minReplicaCount: 1
  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "50"}}]
`)
	waitUntilSeen(t, c, so)
	warns = nil
	if err := c.Create(ctx, so); err != nil {
		t.Fatal(err)
	}
	if so.GetAnnotations()[gpu.PausedAnnotation] != "true" ||
		!hasWarning(warns, "[gpu-paused-default] mutated", `resource claim "gpu" (ResourceClaimTemplate "one-gpu") asks for device class "gpu.nvidia.com"`) ||
		!hasWarning(warns, "[gpu-idle-cost]", "keeps 2 GPUs", "2 device class gpu.nvidia.com per replica") {
		t.Errorf("annotations %v, warnings %q", so.GetAnnotations(), warns)
	}
}
