package autoscalers_test

import (
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

var version = regexp.MustCompile(`v?[0-9]+\.[0-9]+(\.[0-9]+)?`)

// TestCatalogueEntriesAreComplete: every entry is a guarded kind read as
// unstructured data, cites its source with a version, names one kind of
// target, and says for each mode what its controller does and how to stop it.
func TestCatalogueEntriesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range autoscalers.Catalogue {
		name := a.GVK.String()
		if seen[name] {
			t.Errorf("%s is catalogued twice", name)
		}
		seen[name] = true
		if !apis.IsGuarded(a.GVK) || !apis.IsUnstructured(a.GVK) {
			t.Errorf("%s is not a guarded kind read as unstructured data (apis/unstructured.go)", name)
		}
		if a.Project == "" || !version.MatchString(a.Source) {
			t.Errorf("%s: project %q, source %q: name the project, and the file and version read", name, a.Project, a.Source)
		}
		targets := 0
		for _, set := range []bool{a.Target.Self, len(a.Target.Ref) > 0, a.Target.Kind != ""} {
			if set {
				targets++
			}
		}
		if targets != 1 {
			t.Errorf("%s: the target must be exactly one of Self, Ref and a generated workload", name)
		}
		if len(a.Modes) == 0 {
			t.Errorf("%s has no mode", name)
		}
		for _, m := range a.Modes {
			if m.Name == "" || len(m.Field) == 0 || len(m.When) == 0 || m.Scaling == 0 || m.Fix == "" {
				t.Errorf("%s: mode %q is incomplete", name, m.Name)
			}
			if m.Scaling == autoscalers.CreatesScaledObject && m.Generated == "" {
				t.Errorf("%s: mode %q creates a ScaledObject of no known name", name, m.Name)
			}
		}
	}
}

func obj(t *testing.T, gvk string, m map[string]any) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(map[string]string{"NIMService": "apps.nvidia.com/v1alpha1", "Service": "serving.knative.dev/v1", "PodAutoscaler": "autoscaling.aibrix.ai/v1alpha1"}[gvk])
	u.SetKind(gvk)
	return u
}

func TestModesAndTargets(t *testing.T) {
	cases := map[string]struct {
		obj      *unstructured.Unstructured
		mode     string
		scaling  autoscalers.Scaling
		matches  []string
		mismatch []string
	}{
		"NIM: scale.enabled true (a boolean)": {
			obj: obj(t, "NIMService", map[string]any{"metadata": map[string]any{"name": "llama", "namespace": "nim"},
				"spec": map[string]any{"scale": map[string]any{"enabled": true}}}),
			mode: "spec.scale.enabled: true", scaling: autoscalers.CreatesHPA, matches: []string{"llama"}, mismatch: []string{"llama-2"},
		},
		"NIM: replicas held (an integer)": {
			obj: obj(t, "NIMService", map[string]any{"metadata": map[string]any{"name": "llama", "namespace": "nim"},
				"spec": map[string]any{"replicas": int64(2)}}),
			mode: "spec.replicas without spec.scale.enabled", scaling: autoscalers.WritesReplicas, matches: []string{"llama"},
		},
		"NIM: multi-node replicas are left alone": {
			obj: obj(t, "NIMService", map[string]any{"metadata": map[string]any{"name": "llama", "namespace": "nim"},
				"spec": map[string]any{"replicas": int64(2), "multiNode": map[string]any{"size": int64(2)}}}),
		},
		"Knative: revisions by number and by name": {
			obj: obj(t, "Service", map[string]any{"metadata": map[string]any{"name": "chat", "namespace": "nim"},
				"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{"name": "chat-blue"}}}}),
			mode: "the Knative Pod Autoscaler (kpa.autoscaling.knative.dev)", scaling: autoscalers.WritesReplicas,
			matches: []string{"chat-00001-deployment", "chat-12345-deployment", "chat-blue-deployment"}, mismatch: []string{"chat", "chat-1-deployment", "xchat-00001-deployment", "chat-00001-deployment-x"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, ok := autoscalers.For(tc.obj.GroupVersionKind().GroupKind())
			if !ok {
				t.Fatal("not catalogued")
			}
			m, ok := a.ModeOf(tc.obj)
			if tc.mode == "" {
				if ok {
					t.Fatalf("in mode %q, want none", m.Name)
				}
				return
			}
			if !ok || m.Name != tc.mode || m.Scaling != tc.scaling {
				t.Fatalf("mode %v, want %q", m, tc.mode)
			}
			targets, ok := a.TargetsOf(tc.obj)
			if !ok {
				t.Fatal("no target")
			}
			for _, n := range tc.matches {
				if !targets.Matches(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "nim", Name: n}) {
					t.Errorf("%s is not a target", n)
				}
			}
			for _, n := range append(tc.mismatch, "") {
				if targets.Matches(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "nim", Name: n}) {
					t.Errorf("%q is a target", n)
				}
			}
			if targets.Matches(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "other", Name: tc.matches[0]}) {
				t.Error("a workload of another namespace is a target")
			}
		})
	}
}

func TestValueOfOddFields(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"a": "text", "b": []any{"x"}, "c": nil, "d": 1.5}}}
	for path, want := range map[string]string{"a": "text", "b": "[]", "c": "", "d": "1.5", "a.x": "", "missing": ""} {
		if got := autoscalers.Value(u, append([]string{"spec"}, splitDots(path)...)); got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
