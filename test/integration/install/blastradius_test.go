package install

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
)

// TestWebhookStoppedBlocksOnlyWhatItProtects installs the shipped webhook
// configurations pointed at a port where nothing listens, as when every
// scaleguard replica is down, and writes through the API server: a
// ScaledObject scaleguard could refuse is refused with the API server's
// error; a Deployment, a ConfigMap, an HPA KEDA generated for a
// ScaledObject, the ScaledObjects KServe and the HTTP add-on generate, and
// anything in a namespace that opted out are written as if scaleguard were
// not installed.
func TestWebhookStoppedBlocksOnlyWhatItProtects(t *testing.T) {
	installConfigurations(t, fmt.Sprintf("https://127.0.0.1:%d", freePort(t)), newAuthority(t).pem)
	c := adminClient(t)
	ensureNamespace(t, c, "blast", nil)
	ensureNamespace(t, c, "blast-opted-out", map[string]string{apis.IgnoreLabel: "true"})
	ensureNamespace(t, c, scaleguardNamespace, nil)

	owner := func(apiVersion, kind string, controller bool) string {
		return fmt.Sprintf("ownerReferences: [{apiVersion: %s, kind: %s, name: owner, uid: 6b1e7cc5-5b4e-4a5b-9d4f-0c4f1c0b7a11, controller: %t}]", apiVersion, kind, controller)
	}
	scaledObject := func(ns, name, meta string) string {
		return fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s, namespace: %s, %s}
spec:
  scaleTargetRef: {name: llm}
  triggers:
    - type: cpu
      metricType: Utilization
      metadata: {value: "60"}
`, name, ns, meta)
	}
	hpa := func(ns, name, meta string) string {
		return fmt.Sprintf(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: %s, namespace: %s, %s}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  maxReplicas: 4
`, name, ns, meta)
	}
	for _, tc := range []struct {
		name    string
		doc     string
		refused bool
	}{
		{"a ScaledObject", scaledObject("blast", "plain", ""), true},
		{"an HPA of nobody's", hpa("blast", "plain", ""), true},
		{"an HPA a ScaledObject owns without controlling it", hpa("blast", "not-controlled", owner("keda.sh/v1alpha1", "ScaledObject", false)), true},
		{"an HPA a Deployment controls", hpa("blast", "deployment-owned", owner("apps/v1", "Deployment", true)), true},
		{"a Deployment", `
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: blast}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec: {containers: [{name: vllm, image: vllm/vllm-openai}]}
`, false},
		{"a ConfigMap", `{apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: blast}, data: {a: b}}`, false},
		{"the HPA KEDA generates for a ScaledObject", hpa("blast", "keda-hpa-llm", owner("keda.sh/v1alpha1", "ScaledObject", true)), false},
		{"the HPA KServe generates for an InferenceService", hpa("blast", "kserve-predictor", owner("serving.kserve.io/v1beta1", "InferenceService", true)), false},
		{"the ScaledObject KServe generates for an InferenceService", scaledObject("blast", "kserve-predictor", owner("serving.kserve.io/v1beta1", "InferenceService", true)), false},
		{"the ScaledObject the HTTP add-on generates", scaledObject("blast", "http-addon", owner("http.keda.sh/v1alpha1", "HTTPScaledObject", true)), false},
		{"a ScaledObject in a namespace that opted out", scaledObject("blast-opted-out", "plain", ""), false},
		{"an HPA in a namespace that opted out", hpa("blast-opted-out", "plain", ""), false},
		{"a ScaledObject in scaleguard's namespace", scaledObject(scaleguardNamespace, "plain", ""), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Create(context.Background(), fromYAML(t, tc.doc), client.DryRunAll)
			switch {
			case tc.refused && !webhookUnreachable(err):
				t.Errorf("want the API server's webhook error, got %v", err)
			case tc.refused && !strings.Contains(err.Error(), ".validate.scaleguard.io"):
				t.Errorf("refused by %v, want a validating webhook (the mutating ones fail open)", err)
			case !tc.refused && err != nil:
				t.Errorf("refused while scaleguard is down: %v", err)
			}
		})
	}
}
