// Package bench holds what scaleguard's benchmarks share: realistic objects
// at scale, serve's ClusterView fed from memory, and an HTTPS load
// generator for admission endpoints. BENCHMARKS.md quotes what they
// measure; `make bench` runs them.
package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
)

// CacheView is serve's ClusterView (clusterview.Cache over
// controller-runtime's informer cache, objects trimmed by
// clusterview.Transform) holding objs, with the informers listing from
// memory instead of an API server: the reads rules make are the ones serve
// makes, indexes and transform included, without a control plane. It
// returns once every informer has synced; the informers stop with ctx.
func CacheView(ctx context.Context, objs []client.Object) (*clusterview.Cache, error) {
	byGVK := map[schema.GroupVersionKind][]runtime.Object{}
	for _, o := range objs {
		gvk, err := apiutil.GVKForObject(o, apis.Scheme)
		if err != nil {
			return nil, err
		}
		byGVK[gvk] = append(byGVK[gvk], o)
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, proto := range clusterview.Watched {
		gvk, err := apiutil.GVKForObject(proto, apis.Scheme)
		if err != nil {
			return nil, err
		}
		scope := meta.RESTScopeNamespace
		if _, ok := proto.(*corev1.Namespace); ok {
			scope = meta.RESTScopeRoot
		}
		mapper.Add(gvk, scope)
	}
	c, err := cache.New(&rest.Config{Host: "http://127.0.0.1:1"}, cache.Options{
		Scheme:                      apis.Scheme,
		Mapper:                      mapper,
		DefaultTransform:            clusterview.Transform,
		ReaderFailOnMissingInformer: true,
		// The informers list what byGVK holds and then watch a stream
		// that stays silent: nothing changes during a benchmark.
		NewInformer: func(_ toolscache.ListerWatcher, proto runtime.Object, resync time.Duration, ix toolscache.Indexers) toolscache.SharedIndexInformer {
			gvk, _ := apiutil.GVKForObject(proto, apis.Scheme)
			return toolscache.NewSharedIndexInformer(memoryLister(gvk, byGVK[gvk]), proto, resync, ix)
		},
	})
	if err != nil {
		return nil, err
	}
	view, err := clusterview.NewCache(ctx, c, mapper, func(o runtime.Object) (schema.GroupVersionKind, error) {
		return apiutil.GVKForObject(o, apis.Scheme)
	}, logr.Discard())
	if err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	syncCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if !view.WaitForSync(syncCtx) {
		return nil, fmt.Errorf("the in-memory informers did not sync")
	}
	return view, nil
}

// listOnly is a ListWatch that tells the reflector to list, then watch,
// rather than stream the initial objects through the watch (client-go's
// WatchList semantics, which an API server offers and memoryLister does
// not).
type listOnly struct{ *toolscache.ListWatch }

// IsWatchListSemanticsUnSupported implements client-go's opt-out.
func (listOnly) IsWatchListSemanticsUnSupported() bool { return true }

// memoryLister lists objs (deep copies, as an API server's answer would be
// fresh objects) and watches a stream that never sends.
func memoryLister(gvk schema.GroupVersionKind, objs []runtime.Object) toolscache.ListerWatcher {
	return listOnly{&toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			var list runtime.Object
			if apis.IsUnstructured(gvk) {
				// The kinds of the autoscaler catalogue are read as
				// unstructured data: the scheme has no list type for them.
				list = apis.NewUnstructuredList(gvk)
			} else {
				var err error
				if list, err = apis.Scheme.New(gvk.GroupVersion().WithKind(gvk.Kind + "List")); err != nil {
					return nil, err
				}
			}
			items := make([]runtime.Object, len(objs))
			for i, o := range objs {
				items[i] = o.DeepCopyObject()
			}
			if err := meta.SetList(list, items); err != nil {
				return nil, err
			}
			list.(metav1.ListInterface).SetResourceVersion("1")
			return list, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			return watch.NewFake(), nil
		},
	}}
}
