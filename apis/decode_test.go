package apis

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

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
	// Where readers of JSON part ways: repeated names, nulls, numbers,
	// bytes that are not UTF-8, names in another letter case.
	`{"metadata":{"name":"a","name":"b"}}`,
	`{"metadata":{"labels":{"a":"1"},"labels":{"b":"2"}}}`,
	`{"spec":{"triggers":[{"type":"cpu"}],"triggers":[]}}`,
	"{\"metadata\":{\"name\":\"\xff\xfe\"}}",
	"{\"metadata\":{\"labels\":{\"\xffa\":\"b\"}}}",
	`{"metadata":null,"spec":null,"status":null}`,
	`{"metadata":{"creationTimestamp":null,"deletionTimestamp":null,"annotations":{"a":null}}}`,
	`{"spec":{"triggers":null,"minReplicaCount":null}}`,
	`{"spec":{"triggers":[null,{"metadata":null}]}}`,
	`{"spec":{"minReplicaCount":1.0}}`,
	`{"spec":{"minReplicaCount":"1"}}`,
	`{"spec":{"minReplicaCount":1e2}}`,
	`{"spec":{"minReplicaCount":99999999999}}`,
	`{"spec":{"minReplicaCount":-0}}`,
	`{"spec":{"cooldownPeriod":1,"pollingInterval":2,"idleReplicaCount":0}}`,
	`{"spec":{"advanced":{"horizontalPodAutoscalerConfig":{"behavior":{"scaleDown":{"stabilizationWindowSeconds":300}}}}}}`,
	`{"spec":{"triggers":[{"type":"prometheus","metadata":{"threshold":1}}]}}`,
	`{"spec":{"Triggers":[{"type":"cpu"}],"MinReplicaCount":1}}`,
	`{"Metadata":{"Name":"a"}}`,
	`{"metadata":{"name":"a\u0000b","labels":{"\u00e9":"\ud800"}}}`,
	`{"spec":{"maxReplicas":2,"minReplicas":1,"metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":80}}}]}}`,
	`{"spec":{"metrics":[{"type":"External","external":{"target":{"type":"Value","value":"1.5"}}}]}}`,
	`{"spec":{"metrics":[{"external":{"target":{"value":1.5}}}]}}`,
	`{"spec":{"predictor":{"minReplicas":0,"model":{"modelFormat":{"name":"huggingface"},"resources":{"limits":{"nvidia.com/gpu":"1"}}}}}}`,
	`{"spec":{"predictor":{"model":{"resources":{"limits":{"nvidia.com/gpu":1}}}}}}`,
	`{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"X","name":"y","uid":"z","controller":true}]}}`,
	`{"metadata":{"managedFields":[{"manager":"kubectl","operation":"Update","fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:labels":{}}}}]}}`,
	` {"metadata" : { "name" : "a" } , "spec" : { } } `,
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

// TestDecodeExactReadsFixturesAsTheDeserializer decodes every object of a
// kind the scheme knows in the project's example, corpus and test
// manifests (the shapes the ecosystem's projects publish) both ways:
// DecodeExact's reading must equal the universal deserializer's.
func TestDecodeExactReadsFixturesAsTheDeserializer(t *testing.T) {
	var paths []string
	for _, glob := range []string{"../examples/*.yaml", "../examples/*/*.yaml", "../test/corpus/*/*.yaml", "../test/corpus/*.yaml",
		"../policies/*/testdata/*.yaml", "../internal/*/testdata/*.yaml", "../cmd/scaleguard/testdata/*.yaml", "../cmd/scaleguard/testdata/*/*.yaml"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	decoded := map[string]int{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			var u map[string]any
			if err := d.Decode(&u); err != nil {
				break // the end, or a fixture that is broken on purpose.
			}
			av, _ := u["apiVersion"].(string)
			kind, _ := u["kind"].(string)
			gv, err := schema.ParseGroupVersion(av)
			if err != nil || !Scheme.Recognizes(gv.WithKind(kind)) {
				continue
			}
			gvk := gv.WithKind(kind)
			raw, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			fast, ok := DecodeExact(gvk, raw)
			slow, err := decodeUniversal(gvk, raw)
			if !ok {
				if err == nil {
					t.Errorf("%s: %s %s: DecodeExact refused what the deserializer reads", p, kind, u["metadata"])
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %s: DecodeExact read what the deserializer refuses: %v", p, kind, err)
				continue
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Errorf("%s: %s decoded differently:\n%#v\n%#v", p, kind, fast, slow)
			}
			decoded[kind]++
		}
	}
	for _, kind := range []string{"ScaledObject", "InferenceService", "ModelServing", "HorizontalPodAutoscaler", "PodMonitor", "ServiceMonitor", "Deployment"} {
		if decoded[kind] == 0 {
			t.Errorf("no %s among the fixtures: %v", kind, decoded)
		}
	}
	t.Logf("objects compared: %v", decoded)
}

// TestUnmarshalExactKeepsIntegersInInterfaces: a type that can hold a JSON
// value in an interface is read by sigs.k8s.io/json, which keeps an
// integer an int64 where encoding/json's semantics make it a float64.
func TestUnmarshalExactKeepsIntegersInInterfaces(t *testing.T) {
	type holder struct {
		Spec struct {
			Values map[string]any `json:"values"`
		} `json:"spec"`
	}
	var h holder
	if err := unmarshalExact([]byte(`{"spec":{"values":{"a":1,"b":1.5}}}`), &h); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Spec.Values["a"].(int64); !ok {
		t.Errorf("an integer in an interface is %T, want int64", h.Spec.Values["a"])
	}
	for _, c := range []struct {
		v    any
		want bool
	}{
		{&h, true},
		{&struct{ A []struct{ B any } }{}, true},
		{&struct{ A *metav1.Time }{}, false},
		{&struct{ A json.RawMessage }{}, false},
		{&struct {
			A any `json:"-"`
		}{}, false},
		{&struct{ a any }{}, false},
	} {
		if got := holdsInterface(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("holdsInterface(%T) = %v, want %v", c.v, got, c.want)
		}
	}
	for gvk, typ := range Scheme.AllKnownTypes() {
		if gvk.Version != runtime.APIVersionInternal && IsGuarded(gvk) && holdsInterface(reflect.PointerTo(typ)) {
			t.Errorf("%s can hold a value in an interface: it is decoded the slow way", gvk)
		}
	}
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
