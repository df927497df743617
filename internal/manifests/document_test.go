package manifests_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

// multiDoc has the same fields at different lines in two documents, one in
// block and one in flow style, and a List.
const multiDoc = `# first
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: a
spec:
  scaleTargetRef:
    name: a
  triggers:
    - type: cpu
      metadata:
        value: "60"
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: b}
spec:
  scaleTargetRef: {name: b}

  triggers:
  - type: prometheus
    metadata:
      threshold: "5"
      query: sum(x)
  - type: prometheus
    metadata:
      query: >-
        sum(y)
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: c0}
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: c1
    annotations:
      a: b
`

func TestFieldLine(t *testing.T) {
	objs, err := manifests.Parse("in.yaml", strings.NewReader(multiDoc))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]manifests.Object{}
	for _, o := range objs {
		byName[o.Name] = o
	}
	cases := []struct {
		object, field string
		line          int
	}{
		{"a", "", 2},
		{"a", "spec.scaleTargetRef.name", 8},
		{"a", "spec.triggers[0].metadata.value", 12},
		{"a", "spec.triggers[0]", 10},
		{"a", "metadata.annotations[autoscaling.keda.sh/paused]", 4}, // not written: its parent
		{"a", "spec.triggers[7].metadata", 9},                        // no such element: the list
		{"b", "metadata.name", 16},
		{"b", "spec.scaleTargetRef.name", 18},
		{"b", "spec.triggers", 20},
		{"b", "spec.triggers[0].metadata.query", 24},
		{"b", "spec.triggers[1].metadata.query", 27},
		{"c0", "metadata.name", 35},
		{"c1", "", 36},
		{"c1", "metadata.annotations[a]", 41},
	}
	for _, c := range cases {
		if got := byName[c.object].FieldLine(c.field); got != c.line {
			t.Errorf("%s %q: line %d, want %d", c.object, c.field, got, c.line)
		}
	}
}

func TestFieldLineJSON(t *testing.T) {
	in := "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\n    \"name\": \"x\"\n  },\n  \"data\": {\"k\": \"v\"}\n}\n"
	objs, err := manifests.Parse("in.json", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := objs[0].FieldLine("metadata.name"); got != 5 {
		t.Errorf("metadata.name at %d, want 5", got)
	}
	if got := objs[0].FieldLine("data[k]"); got != 7 {
		t.Errorf("data[k] at %d, want 7", got)
	}
}
