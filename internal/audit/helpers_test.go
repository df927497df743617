package audit

import (
	"context"
	"os"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// load decodes the objects of YAML files, without their apiVersion and
// kind (but for those read as unstructured data), as the informer cache
// holds them.
func load(t testing.TB, files ...string) []client.Object {
	t.Helper()
	var out []client.Object
	for _, f := range files {
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := manifests.Parse(f, r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			obj, err := apis.Decode(o.GVK, o.JSON)
			if err != nil {
				t.Fatalf("%s: %v", o.Where(), err)
			}
			if !apis.IsUnstructured(o.GVK) {
				// Unstructured objects keep theirs in the cache.
				obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{})
			}
			obj.(metav1.Object).SetResourceVersion("1")
			out = append(out, obj)
		}
	}
	return out
}

// objectsSource is a Source and view over a fixed set of objects.
type objectsSource struct {
	objs []client.Object
	view *clusterview.Manifests
}

func newObjectsSource(objs []client.Object) *objectsSource {
	return &objectsSource{objs: objs, view: clusterview.NewManifests(objs...)}
}

func (s *objectsSource) List(_ context.Context, kind apis.Kind) ([]client.Object, error) {
	var out []client.Object
	for _, o := range s.objs {
		gvks, _, err := apis.Scheme.ObjectKinds(o)
		if err != nil {
			return nil, err
		}
		if gvks[0] == kind.GVK {
			out = append(out, o)
		}
	}
	return out, nil
}

// findingsOf returns the findings of rules on the named object.
func findingsOf(res *Result, name string, rules ...string) []policies.Finding {
	var out []policies.Finding
	for _, v := range res.Verdicts {
		if v.Ref.Name != name {
			continue
		}
		for _, f := range v.Findings {
			for _, r := range rules {
				if f.Rule == r {
					out = append(out, f)
				}
			}
		}
	}
	return out
}
