package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Manifests of the conflict tests; NS is replaced by the test's namespace.
const (
	cfScaledObject = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s, namespace: NS}
spec:
  scaleTargetRef: %s
  triggers:
    - type: prometheus
      metadata: {serverAddress: "http://prometheus-operated.monitoring.svc:9090", query: 'sum(vllm:num_requests_waiting{namespace="NS", model_name="llm"})', threshold: "5"}
`
	cfHPA = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: %s, namespace: NS}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %s}
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
`
	cfInferenceService = `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: qwen
  namespace: NS
  annotations: {serving.kserve.io/deploymentMode: RawDeployment%s}
spec:
  predictor:
    model: {modelFormat: {name: huggingface}, args: ["--model_id=Qwen/Qwen2.5-0.5B-Instruct"]}
`
	cfPolicy = `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: llm, namespace: %s}
spec:
  metrics: [{name: "vllm:num_requests_waiting", targetValue: "5"}]
  homogeneousTarget:
    minReplicas: 1
    maxReplicas: 4
    target: {targetRef: {kind: ModelServing, namespace: NS, name: llm}}
`
	cfBinding = `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicyBinding
metadata: {name: llm, namespace: NS}
spec:
  policyRef: {name: queue-depth}
  homogeneousTarget: {minReplicas: 1, maxReplicas: 4, target: {targetRef: {kind: ModelServing, name: llm}}}
`
	cfOnDeployment   = `{name: llm}`
	cfOnModelServing = `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`
)

func cfObject(t *testing.T, ns, doc string) *unstructured.Unstructured {
	t.Helper()
	return fromYAML(t, strings.ReplaceAll(doc, "NS", ns))
}

// cfDenied asserts that err is the API server relaying a denial by rule on
// field, with every fragment in the message the client got.
func cfDenied(t *testing.T, err error, rule, field string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("admitted, want a %s denial", rule)
	}
	status, ok := err.(apierrors.APIStatus)
	if !ok {
		t.Fatalf("error %T %v is not an API status", err, err)
	}
	st := status.Status()
	if st.Code != http.StatusUnprocessableEntity {
		t.Errorf("code %d, want 422: %s", st.Code, st.Message)
	}
	for _, want := range append([]string{"[" + rule + "]"}, fragments...) {
		if !strings.Contains(st.Message, want) {
			t.Errorf("message lacks %q:\n%s", want, st.Message)
		}
	}
	if st.Details == nil || !hasCause(st.Details.Causes, field, rule) {
		t.Errorf("no cause on %s by %s: %+v", field, rule, st.Details)
	}
}

func hasCause(causes []metav1.StatusCause, field, rule string) bool {
	for _, c := range causes {
		if c.Field == field && strings.Contains(c.Message, "["+rule+"]") {
			return true
		}
	}
	return false
}

// cfWarnings keeps the warnings of the conflict rules.
func cfWarnings(warns []string) []string {
	var out []string
	for _, w := range warns {
		if strings.HasPrefix(w, "[conflict-") {
			out = append(out, w)
		}
	}
	return out
}

