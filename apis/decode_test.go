package apis

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// decodeSeeds are objects of the guarded kinds as API servers send them,
// and the spellings where a case-insensitive and a case-sensitive reading
// of apiVersion and kind part.
var decodeSeeds = []string{
	`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"a","namespace":"n","uid":"u"},"spec":{"scaleTargetRef":{"name":"d"},"triggers":[{"type":"prometheus","metadata":{"query":"sum(x{a=\"b\"}) \u003e 1","threshold":"1"}}]}}`,
	`{"metadata":{"name":"a"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"d"}}}`,
	`{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"a"}}`,
	`{"apiVersion":"keda.sh/v1alpha1","Kind":"HorizontalPodAutoscaler","metadata":{"name":"a"}}`,
	`{"APIVERSION":"autoscaling/v2","KIND":"HorizontalPodAutoscaler"}`,
	`{"kind":"ScaledObject","KIND":"HorizontalPodAutoscaler"}`,
	`{"\u006bind":"ScaledObject"}`,
	`{"\u004bind":"HorizontalPodAutoscaler"}`,
	"{\"\u212aind\":\"HorizontalPodAutoscaler\"}",
	`{"apiVersion":"a/b/c"}`,
	`{"apiVersion":"keda.sh/v1alpha1"}`,
	`{"kind":"ScaledObject"}`,
	`{"kind":1}`,
	`{"metadata":{"name":1}}`,
	`{"metadata":{"labels":{"Kind":"x"}}}`,
	"apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: a}\n",
	` {"kind":"ScaledObject"} `,
	`{"kind":"ScaledObject"} x`,
	`[]`, `null`, ``, `{`, `{"a":"\"kind\":1"}`,
}

// FuzzDecodeExact checks DecodeExact against the universal deserializer:
// whenever it decodes, the deserializer gives the same object, and Go's
// encoding/json finds the same kind or none (what webhooks check).
func FuzzDecodeExact(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	gvks := []schema.GroupVersionKind{ScaledObject, HorizontalPodAutoscaler, InferenceService}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, gvk := range gvks {
			fast, ok := DecodeExact(gvk, data)
			if !ok {
				continue
			}
			slow, err := decodeUniversal(gvk, data)
			if err != nil {
				t.Fatalf("%s %q: DecodeExact decoded, the deserializer failed: %v", gvk.Kind, data, err)
			}
			if !equality.Semantic.DeepEqual(fast, slow) {
				t.Fatalf("%s %q: decoded differently:\n%#v\n%#v", gvk.Kind, data, fast, slow)
			}
			var tm metav1.TypeMeta
			if err := json.Unmarshal(data, &tm); err == nil && (tm.APIVersion != "" || tm.Kind != "") && tm.GroupVersionKind() != gvk {
				t.Fatalf("%s %q: encoding/json reads apiVersion %q kind %q", gvk.Kind, data, tm.APIVersion, tm.Kind)
			}
		}
	})
}

func TestDecodeExact(t *testing.T) {
	for _, c := range []struct {
		data string
		ok   bool
	}{
		{decodeSeeds[0], true},
		{decodeSeeds[1], true},
		{decodeSeeds[2], false}, // another kind: Decode says which.
		{decodeSeeds[3], false},
		{decodeSeeds[4], false},
		{decodeSeeds[6], false}, // an escaped key: left to the deserializer.
		{decodeSeeds[9], false},
		{decodeSeeds[14], false}, // a key "Kind" anywhere: left to the deserializer.
		{decodeSeeds[15], false}, // YAML.
	} {
		if _, ok := DecodeExact(ScaledObject, []byte(c.data)); ok != c.ok {
			t.Errorf("DecodeExact(%q) = %v, want %v", c.data, ok, c.ok)
		}
	}
}
