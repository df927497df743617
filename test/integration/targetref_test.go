package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
)

func newClient(t *testing.T, warnings *[]string) client.Client {
	t.Helper()
	c, err := client.New(adminConfig(warnings), client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func namespace(t *testing.T, c client.Client, name string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func fromYAML(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(s), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestTargetRefDenialReachesClient(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "tr-deny")
	ms := fromYAML(t, `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: my-modelserving, namespace: tr-deny}
spec: {replicas: 1, template: {roles: []}}
`)
	if err := c.Create(context.Background(), ms); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	so := fromYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: tr-deny}
spec:
  scaleTargetRef: {kind: ModelServing, name: my-modelserving}
  triggers:
    - type: prometheus
      metadata: {serverAddress: "http://prometheus:9090", query: 'sum(vllm:num_requests_waiting{namespace="tr-deny", modelserving_volcano_sh_name="my-modelserving"})', threshold: "5"}
`)
	for _, dry := range []bool{false, true} {
		var opts []client.CreateOption
		if dry {
			opts = append(opts, client.DryRunAll)
		}
		err := c.Create(context.Background(), so.DeepCopy(), opts...)
		if err == nil {
			t.Fatalf("dryRun=%v: created, want a denial", dry)
		}
		status, ok := err.(apierrors.APIStatus)
		if !ok {
			t.Fatalf("dryRun=%v: error %T %v is not an API status", dry, err, err)
		}
		st := status.Status()
		if st.Code != http.StatusUnprocessableEntity {
			t.Errorf("dryRun=%v: code %d, want 422", dry, st.Code)
		}
		for _, want := range []string{"[target-ref]", "spec.scaleTargetRef.apiVersion", "apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: my-modelserving"} {
			if !strings.Contains(st.Message, want) {
				t.Errorf("dryRun=%v: message %q lacks %q", dry, st.Message, want)
			}
		}
		if st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Field != "spec.scaleTargetRef.apiVersion" {
			t.Errorf("dryRun=%v: causes %+v, want one on spec.scaleTargetRef.apiVersion", dry, st.Details)
		}
	}
}
