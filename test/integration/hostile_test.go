package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// nestedScaledObject is a ScaledObject whose query is wrapped in depth
// parentheses (or preceded by depth minus signs).
func nestedScaledObject(t *testing.T, ns, name string, depth int, unary bool) *unstructured.Unstructured {
	t.Helper()
	inner := fmt.Sprintf(`sum(vllm:num_requests_waiting{namespace="%s", pod=~"llm-.*"})`, ns)
	query := strings.Repeat("(", depth) + inner + strings.Repeat(")", depth)
	if unary {
		query = strings.Repeat("-", depth) + inner
	}
	so := fromYAML(t, fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s, namespace: %s}
spec:
  scaleTargetRef: {name: llm}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus-operated.monitoring.svc:9090
        threshold: "5"
`, name, ns))
	triggers, _, _ := unstructured.NestedSlice(so.Object, "spec", "triggers")
	triggers[0].(map[string]any)["metadata"].(map[string]any)["query"] = query
	if err := unstructured.SetNestedSlice(so.Object, triggers, "spec", "triggers"); err != nil {
		t.Fatal(err)
	}
	return so
}

// TestHostileQueriesAreDeniedWithTheBound: a query nesting 60,000
// parentheses (a 120 KB object) and one of 10,000 minus signs are denied
// by promql-invalid, naming the limit, before Prometheus's parser runs.
func TestHostileQueriesAreDeniedWithTheBound(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "hostile-bounds")
	// The target does not exist: target-ref says so, and the GPU tier is undetermined.
	warnings := []string{"gpu-paused-default", "target-ref"}
	expectDenied(t, nestedScaledObject(t, "hostile-bounds", "nested", 60000, false), denial{
		causes:   map[string]string{"spec.triggers[0].metadata.query": "promql-invalid"},
		fragment: []string{"bytes long, over the limit of 16384 (settings limits.maxQueryLength), so it is not parsed"},
		warnings: warnings,
	})
	expectDenied(t, nestedScaledObject(t, "hostile-bounds", "unary", 10000, true), denial{
		causes:   map[string]string{"spec.triggers[0].metadata.query": "promql-invalid"},
		fragment: []string{"nests 10001 levels deep (parentheses, unary signs and operators), over the limit of 64 (settings limits.maxQueryDepth)"},
		warnings: warnings,
	})
}

// cpuTime is the CPU time of this process, which runs the webhook server
// under test (the API server and etcd are processes of their own).
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestHostileCreatesLeaveTheWebhookIdle sends three 120 KB nested-query
// ScaledObjects at once: each is answered with the denial well within the
// API server's timeout, and in the second after the answers the process
// serving the webhook uses no more CPU than in a quiet second measured
// before them (nothing keeps working for requests that are answered).
func TestHostileCreatesLeaveTheWebhookIdle(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "hostile-idle")
	objs := []*unstructured.Unstructured{}
	for i := range 3 {
		objs = append(objs, nestedScaledObject(t, "hostile-idle", fmt.Sprintf("nested-%d", i), 60000, false))
	}

	quietStart := cpuTime(t)
	time.Sleep(time.Second)
	quiet := cpuTime(t) - quietStart

	start, startCPU := time.Now(), cpuTime(t)
	var wg sync.WaitGroup
	errs := make([]error, len(objs))
	took := make([]time.Duration, len(objs))
	for i, o := range objs {
		wg.Go(func() {
			errs[i] = c.Create(context.Background(), o)
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	during := cpuTime(t) - startCPU
	afterStart := cpuTime(t)
	time.Sleep(time.Second)
	after := cpuTime(t) - afterStart
	t.Logf("answers after %v; CPU: %v in a quiet second before, %v for the three requests, %v in the second after", took, quiet, during, after)

	for i, err := range errs {
		if err == nil || !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "[promql-invalid]") ||
			!strings.Contains(err.Error(), "over the limit of 16384") {
			t.Errorf("create %d: %v, want the promql-invalid denial", i, err)
		}
		if took[i] > 3*time.Second {
			t.Errorf("create %d answered after %v, close to the API server's 5s timeout", i, took[i])
		}
	}
	if after > quiet+300*time.Millisecond {
		t.Errorf("the webhook used %v of CPU in the second after its answers, against %v in a quiet second", after, quiet)
	}
}
