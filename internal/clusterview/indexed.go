package clusterview

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

// Reads on the request path go straight to each informer's indexer
// (client-go's, which controller-runtime's cache reads too): a
// controller-runtime List finds the kind of the list by reflection and
// copies every item into the list, and the conflict rules make several
// per request (the cache's List was 0.72 s of the validating phase's
// 2.62 s in a profile of the HTTPS benchmark). The objects returned are
// the cached ones, as a List without deep copy returns them (shallow
// copies of them there): read-only, with their kind unset. When an
// informer does not expose its indexer, reads fall back to the cache's
// List.

// indexFunc computes the values an object is indexed by.
type indexFunc func(client.Object) []string

// indexes are the indexes of each kind rules read by, besides the
// namespace.
var indexes = map[schema.GroupVersionKind]map[string]indexFunc{
	gvkScaledObject: {targetIndex: indexSOTarget, hpaNameIndex: indexSOHPAName},
	gvkHPA:          {targetIndex: indexHPATarget},
	gvkDeployment:   {templateLabelIndex: indexTemplateLabels},
	gvkStatefulSet:  {templateLabelIndex: indexTemplateLabels},
	gvkDaemonSet:    {templateLabelIndex: indexTemplateLabels},
	gvkRollout:      {templateLabelIndex: indexTemplateLabels},
	gvkLWS:          {templateLabelIndex: indexTemplateLabels},
	gvkModelServing: {templateLabelIndex: indexTemplateLabels},
}

func init() {
	for _, a := range autoscalers.Catalogue {
		if gvk, ok := apis.UnstructuredKind(a.GVK.GroupKind()); ok {
			indexes[gvk] = map[string]indexFunc{autoscalerTargetIndex: indexAutoscalerTargets}
		}
	}
}

// indexTemplateLabels indexes a workload by its templates' label pairs
// but those whose value is its own name (TemplateLabelled finds it by
// name).
func indexTemplateLabels(o client.Object) []string {
	pairs := policies.TemplateLabelPairs(o)
	own := "=" + o.GetName()
	out := pairs[:0]
	for _, p := range pairs {
		if !strings.HasSuffix(p, own) { // label values hold no "="
			out = append(out, p)
		}
	}
	return out
}

// addIndexes sets up the kind's informer and its indexes.
func (v *Cache) addIndexes(ctx context.Context, gvk schema.GroupVersionKind, obj client.Object) error {
	inf, err := v.reader.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("watching %s: %w", gvk, err)
	}
	withIndexer, ok := inf.(interface{ GetIndexer() toolscache.Indexer })
	if !ok {
		for name, f := range indexes[gvk] {
			if err := v.reader.IndexField(ctx, obj, name, client.IndexerFunc(f)); err != nil {
				return fmt.Errorf("indexing %s: %w", gvk.Kind, err)
			}
		}
		return nil
	}
	if ix := Indexers(gvk); len(ix) > 0 {
		if err := inf.AddIndexers(ix); err != nil {
			return fmt.Errorf("indexing %s: %w", gvk.Kind, err)
		}
	}
	v.mu.Lock()
	v.indexers[gvk] = withIndexer.GetIndexer()
	v.mu.Unlock()
	return nil
}

// Indexers are the indexes serve's cache adds to a kind's informer besides
// the namespace's (none for most kinds).
func Indexers(gvk schema.GroupVersionKind) toolscache.Indexers {
	ix := toolscache.Indexers{}
	for name, f := range indexes[gvk] {
		ix[name] = namespacedIndex(f)
	}
	return ix
}

// namespacedIndex keys an object's values by its namespace, as the reads
// ask for them.
func namespacedIndex(f indexFunc) toolscache.IndexFunc {
	return func(o any) ([]string, error) {
		obj, ok := o.(client.Object)
		if !ok {
			return nil, nil
		}
		vals := f(obj)
		out := make([]string, len(vals))
		for i, val := range vals {
			out[i] = obj.GetNamespace() + "/" + val
		}
		return out, nil
	}
}

// objects returns the cached objects of a kind in ns (every namespace
// when ns is ""), or of those the ones whose index holds value when index
// is set. It is false when the kind's indexer is not at hand; a kind not
// readable (not served, or still being read) has none.
func (v *Cache) objects(gvk schema.GroupVersionKind, ns, index, value string) ([]any, bool) {
	idx, readable := v.indexerOf(gvk)
	if !readable {
		return nil, true
	}
	if idx == nil {
		return nil, false
	}
	var (
		objs []any
		err  error
	)
	switch {
	case index != "" && ns != "":
		objs, err = idx.ByIndex(index, ns+"/"+value)
	case index != "":
		f := indexes[gvk][index]
		for _, o := range idx.List() {
			if obj, ok := o.(client.Object); ok && f != nil && contains(f(obj), value) {
				objs = append(objs, o)
			}
		}
	case ns != "":
		objs, err = idx.ByIndex(toolscache.NamespaceIndex, ns)
	default:
		objs = idx.List()
	}
	if err != nil {
		v.log.Error(err, "cache read failed", "kind", gvk.Kind, "namespace", ns, "index", index)
		return nil, true
	}
	return objs, true
}