// TestConflictsBothOrders creates each pair of autoscalers on one workload
// in both orders: the first is admitted, the second refused with the
// reason, whichever kind comes first.
func TestConflictsBothOrders(t *testing.T) {
	ctx := context.Background()
	so := func(name, ref string) string { return fmt.Sprintf(cfScaledObject, name, ref) }
	cases := []struct {
		name          string
		first, second string
		rule, field   string
		fragments     []string
	}{
		{"ScaledObject then HPA", so("llm", cfOnDeployment), fmt.Sprintf(cfHPA, "llm-cpu", "llm"),
			"conflict-hpa", "spec.scaleTargetRef", []string{`the workload "llm" (apps/v1 Deployment) is already scaled by ScaledObject "llm"`}},
		{"HPA then ScaledObject", fmt.Sprintf(cfHPA, "llm", "llm"), so("llm-queue", cfOnDeployment),
			"conflict-hpa", "spec.scaleTargetRef", []string{`the workload "llm" (apps/v1 Deployment) is already scaled by HorizontalPodAutoscaler "llm"`, "transfer-hpa-ownership"}},
		{"ScaledObject then ScaledObject", so("llm-queue", cfOnDeployment), so("llm-kv", `{apiVersion: apps/v1, kind: Deployment, name: llm}`),
			"conflict-scaledobject", "spec.scaleTargetRef", []string{`the workload "llm" (apps/v1 Deployment) is already scaled by ScaledObject "llm-queue"`}},
		{"ScaledObject then InferenceService", so("qwen", `{name: qwen-predictor}`), fmt.Sprintf(cfInferenceService, ""),
			"conflict-kserve", "metadata.annotations[serving.kserve.io/autoscalerClass]", []string{`with its own HorizontalPodAutoscaler "qwen-predictor"`, `ScaledObject "qwen" already scales it`, "serving.kserve.io/autoscalerClass: external"}},
		{"InferenceService then ScaledObject", fmt.Sprintf(cfInferenceService, ", serving.kserve.io/autoscalerClass: keda"), so("qwen", `{name: qwen-predictor}`),
			"conflict-kserve", "spec.scaleTargetRef", []string{`is the predictor of InferenceService "qwen", which KServe already scales with its own ScaledObject "qwen-predictor"`, "serving.kserve.io/autoscalerClass: external"}},
		{"ScaledObject then AutoscalingPolicy", so("llm", cfOnModelServing), fmt.Sprintf(cfPolicy, "NS"),
			"conflict-kthena", "spec.homogeneousTarget.target.targetRef", []string{`(workload.serving.volcano.sh/v1alpha1 ModelServing), which ScaledObject "llm" already scales`}},
		{"AutoscalingPolicy then ScaledObject", fmt.Sprintf(cfPolicy, "NS"), so("llm", cfOnModelServing),
			"conflict-kthena", "spec.scaleTargetRef", []string{`is already scaled by Kthena AutoscalingPolicy "llm" (spec.homogeneousTarget.target.targetRef)`}},
		{"ScaledObject then AutoscalingPolicyBinding", so("llm", cfOnModelServing), cfBinding,
			"conflict-kthena", "spec.homogeneousTarget.target.targetRef", []string{`ScaledObject "llm" already scales`}},
		{"AutoscalingPolicyBinding then ScaledObject", cfBinding, so("llm", cfOnModelServing),
			"conflict-kthena", "spec.scaleTargetRef", []string{`is already scaled by Kthena AutoscalingPolicyBinding "llm"`}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var warns []string
			c := newClient(t, &warns)
			ns := fmt.Sprintf("conflict-order-%d", i)
			namespace(t, c, ns)
			first := cfObject(t, ns, tc.first)
			if err := c.Create(ctx, first); err != nil {
				t.Fatalf("first object: %v", err)
			}
			second := cfObject(t, ns, tc.second)
			if k := first.GetKind(); k != "ScaledObject" && k != "HorizontalPodAutoscaler" {
				// Only ScaledObjects and HPAs are claimed when admitted;
				// the webhook sees other kinds once its informers have
				// (a write the moment after may pass, and the audit
				// reports it), so wait for that before judging.
				eventually(t, 10*time.Second, "admission never saw the first object", func() bool {
					return c.Create(ctx, second.DeepCopy(), client.DryRunAll) != nil
				})
			}
			cfDenied(t, c.Create(ctx, second), tc.rule, tc.field, tc.fragments...)
			// A server-side dry run (kubectl apply --dry-run=server, Argo CD's diff) gets the same verdict.
			cfDenied(t, c.Create(ctx, second, client.DryRunAll), tc.rule, tc.field, tc.fragments...)
		})
	}
}

// TestConflictCrossNamespacePolicy: a policy in the platform's namespace
// points at a ModelServing a ScaledObject scales, in both orders.
func TestConflictCrossNamespacePolicy(t *testing.T) {
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "conflict-xns-app")
	namespace(t, c, "conflict-xns-platform")
	if err := c.Create(ctx, cfObject(t, "conflict-xns-app", fmt.Sprintf(cfScaledObject, "llm", cfOnModelServing))); err != nil {
		t.Fatal(err)
	}
	policy := cfObject(t, "conflict-xns-app", fmt.Sprintf(cfPolicy, "conflict-xns-platform"))
	cfDenied(t, c.Create(ctx, policy), "conflict-kthena", "spec.homogeneousTarget.target.targetRef",
		`names the workload "llm" (workload.serving.volcano.sh/v1alpha1 ModelServing) in namespace "conflict-xns-app", which ScaledObject "llm" in namespace "conflict-xns-app" already scales`)

	namespace(t, c, "conflict-xns-app2")
	policy2 := cfObject(t, "conflict-xns-app2", fmt.Sprintf(cfPolicy, "conflict-xns-platform"))
	policy2.SetName("llm2")
	if err := c.Create(ctx, policy2); err != nil {
		t.Fatal(err)
	}
	cfDenied(t, c.Create(ctx, cfObject(t, "conflict-xns-app2", fmt.Sprintf(cfScaledObject, "llm", cfOnModelServing))),
		"conflict-kthena", "spec.scaleTargetRef", `is already scaled by Kthena AutoscalingPolicy "llm2" in namespace "conflict-xns-platform"`)
}

