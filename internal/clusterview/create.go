package clusterview

import (
	"context"
	"fmt"
	"sync"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// The informer cache lags a create by the time its watch event takes to
// arrive, so two ScaledObjects created for one workload at nearly the same
// moment can both find it free. ForCreate gives a CREATE a view that also
// holds the ScaledObjects and HPAs this process is admitting or has just
// admitted and the cache has not delivered yet (claims); optionally, it
// reads the lists conflicts are decided on from the API server instead of
// the cache (read-through). BENCHMARKS.md measures both: claims are on by
// default, the read-through is not. UPDATEs, by far the most requests, stay
// on the cache.

// liveReadBudget bounds all the read-throughs of one CREATE together: the
// API server gives the whole webhook call 5 seconds, and a CREATE may list
// several kinds. Once it is spent, the remaining lists come from the cache.
const liveReadBudget = 2500 * time.Millisecond

// EnableClaims makes ForCreate keep claims: a ScaledObject or HPA under
// judgement for CREATE claims its place at once and keeps it until the
// cache delivers the object, or for ttl at most (a create the API server
// refused after admission is never delivered). Call it before the manager
// starts.
func (v *Cache) EnableClaims(ctx context.Context, ttl time.Duration) error {
	v.claims = &claims{ttl: ttl, now: time.Now, byNamespace: map[string]map[claimKey]*claim{}}
	for _, gvk := range []schema.GroupVersionKind{gvkScaledObject, gvkHPA} {
		if !v.IsServed(gvk) {
			continue // Watch follows it if its CRD is installed later.
		}
		if err := v.followClaims(ctx, gvk); err != nil {
			return err
		}
	}
	return nil
}

// followClaims drops the claims of a kind's objects as its informer
// delivers them; nothing when claims are off or gvk is not claimed.
func (v *Cache) followClaims(ctx context.Context, gvk schema.GroupVersionKind) error {
	c := v.claims
	if c == nil || (gvk != gvkScaledObject && gvk != gvkHPA) {
		return nil
	}
	inf, err := v.reader.GetInformerForKind(ctx, gvk, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("watching %s for claims: %w", gvk.Kind, err)
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: func(o any) {
		if obj, ok := o.(client.Object); ok {
			c.delivered(gvk.GroupKind(), obj)
		}
	}}); err != nil {
		return fmt.Errorf("watching %s for claims: %w", gvk.Kind, err)
	}
	return nil
}

// EnableReadThrough makes ForCreate read the lists of ScaledObjects, HPAs,
// InferenceServices and Kthena policies from live (an uncached reader, the
// manager's API reader) instead of the cache.
func (v *Cache) EnableReadThrough(live client.Reader) { v.live = live }

// ForCreate returns the view a CREATE of object (JSON of kind gvk, and
// decoded when not nil) is validated against, and a function to call with the verdict: the cache,
// plus the claims of other requests, and with the read-through the lists
// read live (once per request and namespace; the cache answers if the read
// fails). A denial withdraws the object's claim; a dry run makes none.
func (v *Cache) ForCreate(gvk schema.GroupVersionKind, object []byte, decoded client.Object, dryRun bool) (policies.ClusterView, func(admitted bool)) {
	if v.claims == nil && v.live == nil {
		return v, func(bool) {}
	}
	cv := &createView{Cache: v, deadline: time.Now().Add(liveReadBudget)}
	release := func(bool) {}
	if v.claims != nil {
		var own client.Object
		if gvk == apis.ScaledObject || gvk == apis.HorizontalPodAutoscaler {
			obj, err := decoded, error(nil)
			if obj == nil {
				obj, err = apis.Decode(gvk, object)
			}
			if err == nil {
				if ns := obj.GetNamespace(); ns == "" {
					// The decoded object is the judgement's: name the
					// namespace on a copy.
					obj = obj.DeepCopyObject().(client.Object)
					obj.SetNamespace(defaultNamespace(ns))
				}
				own = obj
			}
		}
		if own != nil {
			// The claims of the object's own namespace are read in the
			// same locked step as its claim is taken, so that of two
			// creates judged at once exactly one sees the other's.
			cv.own = keyOf(own)
			var claimed []*claim
			if dryRun {
				claimed = v.claims.others(own.GetNamespace(), cv.own)
			} else {
				claimed, release = v.claims.take(own)
			}
			cv.claimed = map[string][]*claim{own.GetNamespace(): claimed}
		}
	}
	return cv, release
}

func defaultNamespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// createView is the view of one CREATE: the cache or live lists (memoised
// per namespace), plus the claims of other requests.
type createView struct {
	*Cache
	// deadline ends the read-through budget of this CREATE.
	deadline time.Time
	// own is the claim key of the object created (zero for kinds that
	// take no claim); claimed are the other claims by namespace, read
	// once per namespace (its own namespace's when the claim was taken);
	// used are those that went into a list this judgement read.
	own      claimKey
	claimed  map[string][]*claim
	used     map[*claim]bool
	sos      map[string][]*kedav1alpha1.ScaledObject
	hpas     map[string][]*autoscalingv2.HorizontalPodAutoscaler
	isvcs    map[string][]*kservev1beta1.InferenceService
	policies map[string][]*kthenav1alpha1.AutoscalingPolicy
	bindings map[string][]*kthenav1alpha1.AutoscalingPolicyBinding
}

var _ policies.ClusterView = &createView{}

// readLive lists a namespace ("" for all) from the API server; false when
// there is no read-through, the kind is not served or the read failed (the
// failure is logged).
func (cv *createView) readLive(gvk schema.GroupVersionKind, list client.ObjectList, ns string) bool {
	if cv.live == nil || !cv.IsServed(gvk) {
		return false
	}
	if !time.Now().Before(cv.deadline) {
		cv.log.Info("read-through budget of this CREATE spent; judging from the cache", "kind", gvk.Kind, "namespace", ns)
		return false
	}
	ctx, cancel := context.WithDeadline(context.Background(), cv.deadline)
	defer cancel()
	var opts []client.ListOption
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := cv.live.List(ctx, list, opts...); err != nil {
		cv.log.Error(err, "reading through to the API server failed; judging from the cache", "kind", gvk.Kind, "namespace", ns)
		return false
	}
	return true
}

// ScaledObjects implements policies.ClusterView.
func (cv *createView) ScaledObjects(ns string) []*kedav1alpha1.ScaledObject {
	if out, ok := cv.sos[ns]; ok {
		return out
	}
	var out []*kedav1alpha1.ScaledObject
	l := &kedav1alpha1.ScaledObjectList{}
	if cv.readLive(gvkScaledObject, l, ns) {
		out = ptrs(l.Items)
	} else {
		out = cv.Cache.ScaledObjects(ns)
	}
	out = withClaims(cv, func() []*kedav1alpha1.ScaledObject { return out }, ns, nil, nil)
	if cv.sos == nil {
		cv.sos = map[string][]*kedav1alpha1.ScaledObject{}
	}
	cv.sos[ns] = out
	return out
}

// ScaledObjectsFor implements policies.ClusterView: without the
// read-through, the cache's index by target and the claims on target, so
// that a CREATE reads the few ScaledObjects of its target rather than its
// whole namespace.
func (cv *createView) ScaledObjectsFor(target policies.WorkloadRef) []*kedav1alpha1.ScaledObject {
	on := func(so *kedav1alpha1.ScaledObject) bool {
		t, ok := policies.KEDATarget(so)
		return ok && t == target
	}
	if cv.live == nil {
		return withClaims(cv, func() []*kedav1alpha1.ScaledObject { return cv.Cache.ScaledObjectsFor(target) }, target.Namespace, on, func(so *kedav1alpha1.ScaledObject) bool {
			return cv.stored(gvkScaledObject, so.Namespace, so.Name, &kedav1alpha1.ScaledObject{})
		})
	}
	var out []*kedav1alpha1.ScaledObject
	for _, so := range cv.ScaledObjects(target.Namespace) {
		if on(so) {
			out = append(out, so)
		}
	}
	return out
}

// HPAs implements policies.ClusterView.
func (cv *createView) HPAs(ns string) []*autoscalingv2.HorizontalPodAutoscaler {
	if out, ok := cv.hpas[ns]; ok {
		return out
	}
	var out []*autoscalingv2.HorizontalPodAutoscaler
	l := &autoscalingv2.HorizontalPodAutoscalerList{}
	if cv.readLive(gvkHPA, l, ns) {
		out = ptrs(l.Items)
	} else {
		out = cv.Cache.HPAs(ns)
	}
	out = withClaims(cv, func() []*autoscalingv2.HorizontalPodAutoscaler { return out }, ns, nil, nil)
	if cv.hpas == nil {
		cv.hpas = map[string][]*autoscalingv2.HorizontalPodAutoscaler{}
	}
	cv.hpas[ns] = out
	return out
}