// namespacesOf lists, sorted, the namespaces that hold objects of a kind,
// from its indexer's namespace index; false when the indexer is not at
// hand. A kind the cluster does not serve holds none.
func (v *Cache) namespacesOf(gvk schema.GroupVersionKind) ([]string, bool) {
	idx, readable := v.indexerOf(gvk)
	if !readable {
		return nil, true
	}
	if idx == nil {
		return nil, false
	}
	names := idx.ListIndexFuncValues(toolscache.NamespaceIndex)
	slices.Sort(names)
	return names, true
}

// indexerOf is the kind's indexer, nil when it is not at hand; readable is
// false for a kind not readable (not served, or still being read), which
// holds nothing.
func (v *Cache) indexerOf(gvk schema.GroupVersionKind) (idx toolscache.Indexer, readable bool) {
	if !v.readable(gvk) {
		return nil, false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.indexers[gvk], true
}

func contains(vals []string, v string) bool {
	for _, s := range vals {
		if s == v {
			return true
		}
	}
	return false
}

// stored returns the cached object of a kind by namespace and name (ns
// empty for a cluster-scoped kind). direct is false when the kind's
// indexer is not at hand.
func (v *Cache) stored(gvk schema.GroupVersionKind, ns, name string) (obj any, found, direct bool) {
	if !v.readable(gvk) {
		return nil, false, true
	}
	v.mu.RLock()
	idx := v.indexers[gvk]
	v.mu.RUnlock()
	if idx == nil {
		return nil, false, false
	}
	key := name
	if ns != "" {
		key = ns + "/" + name
	}
	obj, found, err := idx.GetByKey(key)
	if err != nil {
		v.log.Error(err, "cache read failed", "kind", gvk.Kind, "namespace", ns, "name", name)
		return nil, false, true
	}
	return obj, found, true
}

// fetched reads one object of a kind: a shallow copy of the cached one
// with its kind set, as the cache's Get without deep copy gives it (a
// field of the copy may be set; what it points to is the cache's). On a
// miss it is an empty object and false.
func fetched[T any, PT interface {
	*T
	client.Object
}](v *Cache, gvk schema.GroupVersionKind, ns, name string) (PT, bool) {
	obj, found, direct := v.stored(gvk, ns, name)
	if !direct {
		o := PT(new(T))
		return o, v.get(gvk, ns, name, o)
	}
	if t, ok := obj.(PT); found && ok {
		c := *t
		o := PT(&c)
		o.GetObjectKind().SetGroupVersionKind(gvk)
		return o, true
	}
	return PT(new(T)), false
}

// ownNamed adds to out the cached object of a kind named name in ns when
// it has the indexed value as its own (is, the test the index would have
// made), since an index leaves out values that are an object's own.
func ownNamed[T any, PT interface {
	*T
	client.Object
}](v *Cache, gvk schema.GroupVersionKind, ns, name string, out []PT, is func(PT) bool) []PT {
	obj, found, direct := v.stored(gvk, ns, name)
	if !direct {
		if o, ok := fetched[T, PT](v, gvk, ns, name); ok && is(o) {
			return append(out, o)
		}
		return out
	}
	if t, ok := obj.(PT); found && ok && is(t) {
		return append(out, t)
	}
	return out
}

// newOf makes an empty list for listed's fallback.
func newOf[L any]() *L { return new(L) }

// listed reads a kind through its indexer (objects), or through the
// cache's List into newList() when the indexer is not at hand.
func listed[T any, L client.ObjectList](v *Cache, gvk schema.GroupVersionKind, ns, index, value string, newList func() L) []*T {
	if objs, ok := v.objects(gvk, ns, index, value); ok {
		out := make([]*T, 0, len(objs))
		for _, o := range objs {
			if t, ok := o.(*T); ok {
				out = append(out, t)
			}
		}
		return out
	}
	opts := []client.ListOption{client.InNamespace(ns)}
	if index != "" {
		opts = append(opts, client.MatchingFields{index: value})
	}
	list := newList()
	if !v.list(gvk, list, opts...) {
		return nil
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil
	}
	out := make([]*T, 0, len(items))
	for _, o := range items {
		if t, ok := any(o).(*T); ok {
			out = append(out, t)
		}
	}
	return out
}
