package bench_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

func names[T client.Object](objs []T) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.GetNamespace() + "/" + o.GetName()
	}
	slices.Sort(out)
	return out
}

// views are serve's cache view and check's manifest view of objs (copies
// of them, for the latter).
func views(t *testing.T, ctx context.Context, objs []client.Object) (*clusterview.Cache, *clusterview.Manifests) {
	t.Helper()
	cv, err := bench.CacheView(ctx, objs)
	if err != nil {
		t.Fatal(err)
	}
	mv := clusterview.NewManifests()
	for _, o := range objs {
		mv.Add(o.DeepCopyObject().(client.Object))
	}
	return cv, mv
}

// The cache view reads straight from the informers' indexers; over the
// same objects it answers every list and index read as the manifest view
// does (which keeps its objects in plain maps), in one namespace and in
// all of them.
func TestCacheViewReadsAsTheManifestView(t *testing.T) {
	objs, err := bench.Population(250, "")
	if err != nil {
		t.Fatal(err)
	}
	// HPAs on some of the population's Deployments, one of them in
	// another namespace than its name suggests.
	for i, ns := range []string{"team-000", "team-001", "team-001"} {
		objs = append(objs, &autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("hpa-%d", i), Namespace: ns},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: fmt.Sprintf("model-%05d", 100+i)},
				MaxReplicas:    3,
			},
		})
	}
	// Objects whose index values are not their own names, beside the
	// population's, whose are (a ScaledObject named after its target, KEDA's
	// default HPA name, a pod template labelled app: <its name>): the
	// indexes hold the former, reads by name find the latter.
	var so0 *kedav1alpha1.ScaledObject
	var d0 *appsv1.Deployment
	for _, o := range objs {
		switch x := o.(type) {
		case *kedav1alpha1.ScaledObject:
			so0 = cmp.Or(so0, x)
		case *appsv1.Deployment:
			d0 = cmp.Or(d0, x)
		}
	}
	scaler := func(ns, name string, edit func(*kedav1alpha1.ScaledObject)) {
		so := so0.DeepCopy()
		so.Namespace, so.Name = ns, name
		edit(so)
		objs = append(objs, so)
	}
	hpaNamed := func(name string) func(*kedav1alpha1.ScaledObject) {
		return func(so *kedav1alpha1.ScaledObject) {
			so.Spec.Advanced = &kedav1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &kedav1alpha1.HorizontalPodAutoscalerConfig{Name: name}}
		}
	}
	scaler("team-000", "second-scaler", func(so *kedav1alpha1.ScaledObject) { so.Spec.ScaleTargetRef.Name = "model-00001" })
	scaler("team-000", "custom-a", hpaNamed("shared-hpa"))
	scaler("team-000", "custom-b", hpaNamed("shared-hpa"))
	scaler("team-000", "impostor", hpaNamed("keda-hpa-model-00002"))
	scaler("team-001", "set-scaler", func(so *kedav1alpha1.ScaledObject) {
		so.Spec.ScaleTargetRef.APIVersion, so.Spec.ScaleTargetRef.Kind, so.Spec.ScaleTargetRef.Name = "apps/v1", "StatefulSet", "set-scaler"
	})
	objs = append(objs, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "model-00003", Namespace: "team-000"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "model-00003"},
			MaxReplicas:    3,
		},
	})
	relabelled := d0.DeepCopy()
	relabelled.Name = "labelled-other"
	relabelled.Spec.Template.Labels = map[string]string{"app": "model-00005"}
	objs = append(objs, relabelled)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cv, mv := views(t, ctx, objs)
	same := func(what string, got, want []string) {
		t.Helper()
		if !slices.Equal(got, want) {
			t.Errorf("%s: the cache view read %d objects, the manifest view %d\n got %v\nwant %v", what, len(got), len(want), got, want)
		}
		if len(want) == 0 && what != "empty" {
			t.Logf("%s: nothing to compare", what)
		}
	}
	for _, ns := range []string{"team-000", "team-001", "team-002", "nowhere", ""} {
		same("Deployments "+ns, names(cv.Deployments(ns)), names(mv.Deployments(ns)))
		same("ScaledObjects "+ns, names(cv.ScaledObjects(ns)), names(mv.ScaledObjects(ns)))
		same("Services "+ns, names(cv.Services(ns)), names(mv.Services(ns)))
		same("ModelServings "+ns, names(cv.ModelServings(ns)), names(mv.ModelServings(ns)))
		same("HPAs "+ns, names(cv.HPAs(ns)), names(mv.HPAs(ns)))
	}
	reads := 0
	for _, d := range mv.Deployments("") {
		ref := policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: d.Namespace, Name: d.Name}
		got, want := names(cv.ScaledObjectsFor(ref)), names(mv.ScaledObjectsFor(ref))
		same("ScaledObjectsFor "+ref.Key(), got, want)
		same("HPAsFor "+ref.Key(), names(cv.HPAsFor(ref)), names(mv.HPAsFor(ref)))
		reads += len(want)
	}
	for _, so := range mv.ScaledObjects("") {
		name := policies.KEDAHPAName(so)
		same("ScaledObjectsWithHPAName "+name, names(cv.ScaledObjectsWithHPAName(so.Namespace, name)), names(mv.ScaledObjectsWithHPAName(so.Namespace, name)))
	}
	for _, ref := range []policies.WorkloadRef{
		{Group: "apps", Kind: "StatefulSet", Namespace: "team-001", Name: "set-scaler"},
		{Group: "apps", Kind: "Deployment", Namespace: "team-001", Name: "set-scaler"},
	} {
		same("ScaledObjectsFor "+ref.Key(), names(cv.ScaledObjectsFor(ref)), names(mv.ScaledObjectsFor(ref)))
	}
	if got := names(cv.ScaledObjectsFor(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "team-000", Name: "model-00001"})); len(got) != 2 {
		t.Errorf("model-00001's ScaledObjects: %v, want its own and second-scaler", got)
	}
	for _, name := range []string{"shared-hpa", "keda-hpa-model-00002"} {
		if got := names(cv.ScaledObjectsWithHPAName("team-000", name)); len(got) != 2 {
			t.Errorf("ScaledObjects with HPA name %s: %v, want two", name, got)
		}
	}
	if got := cv.TemplateLabelled("team-000", "app", "model-00005"); len(got.Deployments) != 2 {
		t.Errorf("Deployments labelled app=model-00005: %v, want model-00005 and labelled-other", names(got.Deployments))
	}
	// Another namespace's target of the same name is not the same target.
	other := policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "team-001", Name: "model-00000"}
	same("empty", names(cv.ScaledObjectsFor(other)), nil)
	// Single reads: a copy of the cached object with its kind set.
	for _, d := range mv.Deployments("") {
		got, ok := cv.Deployment(d.Namespace, d.Name)
		if !ok || got.Name != d.Name || got.Namespace != d.Namespace || got.Kind != "Deployment" || got.APIVersion != "apps/v1" {
			t.Fatalf("Deployment %s/%s: %v %s/%s %v", d.Namespace, d.Name, ok, got.Namespace, got.Name, got.GetObjectKind().GroupVersionKind())
		}
	}
	if _, ok := cv.Deployment("team-001", "model-00000"); ok {
		t.Error("a Deployment read in another namespace")
	}
	if ns, ok := cv.Namespace("team-001"); !ok || ns.Name != "team-001" || ns.Kind != "Namespace" {
		t.Errorf("Namespace: %v %v", ok, ns.Name)
	}
	for _, ms := range mv.ModelServings("") {
		if got, ok := cv.ModelServing(ms.Namespace, ms.Name); !ok || got.Name != ms.Name {
			t.Errorf("ModelServing %s/%s: %v", ms.Namespace, ms.Name, ok)
		}
	}
	if reads != 254 {
		t.Errorf("the targets' ScaledObjects read %d, want the population's 250 and the four added on Deployments", reads)
	}
	// The template-label index lists, per namespace and label pair, the
	// workloads whose templates carry it: every pair of every workload,
	// in its namespace, in another, and in every namespace ("").
	pairs := 0
	for _, ns := range []string{"team-000", "team-001", ""} {
		var ws []client.Object
		for _, d := range mv.Deployments(ns) {
			ws = append(ws, d)
		}
		for _, ms := range mv.ModelServings(ns) {
			ws = append(ws, ms)
		}
		checked := map[string]bool{}
		for _, w := range ws {
			for _, pair := range policies.TemplateLabelPairs(w) {
				if checked[pair] {
					continue
				}
				checked[pair] = true
				key, value, _ := strings.Cut(pair, "=")
				var deployments, servings []string
				for _, d := range mv.Deployments(ns) {
					if slices.Contains(policies.TemplateLabelPairs(d), pair) {
						deployments = append(deployments, d.Namespace+"/"+d.Name)
					}
				}
				for _, ms := range mv.ModelServings(ns) {
					if slices.Contains(policies.TemplateLabelPairs(ms), pair) {
						servings = append(servings, ms.Namespace+"/"+ms.Name)
					}
				}
				slices.Sort(deployments)
				slices.Sort(servings)
				got := cv.TemplateLabelled(ns, key, value)
				same("TemplateLabelled Deployments "+ns+" "+pair, names(got.Deployments), deployments)
				if len(servings) > 0 || len(got.ModelServings) > 0 {
					same("TemplateLabelled ModelServings "+ns+" "+pair, names(got.ModelServings), servings)
				}
				pairs++
			}
		}
	}
	if got := cv.TemplateLabelled("team-002", "app", "model-00000"); len(got.Deployments) != 0 {
		t.Errorf("a Deployment listed by its template label in another namespace: %v", names(got.Deployments))
	}
	if pairs < 10 {
		t.Errorf("compared %d template label pairs; the population has more", pairs)
	}
}