// TestConflictFixesAreAdmitted: the fixes the denials name go through.
func TestConflictFixesAreAdmitted(t *testing.T) {
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)
	ns := "conflict-fixes"
	namespace(t, c, ns)
	create := func(doc string) *unstructured.Unstructured {
		t.Helper()
		u := cfObject(t, ns, doc)
		if err := c.Create(ctx, u); err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
		return u
	}
	// KServe told to leave the predictor alone.
	create(fmt.Sprintf(cfInferenceService, ", serving.kserve.io/autoscalerClass: external"))
	create(fmt.Sprintf(cfScaledObject, "qwen", `{name: qwen-predictor}`))

	// KEDA's own HPA for a ScaledObject.
	so := create(fmt.Sprintf(cfScaledObject, "llm", cfOnDeployment))
	kedaHPA := cfObject(t, ns, fmt.Sprintf(cfHPA, "keda-hpa-llm", "llm"))
	kedaHPA.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: "llm", UID: so.GetUID(), Controller: ptr.To(true)}})
	if err := c.Create(ctx, kedaHPA); err != nil {
		t.Fatalf("KEDA's own HPA: %v", err)
	}

	// KEDA taking an existing HPA over.
	create(fmt.Sprintf(cfHPA, "chat", "chat"))
	takeover := cfObject(t, ns, fmt.Sprintf(cfScaledObject, "chat", `{name: chat}`))
	takeover.SetAnnotations(map[string]string{"scaledobject.keda.sh/transfer-hpa-ownership": "true"})
	if err := unstructured.SetNestedField(takeover.Object, "chat", "spec", "advanced", "horizontalPodAutoscalerConfig", "name"); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, takeover); err != nil {
		t.Fatalf("transfer-hpa-ownership: %v", err)
	}
	if w := cfWarnings(warns); len(w) != 0 {
		t.Errorf("unexpected conflict warnings: %q", w)
	}
}

// TestConflictUpdates: an edit to an object already in conflict is
// admitted with a warning; an edit that creates a conflict is refused.
func TestConflictUpdates(t *testing.T) {
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)
	ns := "conflict-updates"
	namespace(t, c, ns)

	// kube-system is not judged: a platform policy there scales a
	// ModelServing of ns that a ScaledObject already scales.
	so := cfObject(t, ns, fmt.Sprintf(cfScaledObject, "llm", cfOnModelServing))
	if err := c.Create(ctx, so); err != nil {
		t.Fatal(err)
	}
	// The UPDATE below is judged against the policy once the webhook's
	// informers hold it (claims cover CREATEs only).
	createSeen(t, c, cfObject(t, ns, fmt.Sprintf(cfPolicy, "kube-system")))
	if err := unstructured.SetNestedField(so.Object, int64(6), "spec", "maxReplicaCount"); err != nil {
		t.Fatal(err)
	}
	warns = nil
	if err := c.Update(ctx, so); err != nil {
		t.Fatalf("an edit to a ScaledObject already in conflict was refused: %v", err)
	}
	conflicts := cfWarnings(warns)
	if len(conflicts) != 1 || !strings.HasPrefix(conflicts[0], "[conflict-kthena] spec.scaleTargetRef:") ||
		!strings.Contains(conflicts[0], `AutoscalingPolicy "llm" in namespace "kube-system"`) || !strings.Contains(conflicts[0], "already so before this update") {
		t.Errorf("warnings: %q", warns)
	}

	// Retargeting an HPA onto a workload a ScaledObject scales. A
	// ScaledObject just admitted is claimed against CREATEs only: an
	// UPDATE is judged against it once the webhook's informers hold it.
	createSeen(t, c, cfObject(t, ns, fmt.Sprintf(cfScaledObject, "chat", `{name: chat}`)))
	h := cfObject(t, ns, fmt.Sprintf(cfHPA, "cpu", "other"))
	if err := c.Create(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(h.Object, "chat", "spec", "scaleTargetRef", "name"); err != nil {
		t.Fatal(err)
	}
	cfDenied(t, c.Update(ctx, h), "conflict-hpa", "spec.scaleTargetRef", `the workload "chat" (apps/v1 Deployment) is already scaled by ScaledObject "chat"`)

	// Switching an InferenceService back to KServe's autoscaler under a ScaledObject.
	isvc := cfObject(t, ns, fmt.Sprintf(cfInferenceService, ", serving.kserve.io/autoscalerClass: external"))
	if err := c.Create(ctx, isvc); err != nil {
		t.Fatal(err)
	}
	createSeen(t, c, cfObject(t, ns, fmt.Sprintf(cfScaledObject, "qwen", `{name: qwen-predictor}`)))
	isvc.SetAnnotations(map[string]string{"serving.kserve.io/deploymentMode": "RawDeployment", "serving.kserve.io/autoscalerClass": "hpa"})
	cfDenied(t, c.Update(ctx, isvc), "conflict-kserve", "metadata.annotations[serving.kserve.io/autoscalerClass]", `ScaledObject "qwen" already scales it`)
}