// HPAsFor implements policies.ClusterView, as ScaledObjectsFor.
func (cv *createView) HPAsFor(target policies.WorkloadRef) []*autoscalingv2.HorizontalPodAutoscaler {
	on := func(h *autoscalingv2.HorizontalPodAutoscaler) bool { return policies.HPATarget(h) == target }
	if cv.live == nil {
		return withClaims(cv, func() []*autoscalingv2.HorizontalPodAutoscaler { return cv.Cache.HPAsFor(target) }, target.Namespace, on, func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
			return cv.stored(gvkHPA, h.Namespace, h.Name, &autoscalingv2.HorizontalPodAutoscaler{})
		})
	}
	var out []*autoscalingv2.HorizontalPodAutoscaler
	for _, h := range cv.HPAs(target.Namespace) {
		if on(h) {
			out = append(out, h)
		}
	}
	return out
}

// InferenceServices implements policies.ClusterView.
func (cv *createView) InferenceServices(ns string) []*kservev1beta1.InferenceService {
	return memoised(cv, &cv.isvcs, ns, gvkISVC, &kservev1beta1.InferenceServiceList{},
		func(l *kservev1beta1.InferenceServiceList) []*kservev1beta1.InferenceService { return ptrs(l.Items) },
		cv.Cache.InferenceServices)
}

// AutoscalingPolicies implements policies.ClusterView.
func (cv *createView) AutoscalingPolicies(ns string) []*kthenav1alpha1.AutoscalingPolicy {
	return memoised(cv, &cv.policies, ns, gvkPolicy, &kthenav1alpha1.AutoscalingPolicyList{},
		func(l *kthenav1alpha1.AutoscalingPolicyList) []*kthenav1alpha1.AutoscalingPolicy {
			return ptrs(l.Items)
		},
		cv.Cache.AutoscalingPolicies)
}

// AutoscalingPolicyBindings implements policies.ClusterView.
func (cv *createView) AutoscalingPolicyBindings(ns string) []*kthenav1alpha1.AutoscalingPolicyBinding {
	return memoised(cv, &cv.bindings, ns, gvkBinding, &kthenav1alpha1.AutoscalingPolicyBindingList{},
		func(l *kthenav1alpha1.AutoscalingPolicyBindingList) []*kthenav1alpha1.AutoscalingPolicyBinding {
			return ptrs(l.Items)
		},
		cv.Cache.AutoscalingPolicyBindings)
}

// memoised reads a kind without claims live once per namespace.
func memoised[T any, L client.ObjectList](cv *createView, memo *map[string][]*T, ns string, gvk schema.GroupVersionKind, list L, items func(L) []*T, cached func(string) []*T) []*T {
	if out, ok := (*memo)[ns]; ok {
		return out
	}
	var out []*T
	if cv.readLive(gvk, list, ns) {
		out = items(list)
	} else {
		out = cached(ns)
	}
	if *memo == nil {
		*memo = map[string][]*T{}
	}
	(*memo)[ns] = out
	return out
}

// withClaims adds to the list read returns the claimed objects of type T
// in ns (every namespace when ns is "") that keep passes (all when nil)
// and that are not stored yet (the stored object, once there, is the one
// to judge by): not in the list by name, nor, when stored is set, in the
// cache by the time the claims are read. The cache is asked before the
// list is read, so that an object the cache receives meanwhile is found
// in the list rather than missing from both. The claims added are
// recorded as used.
func withClaims[T client.Object](cv *createView, read func() []T, ns string, keep, stored func(T) bool) []T {
	type pending struct {
		c *claim
		o T
	}
	var candidates []pending
	for _, c := range cv.claimsIn(ns) {
		o, ok := c.obj.(T)
		if !ok || (keep != nil && !keep(o)) || (stored != nil && stored(o)) {
			continue
		}
		candidates = append(candidates, pending{c, o})
	}
	list := read()
	if len(candidates) == 0 {
		return list
	}
	names := make(map[string]bool, len(list))
	for _, e := range list {
		names[e.GetNamespace()+"/"+e.GetName()] = true
	}
	for _, p := range candidates {
		if names[p.o.GetNamespace()+"/"+p.o.GetName()] {
			continue
		}
		list = append(list[:len(list):len(list)], p.o)
		if cv.used == nil {
			cv.used = map[*claim]bool{}
		}
		cv.used[p.c] = true
	}
	return list
}

