package integration

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// denial is what the client must see of a refused object: the causes'
// fields with their rule, and the warnings' rules.
type denial struct {
	causes   map[string]string // field → rule
	fragment []string          // in the status message
	warnings []string          // rule IDs among the warnings
}

// expectDenied creates obj (for real and as a server-side dry run) and
// asserts the API server refused it with exactly the given causes.
func expectDenied(t *testing.T, obj *unstructured.Unstructured, want denial) {
	t.Helper()
	for _, dry := range []bool{false, true} {
		var warns []string
		c := newClient(t, &warns)
		var opts []client.CreateOption
		if dry {
			opts = append(opts, client.DryRunAll)
		}
		err := c.Create(context.Background(), obj.DeepCopy(), opts...)
		if err == nil {
			t.Fatalf("dryRun=%v: %s created, want a denial", dry, obj.GetName())
		}
		status, ok := err.(apierrors.APIStatus)
		if !ok {
			t.Fatalf("dryRun=%v: error %T %v is not an API status", dry, err, err)
		}
		st := status.Status()
		if st.Code != http.StatusUnprocessableEntity {
			t.Errorf("dryRun=%v: code %d, want 422: %s", dry, st.Code, st.Message)
		}
		got := map[string]string{}
		if st.Details != nil {
			for _, cause := range st.Details.Causes {
				if m := ruleRef.FindStringSubmatch(cause.Message); m != nil {
					got[cause.Field] = m[1]
				} else {
					got[cause.Field] = "(no rule) " + cause.Message
				}
			}
		}
		if len(got) != len(want.causes) {
			t.Errorf("dryRun=%v: causes %v, want %v", dry, got, want.causes)
		}
		for f, r := range want.causes {
			if got[f] != r {
				t.Errorf("dryRun=%v: cause on %s is %q, want %q (all: %v)", dry, f, got[f], r, got)
			}
		}
		for _, frag := range want.fragment {
			if !strings.Contains(st.Message, frag) {
				t.Errorf("dryRun=%v: message %q lacks %q", dry, st.Message, frag)
			}
		}
		if rules := warningRules(warns); strings.Join(rules, ",") != strings.Join(want.warnings, ",") {
			t.Errorf("dryRun=%v: warnings of rules %v, want %v: %q", dry, rules, want.warnings, warns)
		}
	}
}

// expectAdmitted creates obj and asserts it was stored without warnings.
func expectAdmitted(t *testing.T, obj *unstructured.Unstructured) {
	t.Helper()
	var warns []string
	c := newClient(t, &warns)
	if err := c.Create(context.Background(), obj); err != nil {
		t.Fatalf("%s: %v", obj.GetName(), err)
	}
	if len(warns) != 0 {
		t.Errorf("%s: admitted with warnings %q", obj.GetName(), warns)
	}
	stored := obj.DeepCopy()
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(obj), stored); err != nil {
		t.Fatal(err)
	}
	if stored.GetUID() == "" {
		t.Errorf("%s: not stored", obj.GetName())
	}
}

func warningRules(warns []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range warns {
		if m := ruleRef.FindStringSubmatch(w); m != nil && !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

func TestPromQLKthenaPRScaledObject(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "promql-kthena")
	ms := fromYAML(t, `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: my-modelserving, namespace: promql-kthena}
spec: {replicas: 1, template: {roles: []}}
`)
	if err := c.Create(context.Background(), ms); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	const so = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: my-modelserving, namespace: promql-kthena}
spec:
  scaleTargetRef: {apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: my-modelserving}
  minReplicaCount: 1
  maxReplicaCount: 5
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc.cluster.local:9090
        query: avg(vllm:num_requests_waiting)
        threshold: "5"
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc.cluster.local:9090
        query: sum(kthena_router_active_downstream_requests)
        threshold: "10"
`
	expectDenied(t, fromYAML(t, so), denial{
		causes: map[string]string{
			"spec.triggers[0].metadata.query": "promql-unscoped",
			"spec.triggers[1].metadata.query": "promql-unscoped",
		},
		fragment: []string{
			"write `vllm:num_requests_waiting{namespace=\"promql-kthena\", pod=~\"my-modelserving-[0-9]+-.*\"}`",
			"write `kthena_router_active_downstream_requests{model=\"<model>\"}`",
		},
		warnings: []string{"promql-aggregation"},
	})
	scoped := strings.NewReplacer(
		"avg(vllm:num_requests_waiting)", `sum(vllm:num_requests_waiting{namespace="promql-kthena", pod=~"my-modelserving-[0-9]+-.*"})`,
		"sum(kthena_router_active_downstream_requests)", `sum(kthena_router_active_downstream_requests{model="my-modelserving"})`,
	).Replace(so)
	expectAdmitted(t, fromYAML(t, scoped))
}

func TestPromQLKServeDocsInferenceService(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "promql-kserve")
	const isvc = `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: huggingface-fbopt
  namespace: promql-kserve
  annotations:
    serving.kserve.io/deploymentMode: "RawDeployment"
    serving.kserve.io/autoscalerClass: "keda"
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      args: [--model_name=fbopt, --model_id=facebook/opt-125m]
    minReplicas: 1
    maxReplicas: 5
    autoScaling:
      metrics:
        - type: External
          external:
            metric:
              backend: "prometheus"
              serverAddress: "http://prometheus.istio-system.svc.cluster.local:9090"
              query: vllm:num_requests_running
            target:
              type: Value
              value: "2"
`
	expectDenied(t, fromYAML(t, isvc), denial{
		causes: map[string]string{"spec.predictor.autoScaling.metrics[0].external.metric.query": "promql-unscoped"},
		fragment: []string{
			"write `vllm:num_requests_running{namespace=\"promql-kserve\", model_name=\"fbopt\"}`",
		},
		warnings: []string{"promql-aggregation"},
	})
	scoped := strings.Replace(isvc, "query: vllm:num_requests_running",
		`query: 'sum(vllm:num_requests_running{namespace="promql-kserve", model_name="fbopt"})'`, 1)
	expectAdmitted(t, fromYAML(t, scoped))
}

