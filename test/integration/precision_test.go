package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies/gpu"
)

// Verdicts users see at admission that the precision work changed: what
// was refused though correct is now admitted (with a warning where
// scaleguard cannot tell), and what Kubernetes itself cannot scale is
// refused.

// tenancyScaledObject is OpenShift's documented Prometheus trigger through
// the Thanos Querier's tenancy port, with KEDA's namespace metadata.
const tenancyScaledObject = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: test-app, namespace: NS}
spec:
  scaleTargetRef: {name: test-app}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: https://thanos-querier.openshift-monitoring.svc.cluster.local:9092
        namespace: TENANT
        query: sum(rate(http_requests_total{job="test-app"}[1m]))
        threshold: "5"
        authModes: bearer
      authenticationRef: {name: keda-trigger-auth-prometheus}
`

func TestPrecisionTenancyProxyScaledObjectIsAdmitted(t *testing.T) {
	const ns = "precision-tenancy"
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, ns)
	so := fromYAML(t, strings.NewReplacer("NS", ns, "TENANT", ns).Replace(tenancyScaledObject))
	if err := c.Create(context.Background(), so); err != nil {
		t.Fatalf("a selector the tenancy proxy pins to the namespace was refused: %v", err)
	}
	for _, w := range warns {
		if strings.HasPrefix(w, "[promql-") {
			t.Errorf("unexpected PromQL warning: %s", w)
		}
	}

	// Another tenant's namespace stays a denial, on the metadata and on the
	// selector, which the proxy no longer pins to this namespace.
	other := fromYAML(t, strings.NewReplacer("NS", ns, "TENANT", "kedatest", "{name: test-app}", "{name: other-app}").Replace(tenancyScaledObject))
	other.SetName("other-app")
	expectDenied(t, other, denial{
		causes: map[string]string{
			"spec.triggers[0].metadata.namespace": "promql-cross-namespace",
			"spec.triggers[0].metadata.query":     "promql-unscoped",
		},
		fragment: []string{`is "kedatest", but the ScaledObject is in "precision-tenancy"`},
		warnings: []string{"gpu-paused-default", "target-ref"},
	})
}

func TestPrecisionUnknownLabelIsWarnedNotDenied(t *testing.T) {
	const ns = "precision-labels"
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, ns)
	so := fromYAML(t, fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: prefill, namespace: %[1]s}
spec:
  scaleTargetRef: {name: prefill}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        query: sum(vllm:num_requests_waiting{namespace="%[1]s", endpoint_name=~".*prefill.*"})
        threshold: "3"
        metricType: Value
`, ns))
	if err := c.Create(context.Background(), so); err != nil {
		t.Fatalf("a selector narrowed by a label scaleguard cannot place was refused: %v", err)
	}
	if !hasWarning(warns, "[promql-unscoped]", `narrowed only by "endpoint_name"`, "declare a scope profile") {
		t.Errorf("no promql-unscoped warning naming the label: %q", warns)
	}
	if !hasWarning(warns, "[trigger-metadata]", "spec.triggers[0].metadata.metricType", "move it up: spec.triggers[0].metricType: Value") {
		t.Errorf("no trigger-metadata warning for metricType under metadata: %q", warns)
	}
}

func TestPrecisionSecondHPAIsDenied(t *testing.T) {
	ctx := context.Background()
	const ns = "precision-hpa"
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, ns)
	if err := c.Create(ctx, cfObject(t, ns, fmt.Sprintf(cfHPA, "llm-cpu", "llm"))); err != nil {
		t.Fatal(err)
	}
	second := cfObject(t, ns, fmt.Sprintf(cfHPA, "llm-memory", "llm"))
	for _, opts := range [][]client.CreateOption{nil, {client.DryRunAll}} {
		cfDenied(t, c.Create(ctx, second.DeepCopy(), opts...), "conflict-hpa", "spec.scaleTargetRef",
			`the workload "llm" (apps/v1 Deployment) is already scaled by HorizontalPodAutoscaler "llm-cpu"`, "AmbiguousSelector")
	}
	if err := c.Create(ctx, cfObject(t, ns, fmt.Sprintf(cfHPA, "other-cpu", "other"))); err != nil {
		t.Errorf("an HPA on another workload was refused: %v", err)
	}
}

// The KEDA HTTP add-on's HTTPScaledObject is judged at the owner: it
// carries the GPU warnings; the ScaledObject the add-on generates from it
// is stored as written, un-paused.
func TestPrecisionHTTPScaledObjectJudgedAtTheOwner(t *testing.T) {
	ctx := context.Background()
	const ns = "precision-http"
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, ns)
	dep := fromYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: qwen, namespace: `+ns+`}
spec:
  selector: {matchLabels: {app: qwen}}
  template:
    metadata: {labels: {app: qwen}}
    spec: {containers: [{name: vllm, image: vllm/vllm-openai, resources: {limits: {nvidia.com/gpu: "1"}}}]}
`)
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	httpso := fromYAML(t, `
apiVersion: http.keda.sh/v1alpha1
kind: HTTPScaledObject
metadata: {name: qwen, namespace: `+ns+`}
spec:
  hosts: [qwen.example.com]
  scaleTargetRef: {name: qwen, kind: Deployment, apiVersion: apps/v1, service: qwen, port: 8000}
  replicas: {min: 1, max: 4}
`)
	// The webhook reads an informer cache, which sees the Deployment a
	// moment after it was created.
	eventually(t, 10*time.Second, "no gpu-idle-cost warning on the HTTPScaledObject", func() bool {
		warns = nil
		return c.Create(ctx, httpso.DeepCopy(), client.DryRunAll) == nil &&
			hasWarning(warns, "[gpu-idle-cost]", "spec.replicas.min", "replicas.min 1 keeps 1 GPU", "set replicas.min: 0")
	})
	if err := c.Create(ctx, httpso); err != nil {
		t.Fatal(err)
	}
	generated := fromYAML(t, fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: qwen
  namespace: %s
  ownerReferences: [{apiVersion: http.keda.sh/v1alpha1, kind: HTTPScaledObject, name: qwen, uid: %s, controller: true}]
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: qwen}
  minReplicaCount: 1
  maxReplicaCount: 4
  triggers:
    - type: external-push
      metadata: {scalerAddress: "keda-add-ons-http-external-scaler.keda:9090", httpScaledObject: qwen}
`, ns, httpso.GetUID()))
	warns = nil
	if err := c.Create(ctx, generated); err != nil {
		t.Fatalf("the add-on's ScaledObject was refused: %v", err)
	}
	if a := getAnnotations(t, c, ns, "qwen"); a[gpu.PausedAnnotation] != "" {
		t.Errorf("the add-on's ScaledObject was stored with %s: %q; the interceptor needs KEDA to scale from zero", gpu.PausedAnnotation, a[gpu.PausedAnnotation])
	}
	for _, w := range warns {
		if strings.HasPrefix(w, "[gpu-") {
			t.Errorf("a GPU warning on the add-on's ScaledObject (judged at the HTTPScaledObject): %s", w)
		}
	}
}