// cfISVC is InferenceService %s with the annotations %s (flow YAML
// entries, possibly none).
const cfISVC = `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: %s
  namespace: NS
  annotations: {%s}
spec:
  predictor:
    model: {modelFormat: {name: huggingface}, args: ["--model_id=Qwen/Qwen2.5-0.5B-Instruct"]}
`

// TestConflictKServeDeploymentModes: in Knative mode only revision
// Deployments are Knative's to scale; a mode the InferenceService does not
// state is an assumption, warned about and never denied.
func TestConflictKServeDeploymentModes(t *testing.T) {
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)
	ns := "conflict-kserve-modes"
	namespace(t, c, ns)
	create := func(doc string) {
		t.Helper()
		u := cfObject(t, ns, doc)
		if err := c.Create(ctx, u); err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
	}
	so := func(name, ref string) string { return fmt.Sprintf(cfScaledObject, name, ref) }

	// No mode, class external, a ScaledObject on <isvc>-predictor: nothing
	// fights in either mode.
	create(fmt.Sprintf(cfISVC, "qwen", "serving.kserve.io/autoscalerClass: external"))
	create(so("qwen", `{name: qwen-predictor}`))
	// No mode, no class: under the default Knative mode qwen2-predictor
	// names a Knative Service, not a Deployment.
	create(fmt.Sprintf(cfISVC, "qwen2", ""))
	create(so("qwen2", `{apiVersion: apps/v1, kind: Deployment, name: qwen2-predictor}`))
	// Knative mode stated, an explicit Deployment on the predictor's name.
	create(fmt.Sprintf(cfISVC, "phi", "serving.kserve.io/deploymentMode: Serverless"))
	create(so("phi", `{apiVersion: apps/v1, kind: Deployment, name: phi-predictor}`))
	if w := cfWarnings(warns); len(w) != 0 {
		t.Errorf("unexpected conflict warnings: %q", w)
	}

	// Knative mode stated, a revision Deployment: denied.
	cfDenied(t, c.Create(ctx, cfObject(t, ns, so("phi-rev", `{name: phi-predictor-00001-deployment}`))), "conflict-kserve", "spec.scaleTargetRef",
		`is a Knative revision of the predictor "phi-predictor" of InferenceService "phi", which Knative's autoscaler already scales (Knative mode: serving.kserve.io/deploymentMode: Serverless)`)

	// A revision of an InferenceService that states no mode: a warning.
	warns = nil
	create(so("llama", `{name: llama-predictor-00001-deployment}`))
	eventually(t, 10*time.Second, "admission never saw ScaledObject llama", func() bool {
		warns = nil
		probe := cfObject(t, ns, fmt.Sprintf(cfISVC, "llama", ""))
		return c.Create(ctx, probe, client.DryRunAll) == nil && len(cfWarnings(warns)) > 0
	})
	warns = nil
	create(fmt.Sprintf(cfISVC, "llama", ""))
	got := cfWarnings(warns)
	if len(got) != 1 || !strings.HasPrefix(got[0], "[conflict-kserve] metadata.annotations[serving.kserve.io/deploymentMode]: if it runs in Knative mode, as conflicts.kserveDefaultDeploymentMode assumes") ||
		!strings.Contains(got[0], `not denied on an assumption: set serving.kserve.io/deploymentMode on InferenceService "llama"`) {
		t.Errorf("warnings: %q", got)
	}
}