// stored reports whether the cache holds an object of kind gvk by name
// (into obj, which must be empty).
func (cv *createView) stored(gvk schema.GroupVersionKind, ns, name string, obj client.Object) bool {
	return cv.Cache.get(gvk, ns, name, obj) && obj.GetName() == name
}

// claimsIn returns the claims of other objects in ns ("" for every
// namespace), read from the process's claims once per namespace.
func (cv *createView) claimsIn(ns string) []*claim {
	if cv.claims == nil {
		return nil
	}
	if c, ok := cv.claimed[ns]; ok {
		return c
	}
	c := cv.claims.others(ns, cv.own)
	if cv.claimed == nil {
		cv.claimed = map[string][]*claim{}
	}
	cv.claimed[ns] = c
	return c
}

// ScaledObjectsWithHPAName implements policies.HPANameIndex: the cache's
// index (or the live list), plus the claims.
func (cv *createView) ScaledObjectsWithHPAName(ns, name string) []*kedav1alpha1.ScaledObject {
	hasName := func(so *kedav1alpha1.ScaledObject) bool { return policies.KEDAHPAName(so) == name }
	if cv.live != nil {
		var out []*kedav1alpha1.ScaledObject
		for _, so := range cv.ScaledObjects(ns) {
			if hasName(so) {
				out = append(out, so)
			}
		}
		return out
	}
	return withClaims(cv, func() []*kedav1alpha1.ScaledObject { return cv.Cache.ScaledObjectsWithHPAName(ns, name) }, ns, hasName, func(so *kedav1alpha1.ScaledObject) bool {
		return cv.stored(gvkScaledObject, so.Namespace, so.Name, &kedav1alpha1.ScaledObject{})
	})
}

// claimGrace is how long after its create was admitted a claim counts
// without question. Past it, a claim that decides a denial is checked:
// an object the API server has not stored by then was refused after
// admission (by another webhook, a quota, a client that gave up), and its
// claim must not refuse other creates for the rest of its TTL.
const claimGrace = time.Second

// DropUnstored implements webhooks.UnstoredClaims: of the claims this
// judgement used, it drops those admitted more than claimGrace ago whose
// objects the API server does not hold (one GET each, from the reader
// given to CheckClaimsWith), from this view and for good, and reports
// whether it dropped any. Claims still being judged, younger ones and
// those the API server could not be asked about stay.
func (cv *createView) DropUnstored(ctx context.Context) bool {
	if cv.claims == nil || cv.claims.stored == nil || len(cv.used) == 0 {
		return false
	}
	dropped := false
	for c := range cv.used {
		if !cv.claims.stale(c) {
			continue
		}
		stored, err := cv.claims.stored(ctx, c.obj)
		if err != nil {
			cv.log.Error(err, "checking a claim with the API server failed; it stands", "kind", c.key.gk.Kind, "namespace", c.key.namespace, "name", c.key.name)
			continue
		}
		if stored {
			continue
		}
		cv.log.Info("dropped the claim of a create the API server refused after admitting it", "kind", c.key.gk.Kind, "namespace", c.key.namespace, "name", c.key.name)
		cv.claims.drop(c)
		for ns, list := range cv.claimed {
			cv.claimed[ns] = without(list, c)
		}
		dropped = true
	}
	if dropped {
		// Lists are built again without the dropped claims.
		cv.used, cv.sos, cv.hpas = nil, nil, nil
	}
	return dropped
}

func without(list []*claim, c *claim) []*claim {
	out := make([]*claim, 0, len(list))
	for _, e := range list {
		if e != c {
			out = append(out, e)
		}
	}
	return out
}

// CheckClaimsWith lets a CREATE whose denial rests on claims ask the API
// server, through live (an uncached reader), whether the claimed objects
// were stored (DropUnstored). Call it after EnableClaims.
func (v *Cache) CheckClaimsWith(live client.Reader) {
	if v.claims == nil {
		return
	}
	v.claims.stored = func(ctx context.Context, obj client.Object) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		got := obj.DeepCopyObject().(client.Object)
		err := live.Get(ctx, client.ObjectKeyFromObject(obj), got)
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	}
}