func TestPromQLInlineSecretNeverEchoed(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "promql-secret")
	so := fromYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: promql-secret}
spec:
  scaleTargetRef: {name: llm}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: https://scaler:hunter2-pass@prometheus.monitoring.svc:9090
        query: sum(vllm:num_requests_waiting{namespace="promql-secret", pod=~"llm-.*"})
        threshold: "5"
        customHeaders: Authorization=Bearer hunter2-token
`)
	expectDenied(t, so, denial{
		causes: map[string]string{
			"spec.triggers[0].metadata.customHeaders": "trigger-inline-secret",
			"spec.triggers[0].metadata.serverAddress": "trigger-inline-secret",
		},
		fragment: []string{`header "Authorization" carries a credential`, "TriggerAuthentication"},
		// The target does not exist: target-ref says so, and the GPU tier is undetermined.
		warnings: []string{"gpu-paused-default", "target-ref"},
	})
	expectNoEcho(t, so, "hunter2")
}

func TestPromQLAutoscalingPolicyDenied(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "promql-kthena-policy")
	expectDenied(t, fromYAML(t, `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: llm, namespace: promql-kthena-policy}
spec:
  metrics: [{name: waiting, targetValue: "5"}]
  homogeneousTarget:
    minReplicas: 1
    maxReplicas: 4
    target:
      targetRef: {kind: ModelServing, name: llm}
      metricSources:
        waiting:
          prometheus:
            serverURL: http://prometheus.monitoring.svc:9090
            query: sum(vllm:num_requests_waiting{namespace="serving", modelserving_volcano_sh_name="llm"})
`), denial{
		causes: map[string]string{
			"spec.homogeneousTarget.target.metricSources[waiting].prometheus.query": "promql-cross-namespace",
		},
		fragment: []string{`reads namespace "serving", not this object's namespace "promql-kthena-policy"`},
	})
}

// TestPromQLExporterLabels: queries on exporters that report the
// workload's namespace and pod in labels of their own are admitted when
// scoped by those labels, and refused, with those labels in the fix, when
// scoped by the exporter's own namespace and pod.
func TestPromQLExporterLabels(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "promql-exporter")
	if err := c.Create(context.Background(), fromYAML(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: promql-exporter}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers: [{name: web, image: web}]
`)); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	const so = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: frontend, namespace: promql-exporter}
spec:
  scaleTargetRef: {name: frontend}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc:9090
        query: sum(rate(nginx_ingress_controller_requests{exported_namespace="promql-exporter",ingress="frontend"}[2m]))
        threshold: "100"
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc:9090
        query: sum(DCGM_FI_DEV_GPU_UTIL{exported_namespace="promql-exporter",exported_pod=~"frontend-.*"})
        threshold: "80"
`
	expectDenied(t, fromYAML(t, strings.Replace(so, `{exported_namespace="promql-exporter",ingress="frontend"}`, `{ingress="frontend"}`, 1)), denial{
		causes:   map[string]string{"spec.triggers[0].metadata.query": "promql-unscoped"},
		fragment: []string{"write `nginx_ingress_controller_requests{exported_namespace=\"promql-exporter\", ingress=\"frontend\"}`"},
	})
	expectAdmitted(t, fromYAML(t, so))
}

// TestPromQLInlineSecretAnyTrigger: credentials inline in a trigger of any
// type are refused through the API server, and never echoed.
func TestPromQLInlineSecretAnyTrigger(t *testing.T) {
	c := newClient(t, new([]string))
	namespace(t, c, "promql-secret-any")
	so := fromYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker, namespace: promql-secret-any}
spec:
  scaleTargetRef: {name: worker}
  triggers:
    - type: rabbitmq
      metadata:
        host: amqp://guest:hunter2-pass@rabbitmq.promql-secret-any.svc:5672/
        queueName: jobs
        mode: QueueLength
        value: "20"
    - type: metrics-api
      metadata:
        url: http://stats.promql-secret-any.svc/queue?token=hunter2-token
        valueLocation: depth
        targetValue: "10"
`)
	expectDenied(t, so, denial{
		causes: map[string]string{
			"spec.triggers[0].metadata.host": "trigger-inline-secret",
			"spec.triggers[1].metadata.url":  "trigger-inline-secret",
		},
		fragment: []string{"user credentials", `query parameter "token"`},
		// The target does not exist: target-ref says so, and the GPU tier is undetermined.
		warnings: []string{"gpu-paused-default", "target-ref"},
	})
	expectNoEcho(t, so, "hunter2")
}

// expectNoEcho sends obj (dry run), which must be refused, and fails when
// the denial or a warning the client saw contains secret.
func expectNoEcho(t *testing.T, obj *unstructured.Unstructured, secret string) {
	t.Helper()
	var warns []string
	err := newClient(t, &warns).Create(context.Background(), obj.DeepCopy(), client.DryRunAll)
	if err == nil {
		t.Fatal("the object with inline credentials was admitted")
	}
	if text := strings.Join(warns, "\n") + err.Error(); strings.Contains(text, secret) {
		t.Errorf("the response echoes a credential: %s", text)
	}
}