// TestConflictKServeLeftovers: KServe leaves its ScaledObject behind when
// the class leaves keda, and its HPA when the class becomes keda. The class
// change that brings the fight is refused; the way through external is not.
func TestConflictKServeLeftovers(t *testing.T) {
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)
	ns := "conflict-kserve-leftovers"
	namespace(t, c, ns)
	const classField = "metadata.annotations[serving.kserve.io/autoscalerClass]"

	isvc := cfObject(t, ns, fmt.Sprintf(cfISVC, "qwen", "serving.kserve.io/deploymentMode: RawDeployment, serving.kserve.io/autoscalerClass: keda"))
	if err := c.Create(ctx, isvc); err != nil {
		t.Fatal(err)
	}
	owner := []metav1.OwnerReference{{APIVersion: "serving.kserve.io/v1beta1", Kind: "InferenceService", Name: "qwen", UID: isvc.GetUID(), Controller: ptr.To(true)}}
	withClass := func(class string) *unstructured.Unstructured {
		u := isvc.DeepCopy()
		a := u.GetAnnotations()
		a["serving.kserve.io/autoscalerClass"] = class
		u.SetAnnotations(a)
		return u
	}
	update := func(class string) error {
		u := withClass(class)
		err := c.Update(ctx, u)
		if err == nil {
			isvc = u
		}
		return err
	}
	deniedOnDryRun := func(class string) bool {
		return c.Update(ctx, withClass(class), client.DryRunAll) != nil
	}

	// KServe's ScaledObject, as KServe makes it for class keda.
	kserveSO := cfObject(t, ns, fmt.Sprintf(cfScaledObject, "qwen-predictor", `{name: qwen-predictor}`))
	kserveSO.SetOwnerReferences(owner)
	if err := c.Create(ctx, kserveSO); err != nil {
		t.Fatalf("KServe's ScaledObject: %v", err)
	}
	eventually(t, 10*time.Second, "admission never saw KServe's ScaledObject", func() bool { return deniedOnDryRun("hpa") })
	leftSO := []string{`but ScaledObject "qwen-predictor", which KServe generated for this InferenceService while its class was keda, still scales it`,
		`set serving.kserve.io/autoscalerClass: external, delete ScaledObject "qwen-predictor" (KServe recreates it while the class is keda), then set the class you want`}
	cfDenied(t, update("hpa"), "conflict-kserve", classField, leftSO...)
	cfDenied(t, update("none"), "conflict-kserve", classField, leftSO...)

	// The way out: external (nothing fights; a warning), delete, then hpa.
	warns = nil
	if err := update("external"); err != nil {
		t.Fatalf("class external: %v", err)
	}
	if w := cfWarnings(warns); len(w) != 1 || !strings.HasPrefix(w[0], "[conflict-kserve] "+classField+": ") || !strings.Contains(w[0], `delete ScaledObject "qwen-predictor"`) {
		t.Errorf("warnings: %q", w)
	}
	cfDenied(t, update("hpa"), "conflict-kserve", classField, leftSO...)
	if err := c.Delete(ctx, kserveSO); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "admission never saw KServe's ScaledObject go", func() bool { return !deniedOnDryRun("hpa") })
	if err := update("hpa"); err != nil {
		t.Fatalf("class hpa once the ScaledObject is gone: %v", err)
	}

	// KServe's HPA, as KServe makes it for class hpa, left behind by keda.
	kserveHPA := cfObject(t, ns, fmt.Sprintf(cfHPA, "qwen-predictor", "qwen-predictor"))
	kserveHPA.SetOwnerReferences(owner)
	if err := c.Create(ctx, kserveHPA); err != nil {
		t.Fatalf("KServe's HPA: %v", err)
	}
	eventually(t, 10*time.Second, "admission never saw KServe's HPA", func() bool { return deniedOnDryRun("keda") })
	cfDenied(t, update("keda"), "conflict-kserve", classField,
		`but HorizontalPodAutoscaler "qwen-predictor", which KServe generated for this InferenceService while its class was hpa, still scales it`,
		`set serving.kserve.io/autoscalerClass: external first (KServe then deletes that HPA), and keda once it is gone`)
	warns = nil
	if err := update("external"); err != nil {
		t.Fatalf("class external: %v", err)
	}
	if w := cfWarnings(warns); len(w) != 0 {
		t.Errorf("unexpected conflict warnings: %q", w)
	}
}
