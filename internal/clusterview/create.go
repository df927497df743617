package clusterview

import (
	"context"
	"fmt"
	"sync"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
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
	v.claims = &claims{ttl: ttl, now: time.Now}
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

// ForCreate returns the view a CREATE of object (JSON of kind gvk) is
// validated against, and a function to call with the verdict: the cache,
// plus the claims of other requests, and with the read-through the lists
// read live (once per request and namespace; the cache answers if the read
// fails). A denial withdraws the object's claim; a dry run makes none.
func (v *Cache) ForCreate(gvk schema.GroupVersionKind, object []byte, dryRun bool) (policies.ClusterView, func(admitted bool)) {
	if v.claims == nil && v.live == nil {
		return v, func(bool) {}
	}
	cv := &createView{Cache: v, deadline: time.Now().Add(liveReadBudget)}
	release := func(bool) {}
	if v.claims != nil {
		var own client.Object
		if gvk == apis.ScaledObject || gvk == apis.HorizontalPodAutoscaler {
			if obj, err := apis.Decode(gvk, object); err == nil {
				obj.SetNamespace(defaultNamespace(obj.GetNamespace()))
				own = obj
			}
		}
		if dryRun {
			cv.claimed = v.claims.others(own)
		} else {
			cv.claimed, release = v.claims.take(own)
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
	claimed  []client.Object
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
	out = withClaims(out, cv.claimed, ns)
	if cv.sos == nil {
		cv.sos = map[string][]*kedav1alpha1.ScaledObject{}
	}
	cv.sos[ns] = out
	return out
}

// ScaledObjectsFor implements policies.ClusterView.
func (cv *createView) ScaledObjectsFor(target policies.WorkloadRef) []*kedav1alpha1.ScaledObject {
	var out []*kedav1alpha1.ScaledObject
	for _, so := range cv.ScaledObjects(target.Namespace) {
		if t, ok := policies.KEDATarget(so); ok && t == target {
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
	out = withClaims(out, cv.claimed, ns)
	if cv.hpas == nil {
		cv.hpas = map[string][]*autoscalingv2.HorizontalPodAutoscaler{}
	}
	cv.hpas[ns] = out
	return out
}

// HPAsFor implements policies.ClusterView.
func (cv *createView) HPAsFor(target policies.WorkloadRef) []*autoscalingv2.HorizontalPodAutoscaler {
	var out []*autoscalingv2.HorizontalPodAutoscaler
	for _, h := range cv.HPAs(target.Namespace) {
		if policies.HPATarget(h) == target {
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

// withClaims adds the claimed objects of type T in ns that the list does
// not hold yet (the stored object, once there, is the one to judge by).
func withClaims[T client.Object](list []T, claimed []client.Object, ns string) []T {
	for _, c := range claimed {
		o, ok := c.(T)
		if !ok || (ns != "" && o.GetNamespace() != ns) {
			continue
		}
		present := false
		for _, e := range list {
			if e.GetNamespace() == o.GetNamespace() && e.GetName() == o.GetName() {
				present = true
				break
			}
		}
		if !present {
			list = append(list, o)
		}
	}
	return list
}

// claims are the ScaledObjects and HPAs this process is judging or has
// admitted for CREATE and the cache has not delivered yet.
type claims struct {
	mu   sync.Mutex
	ttl  time.Duration
	now  func() time.Time
	list []*claim
}

type claim struct {
	obj     client.Object
	expires time.Time
}

// others returns the live claims of objects other than own.
func (c *claims) others(own client.Object) []client.Object {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.othersLocked(own)
}

func (c *claims) othersLocked(own client.Object) []client.Object {
	now := c.now()
	kept := c.list[:0]
	var out []client.Object
	for _, cl := range c.list {
		if now.After(cl.expires) {
			continue
		}
		kept = append(kept, cl)
		if own == nil || !sameObject(cl.obj, own) {
			out = append(out, cl.obj)
		}
	}
	c.list = kept
	return out
}

// take returns the other claims and, in the same step, claims own's place;
// release withdraws the claim when the object was not admitted and keeps
// it, until delivered or for the TTL from the verdict, when it was.
func (c *claims) take(own client.Object) ([]client.Object, func(admitted bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.othersLocked(own)
	if own == nil {
		return out, func(bool) {}
	}
	mine := &claim{obj: own, expires: c.now().Add(c.ttl)}
	c.list = append(c.list, mine)
	return out, func(admitted bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if admitted {
			mine.expires = c.now().Add(c.ttl)
			return
		}
		for i, cl := range c.list {
			if cl == mine {
				c.list = append(c.list[:i], c.list[i+1:]...)
				break
			}
		}
	}
}

// delivered retires the claims of an object the cache now holds: from here
// on the cache answers for it, deletes included.
func (c *claims) delivered(gk schema.GroupKind, obj client.Object) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.list[:0]
	for _, cl := range c.list {
		if cl.obj.GetObjectKind().GroupVersionKind().GroupKind() == gk &&
			cl.obj.GetNamespace() == obj.GetNamespace() && cl.obj.GetName() == obj.GetName() {
			continue
		}
		kept = append(kept, cl)
	}
	c.list = kept
}

func sameObject(a, b client.Object) bool {
	return a.GetNamespace() == b.GetNamespace() && a.GetName() == b.GetName() &&
		a.GetObjectKind().GroupVersionKind().GroupKind() == b.GetObjectKind().GroupVersionKind().GroupKind()
}
