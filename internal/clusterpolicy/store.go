package clusterpolicy

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
)

// Store holds the cluster's policies as serve reads them: from the
// informer cache, parsed and validated once per generation, merged per
// namespace on demand. Nothing on the request path calls the API server.
//
// The policies are read as unstructured objects so that one that no longer
// decodes into the Go type (after an upgrade) is refused on its own,
// rather than breaking the list every other policy comes from.
type Store struct {
	reader     client.Reader
	registry   *policies.Registry
	namespaces func(name string) (*corev1.Namespace, bool)
	base       *policies.Settings
	log        logr.Logger
	served     bool

	// indexer is the informer's store, which the cache reads: a request
	// compares the resourceVersions it holds with seen (those of the last
	// full read) and reads the policies again only when one differs. Nil
	// when the informer does not expose it: every request then reads.
	indexer toolscache.Indexer

	mu          sync.Mutex
	fingerprint string
	set         *Set
	seen        map[types.UID]string
	// parsed holds the policy made of each object's generation; lastGood
	// the newest generation of each that was valid.
	parsed   map[types.UID]*Policy
	lastGood map[types.UID]*Policy
	refused  map[string]bool
	// inForce identifies the specs in force; onChange is called when it
	// changes after the first list (loaded), which is the state at start.
	inForce  string
	loaded   bool
	onChange func()
}

// OnChange makes the store call f when the policies in force change: a
// policy is added or deleted, or a new generation of one comes into force.
// A status update, a refused generation (the last good one stays) or a
// change of labels or annotations does not call it. f runs on the
// goroutine that noticed the change and must not block. Set it before the
// manager starts.
func (s *Store) OnChange(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onChange = f
}

// The Store's informer lists and watches the policies; nothing else reads
// them from the API server.
//
// +kubebuilder:rbac:groups=scaleguard.io,resources=scaleguardpolicies,verbs=list;watch

// NewStore watches ScaleGuardPolicies through c (set it up before the
// manager starts). namespaces looks a namespace up (the ClusterView's
// Namespace); base applies where no policy does (defaults when nil). When
// the cluster does not serve the CRD the store holds no policy and Served
// is false.
func NewStore(ctx context.Context, c cache.Cache, mapper meta.RESTMapper, reg *policies.Registry, base *policies.Settings,
	namespaces func(string) (*corev1.Namespace, bool), log logr.Logger) (*Store, error) {
	s := newStore(c, reg, base, namespaces, log)
	if _, err := mapper.RESTMapping(GVK.GroupKind(), GVK.Version); err != nil {
		if meta.IsNoMatchError(err) {
			log.Info("ScaleGuardPolicy is not served by this cluster (its CRD is not installed); the built-in settings apply until it is (serve then restarts to watch it)")
			return s, nil
		}
		return nil, fmt.Errorf("discovering %s: %w", GVK, err)
	}
	inf, err := c.GetInformer(ctx, newObject(), cache.BlockUntilSynced(false))
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", GVK, err)
	}
	// Reload on every change, so that the metric and the log follow the
	// policies in every replica, not only where requests arrive.
	reload := func(any) { s.Current() }
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: reload, UpdateFunc: func(_, n any) { reload(n) }, DeleteFunc: reload,
	}); err != nil {
		return nil, err
	}
	if withIndexer, ok := inf.(interface{ GetIndexer() toolscache.Indexer }); ok {
		s.indexer = withIndexer.GetIndexer()
	}
	s.served = true
	return s, nil
}

func newStore(r client.Reader, reg *policies.Registry, base *policies.Settings, namespaces func(string) (*corev1.Namespace, bool), log logr.Logger) *Store {
	return &Store{reader: r, registry: reg, namespaces: namespaces, base: base, log: log, set: NewSet(base),
		parsed: map[types.UID]*Policy{}, lastGood: map[types.UID]*Policy{}, refused: map[string]bool{}}
}

// Served reports whether the cluster serves ScaleGuardPolicy.
func (s *Store) Served() bool { return s.served }

func newObject() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVK)
	return u
}

// listTimeout bounds a read of the cache (in memory once synced).
const listTimeout = time.Second

// Current returns the policies as the cache holds them now. Parsing and
// validation happen once per generation of each policy.
func (s *Store) Current() *Set {
	set, changed, notify := s.current()
	if changed && notify != nil {
		notify()
	}
	return set
}