// claims are the ScaledObjects and HPAs this process is judging or has
// admitted for CREATE and the cache has not delivered yet: one claim per
// object (a create retried replaces the claim of the one before), by
// namespace, so that a create reads only the claims of the namespaces it
// looks at.
type claims struct {
	mu          sync.Mutex
	ttl         time.Duration
	now         func() time.Time
	byNamespace map[string]map[claimKey]*claim
	// stored asks the API server whether a claimed object is stored
	// (CheckClaimsWith); nil means claims are never checked.
	stored func(ctx context.Context, obj client.Object) (bool, error)
}

// claimKey identifies a claimed object.
type claimKey struct {
	gk              schema.GroupKind
	namespace, name string
}

func keyOf(obj client.Object) claimKey {
	return claimKey{gk: obj.GetObjectKind().GroupVersionKind().GroupKind(), namespace: obj.GetNamespace(), name: obj.GetName()}
}

type claim struct {
	key     claimKey
	obj     client.Object
	expires time.Time
	// admitted is when the create was admitted; zero while it is judged.
	admitted time.Time
	// prev is the claim this one replaced (an earlier create of the same
	// object, admitted), put back if this create is denied.
	prev *claim
}

// others returns the live claims of ns ("" for every namespace) but
// own's, dropping expired ones.
func (c *claims) others(ns string, own claimKey) []*claim {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ns != "" {
		return c.othersIn(ns, own, nil)
	}
	var out []*claim
	for n := range c.byNamespace {
		out = c.othersIn(n, own, out)
	}
	return out
}

// othersIn appends the live claims of ns but own's to out. Callers hold mu.
func (c *claims) othersIn(ns string, own claimKey, out []*claim) []*claim {
	m := c.byNamespace[ns]
	now := c.now()
	for k, cl := range m {
		if now.After(cl.expires) {
			delete(m, k)
			continue
		}
		if k != own {
			out = append(out, cl)
		}
	}
	if len(m) == 0 {
		delete(c.byNamespace, ns)
	}
	return out
}

// take returns the other claims of own's namespace and, in the same step,
// claims own's place; release withdraws the claim when the object was
// not admitted (putting back the one it replaced) and keeps it, until
// delivered or for the TTL from the verdict, when it was.
func (c *claims) take(own client.Object) ([]*claim, func(admitted bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := keyOf(own)
	out := c.othersIn(own.GetNamespace(), key, nil)
	m := c.byNamespace[key.namespace]
	if m == nil {
		m = map[claimKey]*claim{}
		c.byNamespace[key.namespace] = m
	}
	mine := &claim{key: key, obj: own, expires: c.now().Add(c.ttl), prev: m[key]}
	m[key] = mine
	return out, func(admitted bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if admitted {
			mine.admitted = c.now()
			mine.expires = mine.admitted.Add(c.ttl)
			mine.prev = nil
			return
		}
		m := c.byNamespace[key.namespace]
		if m == nil || m[key] != mine {
			return // replaced, delivered or expired meanwhile.
		}
		if p := mine.prev; p != nil && !p.admitted.IsZero() && !c.now().After(p.expires) {
			m[key] = p
			return
		}
		delete(m, key)
		if len(m) == 0 {
			delete(c.byNamespace, key.namespace)
		}
	}
}

// stale reports whether a claim's create was admitted more than
// claimGrace ago.
func (c *claims) stale(cl *claim) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !cl.admitted.IsZero() && c.now().Sub(cl.admitted) > claimGrace
}

// drop removes a claim, if it is still the object's.
func (c *claims) drop(cl *claim) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.byNamespace[cl.key.namespace]; m != nil && m[cl.key] == cl {
		delete(m, cl.key)
		if len(m) == 0 {
			delete(c.byNamespace, cl.key.namespace)
		}
	}
}

// delivered retires the claim of an object the cache now holds: from here
// on the cache answers for it, deletes included.
func (c *claims) delivered(gk schema.GroupKind, obj client.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := claimKey{gk: gk, namespace: obj.GetNamespace(), name: obj.GetName()}
	if m := c.byNamespace[key.namespace]; m != nil {
		delete(m, key)
		if len(m) == 0 {
			delete(c.byNamespace, key.namespace)
		}
	}
}
