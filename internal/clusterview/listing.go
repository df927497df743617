package clusterview

import (
	"sort"
	"sync"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
)

// listing holds the objects of one kind by namespace and name. Lists and
// indexes are built on the first read after a change and then shared, so
// that reading them costs nothing per call: check judges every object
// against the same view, and rebuilding a namespace's list per object made
// it quadratic. Lists returned are shared: callers must not modify them
// (their capacity is their length, so an append copies).
type listing[T client.Object] struct {
	mu      sync.Mutex
	objs    map[string]map[string]T // namespace → name → object
	lists   map[string][]T          // namespace ("" for all) → sorted by namespace, name
	indexes map[string]map[string][]T
}

// index is a secondary index of a listing: the keys an object is found by.
type index[T client.Object] struct {
	name string
	keys func(T) []string
}

// put adds o, replacing the object of the same namespace and name.
func (l *listing[T]) put(o T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.objs == nil {
		l.objs = map[string]map[string]T{}
	}
	ns := l.objs[o.GetNamespace()]
	if ns == nil {
		ns = map[string]T{}
		l.objs[o.GetNamespace()] = ns
	}
	ns[o.GetName()] = o
	l.lists, l.indexes = nil, nil
}

// in lists the objects of a namespace ("" for every namespace), sorted by
// namespace and name.
func (l *listing[T]) in(ns string) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if out, ok := l.lists[ns]; ok {
		return out
	}
	var out []T
	if ns == "" {
		for _, objs := range l.objs {
			for _, o := range objs {
				out = append(out, o)
			}
		}
	} else {
		for _, o := range l.objs[ns] {
			out = append(out, o)
		}
	}
	sortObjects(out)
	if l.lists == nil {
		l.lists = map[string][]T{}
	}
	l.lists[ns] = out[:len(out):len(out)]
	return l.lists[ns]
}

// by lists the objects ix finds under key, sorted by namespace and name.
func (l *listing[T]) by(ix index[T], key string) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	if built, ok := l.indexes[ix.name]; ok {
		return built[key]
	}
	built := map[string][]T{}
	for _, objs := range l.objs {
		for _, o := range objs {
			for _, k := range ix.keys(o) {
				built[k] = append(built[k], o)
			}
		}
	}
	for k, objs := range built {
		sortObjects(objs)
		built[k] = objs[:len(objs):len(objs)]
	}
	if l.indexes == nil {
		l.indexes = map[string]map[string][]T{}
	}
	l.indexes[ix.name] = built
	return built[key]
}

func sortObjects[T client.Object](objs []T) {
	sort.Slice(objs, func(i, j int) bool {
		if objs[i].GetNamespace() != objs[j].GetNamespace() {
			return objs[i].GetNamespace() < objs[j].GetNamespace()
		}
		return objs[i].GetName() < objs[j].GetName()
	})
}

// The indexes of the manifest view: ScaledObjects and HPAs by target, as
// the cache indexes them, and ScaledObjects by the name of their HPA.
var (
	soTarget = index[*kedav1alpha1.ScaledObject]{"target", func(so *kedav1alpha1.ScaledObject) []string {
		if t, ok := policies.KEDATarget(so); ok {
			return []string{t.Key()}
		}
		return nil
	}}
	soHPAName = index[*kedav1alpha1.ScaledObject]{"hpa-name", func(so *kedav1alpha1.ScaledObject) []string {
		return []string{so.Namespace + "/" + policies.KEDAHPAName(so)}
	}}
	hpaTarget = index[*autoscalingv2.HorizontalPodAutoscaler]{"target", func(h *autoscalingv2.HorizontalPodAutoscaler) []string {
		return []string{policies.HPATarget(h).Key()}
	}}
)
