package manifests_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

var paused = []jsonpatch.Operation{{Operation: "add", Path: "/metadata/annotations", Value: map[string]any{"autoscaling.keda.sh/paused": "true"}}}

func TestEdit(t *testing.T) {
	cases := map[string]struct {
		in          string
		json        bool
		ops         []jsonpatch.Operation
		want        string
		reformatted bool
	}{
		"block mapping with comments and blank lines": {
			in:   "# head\nmetadata:\n  name: a   # the name\n\n  namespace: b\nspec:\n  x: 1\n",
			ops:  paused,
			want: "# head\nmetadata:\n  name: a   # the name\n\n  namespace: b\n  annotations:\n    autoscaling.keda.sh/paused: \"true\"\nspec:\n  x: 1\n",
		},
		"four-space indentation": {
			in:   "metadata:\n    name: a\nspec:\n    x: 1\n",
			ops:  paused,
			want: "metadata:\n    name: a\n    annotations:\n        autoscaling.keda.sh/paused: \"true\"\nspec:\n    x: 1\n",
		},
		"flow mapping": {
			in:   "metadata: {name: a, namespace: b}  # flow\nspec: {}\n",
			ops:  paused,
			want: "metadata: {name: a, namespace: b, annotations: {autoscaling.keda.sh/paused: \"true\"}} # flow\nspec: {}\n",
		},
		"key added to an existing map": {
			in:   "metadata:\n  annotations:\n    # keep me\n    owner: x\nspec: 1\n",
			ops:  []jsonpatch.Operation{{Operation: "add", Path: "/metadata/annotations/autoscaling.keda.sh~1paused", Value: "true"}},
			want: "metadata:\n  annotations:\n    # keep me\n    owner: x\n    autoscaling.keda.sh/paused: \"true\"\nspec: 1\n",
		},
		"empty flow map becomes a block": {
			in:   "metadata:\n  name: a\n  annotations: {}\n",
			ops:  []jsonpatch.Operation{{Operation: "add", Path: "/metadata/annotations/k", Value: "yes"}},
			want: "metadata:\n  name: a\n  annotations:\n    k: \"yes\"\n",
		},
		"replace keeps quoting and comment": {
			in:   "spec:\n  endpoints:\n    - port: 'metrics'  # wrong\n      path: /metrics\n",
			ops:  []jsonpatch.Operation{{Operation: "replace", Path: "/spec/endpoints/0/port", Value: "http"}},
			want: "spec:\n  endpoints:\n    - port: 'http' # wrong\n      path: /metrics\n",
		},
		"remove a field": {
			in:   "spec:\n  podMetricsEndpoints:\n  - port: http\n    targetPort: 8000   # deprecated\n    path: /metrics\n",
			ops:  []jsonpatch.Operation{{Operation: "remove", Path: "/spec/podMetricsEndpoints/0/targetPort"}},
			want: "spec:\n  podMetricsEndpoints:\n  - port: http\n    path: /metrics\n",
		},
		"sequence insert and append": {
			in: "spec:\n  ports:\n  - 80\n  - 443\n",
			ops: []jsonpatch.Operation{
				{Operation: "add", Path: "/spec/ports/1", Value: 8080.0},
				{Operation: "add", Path: "/spec/ports/-", Value: 9090.0},
			},
			want: "spec:\n  ports:\n  - 80\n  - 8080\n  - 443\n  - 9090\n",
		},
		"JSON": {
			in:   "{\n  \"metadata\": {\n    \"name\": \"a\"\n  },\n  \"spec\": {\n    \"x\": 1\n  }\n}\n",
			json: true,
			ops:  paused,
			want: "{\n  \"metadata\": {\n    \"name\": \"a\",\n    \"annotations\": {\n      \"autoscaling.keda.sh/paused\": \"true\"\n    }\n  },\n  \"spec\": {\n    \"x\": 1\n  }\n}\n",
		},
		"JSON written on one line is re-indented": {
			in:          "{\"metadata\": {\"name\": \"a\"}}\n",
			json:        true,
			ops:         paused,
			want:        "{\n  \"metadata\": {\n    \"name\": \"a\",\n    \"annotations\": {\n      \"autoscaling.keda.sh/paused\": \"true\"\n    }\n  }\n}\n",
			reformatted: true,
		},
		"mixed indentation": {
			in:   "metadata:\n   name: a\n   labels:\n     x: y\nspec:\n  x: 1\n",
			ops:  paused,
			want: "metadata:\n   name: a\n   labels:\n     x: y\n   annotations:\n      autoscaling.keda.sh/paused: \"true\"\nspec:\n  x: 1\n",
		},
		"a changed line the serialiser writes differently": {
			in:          "# kept\nmetadata: { name: a }\nspec:\n    x: 1\n",
			ops:         paused,
			want:        "# kept\nmetadata: {name: a, annotations: {autoscaling.keda.sh/paused: \"true\"}}\nspec:\n    x: 1\n",
			reformatted: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, reformatted, err := manifests.Edit([]byte(tc.in), tc.json, tc.ops)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", out, tc.want)
			}
			if reformatted != tc.reformatted {
				t.Errorf("reformatted = %v, want %v", reformatted, tc.reformatted)
			}
			if tc.json && !json.Valid(out) {
				t.Errorf("a JSON document came out as something else:\n%s", out)
			}
		})
	}
}

func TestEditRefuses(t *testing.T) {
	cases := map[string]struct {
		in   string
		ops  []jsonpatch.Operation
		want string
	}{
		"missing parent": {"spec: {}\n", []jsonpatch.Operation{{Operation: "add", Path: "/metadata/annotations/x", Value: "y"}}, "missing"},
		"alias":          {"a: &x {k: v}\nb: *x\n", []jsonpatch.Operation{{Operation: "add", Path: "/b/j", Value: "y"}}, "alias"},
		"whole document": {"a: 1\n", []jsonpatch.Operation{{Operation: "replace", Path: "", Value: map[string]any{}}}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := manifests.Edit([]byte(tc.in), false, tc.ops)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// FuzzEdit: on any document, Edit returns an error or a document that
// reads back as the original with the patch applied, and never panics.
func FuzzEdit(f *testing.F) {
	f.Add("metadata:\n  name: a   # c\n\n  namespace: b\nspec: {}\n", false)
	f.Add("metadata: {name: a}\n", false)
	f.Add("metadata:\n  annotations: &a {x: y}\nb: *a\n", false)
	f.Add("{\"metadata\": {\"name\": \"a\"}}\n", true)
	f.Add("metadata:\n    name: a\n    labels:\n      x: y\nspec:\n  - 1\n", false)
	f.Fuzz(func(t *testing.T, in string, isJSON bool) {
		out, _, err := manifests.Edit([]byte(in), isJSON, paused)
		if err != nil {
			return
		}
		got, err := sigsyaml.YAMLToJSON(out)
		if err != nil {
			t.Fatalf("the edited document does not parse: %v\n%s", err, out)
		}
		orig, err := sigsyaml.YAMLToJSON([]byte(in))
		if err != nil {
			t.Fatalf("Edit accepted a document that does not parse:\n%s", in)
		}
		raw, _ := json.Marshal(paused)
		p, _ := jsonpatchapply.DecodePatch(raw)
		want, err := p.Apply(orig)
		if err != nil {
			t.Fatalf("Edit applied a patch that does not apply: %v", err)
		}
		var a, b any
		_ = json.Unmarshal(got, &a)
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("edited:\n%s\nreads as %s, want %s", out, got, want)
		}
	})
}
