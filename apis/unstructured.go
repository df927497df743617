package apis

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The autoscaler kinds of the catalogue (policies/autoscalers). Their
// projects are not Go modules scaleguard builds with, and the rules read a
// handful of fields of each, named in the catalogue, so they are read as
// unstructured data rather than declared as Go types: adding a kind is a
// line here and an entry in the catalogue.
var (
	// PodAutoscaler is AIBrix's autoscaler.
	PodAutoscaler = schema.GroupVersionKind{Group: "autoscaling.aibrix.ai", Version: "v1alpha1", Kind: "PodAutoscaler"}
	// NIMService is the NVIDIA NIM operator's model service.
	NIMService = schema.GroupVersionKind{Group: "apps.nvidia.com", Version: "v1alpha1", Kind: "NIMService"}
	// KnativeService is a Knative Serving Service.
	KnativeService = schema.GroupVersionKind{Group: "serving.knative.dev", Version: "v1", Kind: "Service"}
	// KubeAIModel is a KubeAI Model.
	KubeAIModel = schema.GroupVersionKind{Group: "kubeai.org", Version: "v1", Kind: "Model"}
	// InferenceSet is a KAITO InferenceSet: v1alpha1, which every KAITO
	// release with InferenceSets serves (v0.8 to v0.10 serve only it;
	// v0.11 and later serve v1beta1 beside it).
	InferenceSet = schema.GroupVersionKind{Group: "kaito.sh", Version: "v1alpha1", Kind: "InferenceSet"}
)

// unstructuredKinds are the guarded kinds read as unstructured data.
var unstructuredKinds = []schema.GroupVersionKind{PodAutoscaler, NIMService, KnativeService, KubeAIModel, InferenceSet}

// IsUnstructured reports whether objects of gvk (any version of its group
// and kind) are read as unstructured data.
func IsUnstructured(gvk schema.GroupVersionKind) bool {
	_, ok := UnstructuredKind(gvk.GroupKind())
	return ok
}

// UnstructuredKind returns the guarded version of a group and kind read
// as unstructured data. Other versions of it (KAITO serves InferenceSet as
// v1alpha1 too) are judged as that one: the fields read are the same, and
// the API server sends the webhook that version (matchPolicy: Equivalent).
func UnstructuredKind(gk schema.GroupKind) (schema.GroupVersionKind, bool) {
	for _, k := range unstructuredKinds {
		if k.GroupKind() == gk {
			return k, true
		}
	}
	return schema.GroupVersionKind{}, false
}

// Recognizes reports whether Decode can decode objects of gvk.
func Recognizes(gvk schema.GroupVersionKind) bool {
	return Scheme.Recognizes(gvk) || IsUnstructured(gvk)
}

// NewUnstructured returns an empty object of a kind read as unstructured
// data, for an informer or a Get.
func NewUnstructured(gvk schema.GroupVersionKind) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u
}

// NewUnstructuredList returns an empty list of a kind read as unstructured
// data.
func NewUnstructuredList(gvk schema.GroupVersionKind) *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	return l
}

// decodeUnstructured decodes a JSON object into an Unstructured of gvk.
// Anything but a JSON object, or metadata that is not one, is an error.
func decodeUnstructured(gvk schema.GroupVersionKind, data []byte) (client.Object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", gvk.Kind, err)
	}
	if m == nil {
		return nil, fmt.Errorf("decoding %s: not an object", gvk.Kind)
	}
	if md, ok := m["metadata"]; ok && md != nil {
		if _, ok := md.(map[string]any); !ok {
			return nil, fmt.Errorf("decoding %s: metadata is not an object", gvk.Kind)
		}
	}
	u := &unstructured.Unstructured{Object: normalise(m).(map[string]any)}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// normalise turns json.Numbers into int64 or float64, as the API
// machinery's unstructured decoding does, so values deep-copy.
func normalise(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalise(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalise(e)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}
