package bench_test

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/clusterview"
)

// BenchmarkObjectBytes is the live heap each object of the population
// takes once decoded as an informer decodes it, with and without
// clusterview.Transform: the objects alone, without the informer's store
// and indexes (test/integration/bench's TestMemory measures serve whole).
// The transform shares values equal across objects; the distinct variant
// gives every object its own resource quantities, label and annotation
// values, image and ports, so that nothing the transform shares repeats
// (see distinct).
func BenchmarkObjectBytes(b *testing.B) {
	eachVariant(b, env(b, "SCALEGUARD_BENCH_VIEW", []int{2000})[0], func(variant string, byKind map[schema.GroupVersionKind][][]byte, kinds []schema.GroupVersionKind) {
		for _, gvk := range kinds {
			for _, transform := range []bool{false, true} {
				b.Run(fmt.Sprintf("%s%s/transform=%v", gvk.Kind, variant, transform), func(b *testing.B) {
					raws := byKind[gvk]
					var perObject float64
					for b.Loop() {
						kept := make([]client.Object, 0, len(raws))
						// The shared values are weighed with the
						// objects using them, and none of an earlier
						// round's is freed during this one.
						clusterview.ResetShared()
						var before, after runtime.MemStats
						runtime.GC()
						runtime.ReadMemStats(&before)
						for _, raw := range raws {
							kept = append(kept, decode(b, gvk, raw, transform))
						}
						runtime.GC()
						runtime.ReadMemStats(&after)
						perObject = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(kept))
						runtime.KeepAlive(kept)
					}
					b.ReportMetric(perObject, "heap-B/object")
					b.ReportMetric(float64(len(raws[0])), "json-B/object")
				})
			}
		}
	})
}

// BenchmarkTransform is what clusterview.Transform costs an informer per
// object of the population it receives (it runs on every watch event):
// the objects are decoded beforehand, in batches, off the clock.
func BenchmarkTransform(b *testing.B) {
	eachVariant(b, 2000, func(variant string, byKind map[schema.GroupVersionKind][][]byte, kinds []schema.GroupVersionKind) {
		for _, gvk := range kinds {
			b.Run(gvk.Kind+variant, func(b *testing.B) {
				raws := byKind[gvk]
				batch := make([]client.Object, 0, 256)
				b.ReportAllocs()
				for i := 0; i < b.N; {
					b.StopTimer()
					batch = batch[:0]
					for j := 0; j < cap(batch) && i+j < b.N; j++ {
						batch = append(batch, decode(b, gvk, raws[(i+j)%len(raws)], false))
					}
					b.StartTimer()
					for _, o := range batch {
						if _, err := clusterview.Transform(o); err != nil {
							b.Fatal(err)
						}
					}
					i += len(batch)
				}
			})
		}
	})
}

// eachVariant calls f with the JSON by kind of a population of n, as it is
// ("") and with every value the transform shares made distinct
// ("/distinct").
func eachVariant(b *testing.B, n int, f func(variant string, byKind map[schema.GroupVersionKind][][]byte, kinds []schema.GroupVersionKind)) {
	objs, err := bench.Population(n, "")
	if err != nil {
		b.Fatal(err)
	}
	for _, variant := range []string{"", "/distinct"} {
		if variant != "" {
			objs = distinct(objs)
		}
		byKind, kinds := rawByKind(b, objs)
		f(variant, byKind, kinds)
	}
}

func decode(b *testing.B, gvk schema.GroupVersionKind, raw []byte, transform bool) client.Object {
	o, err := apis.Decode(gvk, raw)
	if err != nil {
		b.Fatal(err)
	}
	if transform {
		if _, err := clusterview.Transform(o); err != nil {
			b.Fatal(err)
		}
	}
	return o
}

// rawByKind is the objects' JSON by kind, and the kinds in name order.
func rawByKind(b *testing.B, objs []client.Object) (map[schema.GroupVersionKind][][]byte, []schema.GroupVersionKind) {
	byKind := map[schema.GroupVersionKind][][]byte{}
	for _, o := range objs {
		gvk, err := apiutil.GVKForObject(o, apis.Scheme)
		if err != nil {
			b.Fatal(err)
		}
		raw, err := json.Marshal(o)
		if err != nil {
			b.Fatal(err)
		}
		byKind[gvk] = append(byKind[gvk], raw)
	}
	kinds := make([]schema.GroupVersionKind, 0, len(byKind))
	for gvk := range byKind {
		kinds = append(kinds, gvk)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].Kind < kinds[j].Kind })
	return byKind, kinds
}

// BenchmarkIndexBytes is what client-go's store adds per object of the
// population besides the object, for ScaledObjects and Deployments: keyed
// by namespace/name and indexed by namespace alone, and with the indexes
// serve's cache adds (clusterview.Indexers: ScaledObjects by target and by
// HPA name, Deployments by their pod template's labels).
func BenchmarkIndexBytes(b *testing.B) {
	objs, err := bench.Population(env(b, "SCALEGUARD_BENCH_VIEW", []int{2000})[0], "")
	if err != nil {
		b.Fatal(err)
	}
	byKind := map[schema.GroupVersionKind][]client.Object{}
	for _, o := range objs {
		gvk, err := apiutil.GVKForObject(o, apis.Scheme)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := clusterview.Transform(o); err != nil {
			b.Fatal(err)
		}
		byKind[gvk] = append(byKind[gvk], o)
	}
	for _, gvk := range []schema.GroupVersionKind{
		kedav1alpha1.SchemeGroupVersion.WithKind("ScaledObject"), appsv1.SchemeGroupVersion.WithKind("Deployment"),
	} {
		withServe := clusterview.Indexers(gvk)
		withServe[toolscache.NamespaceIndex] = toolscache.MetaNamespaceIndexFunc
		for _, c := range []struct {
			name string
			ix   toolscache.Indexers
		}{
			{"namespace", toolscache.Indexers{toolscache.NamespaceIndex: toolscache.MetaNamespaceIndexFunc}},
			{"serve", withServe},
		} {
			b.Run(gvk.Kind+"/"+c.name, func(b *testing.B) {
				var perObject float64
				for b.Loop() {
					var before, after runtime.MemStats
					runtime.GC()
					runtime.ReadMemStats(&before)
					store := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, c.ix)
					for _, o := range byKind[gvk] {
						if err := store.Add(o); err != nil {
							b.Fatal(err)
						}
					}
					runtime.GC()
					runtime.ReadMemStats(&after)
					perObject = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(len(byKind[gvk]))
					runtime.KeepAlive(store)
				}
				b.ReportMetric(perObject, "store-B/object")
			})
		}
	}
}
