package clusterview

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
)

// lateKind is a kind whose informer started after serve did.
type lateKind struct {
	since    time.Time
	informer cache.Informer
}

// Late is a kind watched since its CRD appeared, whose informer has not
// synced yet: reads of it find nothing until it has.
type Late struct {
	GVK   schema.GroupVersionKind
	Since time.Time
}

// Watch starts watching a kind of Watched that the cluster did not serve
// at start and serves now (its CRD was installed later): its informer
// starts in the running cache, its indexes and claims are set up, and the
// functions given to OnServed learn of it. Until the informer has synced,
// reads of the kind find nothing and Syncing lists it, so that verdicts
// can say so; nothing restarts. Watching a kind already watched does
// nothing.
func (v *Cache) Watch(ctx context.Context, gvk schema.GroupVersionKind) error {
	var obj client.Object
	for _, o := range Watched {
		if kinds, _, err := apis.Scheme.ObjectKinds(o); err == nil && kinds[0] == gvk {
			obj = o.DeepCopyObject().(client.Object)
		}
	}
	if obj == nil {
		return fmt.Errorf("%s is not a kind the view watches", gvk)
	}
	if v.IsServed(gvk) {
		return nil
	}
	if err := v.inform(ctx, gvk, obj); err != nil {
		return err
	}
	inf, err := v.reader.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("watching %s: %w", gvk, err)
	}
	if err := v.followClaims(ctx, gvk); err != nil {
		return err
	}
	v.mu.Lock()
	v.served[gvk] = true
	v.late[gvk] = &lateKind{since: time.Now(), informer: inf}
	v.missing = slices.DeleteFunc(v.missing, func(m schema.GroupVersionKind) bool { return m == gvk })
	callbacks := slices.Clone(v.onServed)
	v.mu.Unlock()
	v.log.Info("watching a kind whose CRD was installed after serve started", "kind", gvk.String())
	for _, fn := range callbacks {
		fn(gvk)
	}
	return nil
}

// OnServed registers fn to be called with every kind Watch starts
// watching (the pause keeper and the audit follow new kinds through it).
func (v *Cache) OnServed(fn func(schema.GroupVersionKind)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.onServed = append(v.onServed, fn)
}

// Syncing lists the kinds watched since their CRD appeared whose informer
// has not synced yet, by kind name.
func (v *Cache) Syncing() []Late {
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []Late
	for gvk, l := range v.late {
		if !l.informer.HasSynced() {
			out = append(out, Late{GVK: gvk, Since: l.since})
		}
	}
	slices.SortFunc(out, func(a, b Late) int { return strings.Compare(a.GVK.Kind, b.GVK.Kind) })
	return out
}

// StillReading names the kinds Syncing lists (webhooks.SyncingView).
func (v *Cache) StillReading() []string {
	var out []string
	for _, l := range v.Syncing() {
		out = append(out, l.GVK.Kind)
	}
	return out
}

// readable reports whether reads of a kind may go to the cache: it is
// served, and its informer is not one still making its first list (a
// read of that would wait for it).
func (v *Cache) readable(gvk schema.GroupVersionKind) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if !v.served[gvk] {
		return false
	}
	l, ok := v.late[gvk]
	return !ok || l.informer.HasSynced()
}
