package clusterview

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
)

// TestTransformKeepsWhatTheCatalogueReads: a Knative Service enters the
// cache with its identity, annotations and the fields the catalogue
// names, and without its pod template.
func TestTransformKeepsWhatTheCatalogueReads(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "serving.knative.dev/v1", "kind": "Service",
		"metadata": map[string]any{"name": "chat", "namespace": "ai", "annotations": map[string]any{"a": "b"}},
		"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"name": "chat-v2", "annotations": map[string]any{"autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev", "autoscaling.knative.dev/target": "10"}},
			"spec":     map[string]any{"containers": []any{map[string]any{"image": "vllm/vllm-openai", "env": []any{map[string]any{"name": "HF_TOKEN", "value": "x"}}}}},
		}},
		"status": map[string]any{"url": "http://chat.ai"},
	}}
	if _, err := Transform(u); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": "serving.knative.dev/v1", "kind": "Service",
		"metadata": map[string]any{"name": "chat", "namespace": "ai", "annotations": map[string]any{"a": "b"}},
		"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
			"name": "chat-v2", "annotations": map[string]any{"autoscaling.knative.dev/class": "hpa.autoscaling.knative.dev"},
		}}},
	}
	if !reflect.DeepEqual(u.Object, want) {
		t.Errorf("kept %v\nwant %v", u.Object, want)
	}
}

// TestManifestsListCatalogedAutoscalers: the manifest view lists objects
// read as unstructured data by kind and namespace.
func TestManifestsListCatalogedAutoscalers(t *testing.T) {
	m := NewManifests(apis.NewUnstructured(apis.KubeAIModel), apis.NewUnstructured(apis.PodAutoscaler))
	for _, u := range []*unstructured.Unstructured{apis.NewUnstructured(apis.KubeAIModel), apis.NewUnstructured(apis.KubeAIModel)} {
		u.SetNamespace("ai")
		m.Add(u)
	}
	got := m.Autoscalers(schema.GroupKind{Group: "kubeai.org", Kind: "Model"}, "")
	if len(got) != 2 {
		t.Errorf("%d Models listed, want 2 (one per namespace: a second of the same name replaces the first)", len(got))
	}
	if len(m.Autoscalers(schema.GroupKind{Group: "kaito.sh", Kind: "InferenceSet"}, "")) != 0 {
		t.Error("InferenceSets listed where there are none")
	}
}
