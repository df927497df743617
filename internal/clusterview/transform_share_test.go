package clusterview_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// Deployments stamped from one chart share, once transformed, what they
// have equal: containers, resource lists, annotations and strings; what
// differs (the labels naming each) stays each one's own.
func TestTransformSharesEqualValues(t *testing.T) {
	objs, err := bench.Population(8, "team")
	if err != nil {
		t.Fatal(err)
	}
	var ds []*appsv1.Deployment
	for _, o := range objs {
		if _, ok := o.(*appsv1.Deployment); ok {
			// As an informer has it: decoded afresh, then transformed.
			raw, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			fresh, err := apis.Decode(appsv1.SchemeGroupVersion.WithKind("Deployment"), raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := clusterview.Transform(fresh); err != nil {
				t.Fatal(err)
			}
			ds = append(ds, fresh.(*appsv1.Deployment))
		}
	}
	// bench.Population gives every fourth Deployment a GPU: 1 and 2 are
	// alike, 0 asks for a GPU.
	a, b, gpu := ds[1], ds[2], ds[0]
	ca, cb := a.Spec.Template.Spec.Containers, b.Spec.Template.Spec.Containers
	if &ca[0] != &cb[0] {
		t.Error("equal containers not shared")
	}
	if !sameMap(a.Annotations, b.Annotations) {
		t.Error("equal annotations not shared")
	}
	if sameMap(a.Labels, b.Labels) || a.Labels["app"] != a.Name || b.Labels["app"] != b.Name {
		t.Errorf("labels naming each object shared: %v %v", a.Labels, b.Labels)
	}
	if unsafe.StringData(a.Labels["environment"]) != unsafe.StringData(b.Labels["environment"]) {
		t.Error("equal label values not interned")
	}
	if unsafe.StringData(a.Labels["app"]) != unsafe.StringData(a.Name) {
		t.Error("a label value equal to the name does not reuse the name")
	}
	cg := gpu.Spec.Template.Spec.Containers[0]
	if &gpu.Spec.Template.Spec.Containers[0] == &ca[0] || !sameMap(cg.Resources.Requests, ca[0].Resources.Requests) || sameMap(cg.Resources.Limits, ca[0].Resources.Limits) {
		t.Error("a GPU container shares what differs, or not what is equal")
	}
	if _, ok := cg.Resources.Limits["nvidia.com/gpu"]; !ok {
		t.Errorf("GPU limit lost: %v", cg.Resources.Limits)
	}
}

// Cached objects share values, so a rule that wrote to one would change
// others. Over every rule scenario, judged against views of transformed
// objects (objects of all scenarios sharing values with one another, as
// in serve's cache), every object is afterwards still equal to a fresh
// decode and transform of its manifest.
func TestSharedValuesStayUnchanged(t *testing.T) {
	engine := policies.NewEngine(policies.Default)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var cached []transformed
	judged := 0
	for _, files := range ruleScenarios(t) {
		objs, err := manifests.Read(files, nil)
		if err != nil {
			continue // fixtures of unreadable input
		}
		var view []client.Object
		for _, o := range objs {
			c, ok := transform(t, o.GVK, o.JSON)
			if !ok {
				continue
			}
			cached = append(cached, transformed{o.GVK, o.JSON, c, strings.Join(files, ",")})
			view = append(view, c)
		}
		v := clusterview.NewManifests(view...)
		for _, o := range objs {
			if !apis.IsGuarded(o.GVK) {
				continue
			}
			for _, op := range []policies.Operation{policies.Create, policies.Update} {
				req := policies.Request{GVK: o.GVK, Operation: op, Object: o.JSON, View: v, Now: now}
				if op == policies.Update {
					req.OldObject = o.JSON
				}
				_, _ = engine.Admit(req)
				judged++
			}
		}
	}
	if judged < 200 {
		t.Fatalf("judged %d requests; the scenarios hold more", judged)
	}
	if changed := changedObjects(t, cached); len(changed) > 0 {
		t.Fatalf("rules changed cached objects:\n%s", strings.Join(changed, "\n"))
	}
	// The check sees a write to a shared value: one to a resource list
	// shows in every object sharing it.
	for _, c := range cached {
		if d, ok := c.obj.(*appsv1.Deployment); ok && len(d.Spec.Template.Spec.Containers) > 0 && d.Spec.Template.Spec.Containers[0].Resources.Limits != nil {
			d.Spec.Template.Spec.Containers[0].Resources.Limits["example.com/written"] = d.Spec.Template.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]
			defer delete(d.Spec.Template.Spec.Containers[0].Resources.Limits, "example.com/written")
			break
		}
	}
	if changed := changedObjects(t, cached); len(changed) < 2 {
		t.Fatalf("a write to a shared resource list shows in %d objects, want it seen in every object sharing it", len(changed))
	}
}

type transformed struct {
	gvk  schema.GroupVersionKind
	raw  []byte
	obj  client.Object
	from string
}

// transform decodes and transforms a manifest as serve's cache would hold
// it, in namespace default when it names none.
func transform(t *testing.T, gvk schema.GroupVersionKind, raw []byte) (client.Object, bool) {
	t.Helper()
	o, err := apis.Decode(gvk, raw)
	if err != nil {
		return nil, false
	}
	if _, isNS := o.(*corev1.Namespace); !isNS && o.GetNamespace() == "" {
		o.SetNamespace("default") // else the manifest view copies it
	}
	if _, err := clusterview.Transform(o); err != nil {
		t.Fatal(err)
	}
	return o, true
}

// changedObjects lists the cached objects that differ from a fresh
// decode and transform of their manifests.
func changedObjects(t *testing.T, cached []transformed) []string {
	var out []string
	for _, c := range cached {
		fresh, _ := transform(t, c.gvk, c.raw)
		if !reflect.DeepEqual(fresh, c.obj) {
			out = append(out, c.from+": "+c.gvk.Kind+" "+c.obj.GetName())
		}
	}
	return out
}

func sameMap[M ~map[K]V, K comparable, V any](a, b M) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