// current is Current, and whether the policies in force changed, with the
// function to tell.
func (s *Store) current() (*Set, bool, func()) {
	if !s.served {
		return s.set, false, nil
	}
	if s.unchanged() {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.set, false, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(GVK.GroupVersion().WithKind(GVK.Kind + "List"))
	if err := s.reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		s.log.Error(err, "listing ScaleGuardPolicies from the cache; the policies read before stay in force")
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.set, false, nil
	}
	var fp strings.Builder
	for i := range list.Items {
		u := &list.Items[i]
		fp.WriteString(u.GetName())
		fp.WriteByte('/')
		fp.WriteString(string(u.GetUID()))
		fp.WriteByte('/')
		fp.WriteString(u.GetResourceVersion())
		fp.WriteByte(0)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = make(map[types.UID]string, len(list.Items))
	for i := range list.Items {
		s.seen[list.Items[i].GetUID()] = list.Items[i].GetResourceVersion()
	}
	if fp.String() == s.fingerprint {
		return s.set, false, nil
	}
	var ps []*Policy
	present := map[types.UID]bool{}
	names := map[string]bool{}
	for i := range list.Items {
		u := &list.Items[i]
		present[u.GetUID()] = true
		names[u.GetName()] = true
		p := s.parsed[u.GetUID()]
		if p == nil || p.Generation != u.GetGeneration() {
			p = s.parse(u)
			s.parsed[u.GetUID()] = p
		}
		ps = append(ps, p)
		s.refused[p.Name] = p.Refused != ""
		RefusedPolicies.WithLabelValues(p.Name).Set(b2f(p.Refused != ""))
		GenerationInForce.WithLabelValues(p.Name).Set(float64(p.InForce))
	}
	for uid := range s.parsed {
		if !present[uid] {
			delete(s.parsed, uid)
			delete(s.lastGood, uid)
		}
	}
	for name := range s.refused {
		if !names[name] {
			delete(s.refused, name)
			RefusedPolicies.DeleteLabelValues(name)
			GenerationInForce.DeleteLabelValues(name)
		}
	}
	s.fingerprint = fp.String()
	s.set = NewSet(s.base, ps...)
	inForce := inForceKey(s.set)
	changed := s.loaded && inForce != s.inForce
	s.inForce, s.loaded = inForce, true
	return s.set, changed, s.onChange
}

// unchanged reports whether the informer's store holds exactly the
// policies, at the resourceVersions, of the last full read: what the cache
// holds, without a List's copies.
func (s *Store) unchanged() bool {
	if s.indexer == nil {
		return false
	}
	items := s.indexer.List()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil || len(items) != len(s.seen) {
		return false
	}
	for _, it := range items {
		o, ok := it.(client.Object)
		if !ok {
			return false
		}
		if rv, ok := s.seen[o.GetUID()]; !ok || rv != o.GetResourceVersion() {
			return false
		}
	}
	return true
}

// inForceKey identifies the specs in force of set: each policy's name, UID
// and generation in force, in the set's order (by name).
func inForceKey(set *Set) string {
	var b strings.Builder
	for _, p := range set.Policies() {
		fmt.Fprintf(&b, "%s/%s/%d\x00", p.Name, p.UID, p.InForce)
	}
	return b.String()
}

// parse makes the policy of one object: its spec when valid; else the
// last good generation seen in this process; else the spec its status
// says was in force (status.appliedSpec, written by the status
// controller, so that a restart after an upgrade keeps it); else none.
func (s *Store) parse(u *unstructured.Unstructured) *Policy {
	raw, err := json.Marshal(u.Object)
	if err == nil {
		var p *Policy
		if p, _, err = Parse(raw, s.registry); err == nil {
			s.lastGood[u.GetUID()] = p
			return p
		}
	}
	refused := err.Error()
	s.log.Error(err, "ScaleGuardPolicy refused; its last good generation, if any, stays in force", "policy", u.GetName(), "generation", u.GetGeneration())
	if good := s.lastGood[u.GetUID()]; good != nil {
		out := *good
		out.Generation, out.Refused = u.GetGeneration(), refused
		return &out
	}
	if good := s.fromStatus(u); good != nil {
		s.lastGood[u.GetUID()] = good
		out := *good
		out.Generation, out.Refused = u.GetGeneration(), refused
		return &out
	}
	return &Policy{Name: u.GetName(), UID: u.GetUID(), Generation: u.GetGeneration(), Refused: refused}
}

// fromStatus is the policy of status.appliedSpec at status.observedGeneration,
// when it is valid.
func (s *Store) fromStatus(u *unstructured.Unstructured) *Policy {
	spec, found, _ := unstructured.NestedFieldNoCopy(u.Object, "status", "appliedSpec")
	gen, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if !found || gen == 0 {
		return nil
	}
	obj := map[string]any{
		"apiVersion": GVK.GroupVersion().String(), "kind": GVK.Kind,
		"metadata": map[string]any{"name": u.GetName(), "uid": string(u.GetUID()), "generation": gen},
		"spec":     spec,
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil
	}
	p, _, err := Parse(raw, s.registry)
	if err != nil {
		s.log.Error(err, "the spec last in force (status.appliedSpec) is refused too; the policy is not in force", "policy", u.GetName())
		return nil
	}
	return p
}

// SettingsFor returns the settings of a namespace: the merge of the
// policies covering it, or the base settings. The result is shared.
func (s *Store) SettingsFor(namespace string) *policies.Settings {
	if namespace == "" {
		namespace = "default"
	}
	set := s.Current()
	if len(set.policies) == 0 {
		return set.base
	}
	ns, _ := s.namespaces(namespace)
	return set.forNamespace(namespace, ns)
}

// Settings returns the settings of the namespace "default"; it makes the
// store a webhooks.SettingsSource, whose handlers ask SettingsFor.
func (s *Store) Settings() *policies.Settings { return s.SettingsFor("default") }

// WaitSeen blocks until the cache holds a policy at resourceVersion rv or
// later, or ctx ends.
func (s *Store) WaitSeen(ctx context.Context, name, rv string) bool {
	if !s.served {
		return true
	}
	for {
		u := newObject()
		if err := s.reader.Get(ctx, client.ObjectKey{Name: name}, u); err == nil && notOlder(u.GetResourceVersion(), rv) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// notOlder compares resource versions, which the API server documents as
// opaque but serves as increasing integers; anything else must be equal.
func notOlder(have, want string) bool {
	h, err1 := strconv.ParseUint(have, 10, 64)
	w, err2 := strconv.ParseUint(want, 10, 64)
	if err1 != nil || err2 != nil {
		return have == want
	}
	return h >= w
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// ReadOnce reads the cluster's ScaleGuardPolicies once through r, a live
// client (the audit from a workstation), and returns a store over that
// snapshot: its lookups make no further calls. Policies are parsed and
// kept in force as serve does (the last good generation from
// status.appliedSpec when the newest is refused). Refused lists what was
// refused, for the caller to say.
func ReadOnce(ctx context.Context, r client.Reader, mapper meta.RESTMapper, reg *policies.Registry, base *policies.Settings,
	namespaces func(string) (*corev1.Namespace, bool), log logr.Logger) (*Store, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(GVK.GroupVersion().WithKind(GVK.Kind + "List"))
	snap := &snapshot{}
	s := newStore(snap, reg, base, namespaces, log)
	if _, err := mapper.RESTMapping(GVK.GroupKind(), GVK.Version); err != nil {
		if meta.IsNoMatchError(err) {
			return s, nil
		}
		return nil, fmt.Errorf("discovering %s: %w", GVK, err)
	}
	if err := r.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing ScaleGuardPolicies: %w", err)
	}
	snap.items = list.Items
	s.served = true
	s.Current()
	return s, nil
}

// Refused lists the policies whose newest generation is refused, with
// what stays in force.
func (s *Set) Refused() []string {
	var out []string
	for _, p := range s.policies {
		if p.Refused == "" {
			continue
		}
		inForce := "nothing stays in force"
		if p.Spec != nil {
			inForce = fmt.Sprintf("generation %d stays in force", p.InForce)
		}
		out = append(out, fmt.Sprintf("ScaleGuardPolicy %q: generation %d is refused (%s): %s", p.Name, p.Generation, inForce, p.Refused))
	}
	return out
}

// snapshot is a client.Reader over a list read once.
type snapshot struct {
	items []unstructured.Unstructured
}

func (r *snapshot) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return fmt.Errorf("a snapshot of ScaleGuardPolicies is only listed")
}

func (r *snapshot) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	l, ok := list.(*unstructured.UnstructuredList)
	if !ok {
		return fmt.Errorf("a snapshot of ScaleGuardPolicies lists unstructured objects, not %T", list)
	}
	l.Items = r.items
	return nil
}
