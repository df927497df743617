package clusterpolicy

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// listReader serves a list of policies as the cache would, from an
// informer's kind of store.
type listReader struct {
	mu    sync.Mutex
	idx   toolscache.Indexer
	lists int
}

func newListReader() *listReader {
	return &listReader{idx: toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, toolscache.Indexers{})}
}

func (r *listReader) set(items ...unstructured.Unstructured) {
	objs := make([]any, len(items))
	for i := range items {
		objs[i] = &items[i]
	}
	if err := r.idx.Replace(objs, ""); err != nil {
		panic(err)
	}
}

func (r *listReader) listed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lists
}

// serveFrom makes s a store serve would run over r: it compares what r's
// store holds with its last read.
func serveFrom(r *listReader, s *Store) {
	s.served = true
	s.indexer = r.idx
}

func (r *listReader) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return nil
}

func (r *listReader) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	r.mu.Lock()
	r.lists++
	r.mu.Unlock()
	var items []unstructured.Unstructured
	for _, o := range r.idx.List() {
		items = append(items, *o.(*unstructured.Unstructured))
	}
	sort.Slice(items, func(i, j int) bool { return items[i].GetName() < items[j].GetName() })
	list.(*unstructured.UnstructuredList).Items = items
	return nil
}

func policyObject(t *testing.T, name, uid string, gen int64, rv, spec string) unstructured.Unstructured {
	t.Helper()
	var u unstructured.Unstructured
	doc := `{"apiVersion":"scaleguard.io/v1alpha1","kind":"ScaleGuardPolicy","metadata":{"name":"` + name + `","uid":"` + uid +
		`","generation":` + itoa(gen) + `,"resourceVersion":"` + rv + `"},"spec":` + spec + `}`
	if err := u.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	return u
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func noNamespaces(string) (*corev1.Namespace, bool) { return nil, false }

func TestStoreKeepsTheLastGoodGeneration(t *testing.T) {
	r := newListReader()
	s := newStore(r, policies.Default, nil, noNamespaces, logr.Discard())
	serveFrom(r, s)
	const warn = `{"rules":{"promql-unscoped":{"action":"Warn"}}}`
	// A generation that an older scaleguard accepted and this one does
	// not: a rule it no longer has.
	const stale = `{"rules":{"promql-unscoped":{"action":"Off"},"promql-retired":{"action":"Off"}}}`

	r.set(policyObject(t, "relax", "u1", 1, "10", warn))
	if got := s.SettingsFor("serving").Enforcement("promql-unscoped"); got != policies.WarnOnly {
		t.Fatalf("generation 1: %s, want Warn", got)
	}
	if v := gauge(t, "relax"); v != 0 {
		t.Errorf("refused metric %v for a valid policy", v)
	}

	r.set(policyObject(t, "relax", "u1", 2, "11", stale))
	p, _ := s.Current().Get("relax")
	if p.Generation != 2 || p.InForce != 1 || !strings.Contains(p.Refused, `spec.rules[promql-retired]: Not found`) {
		t.Fatalf("generation 2: %+v", p)
	}
	if got := s.SettingsFor("serving").Enforcement("promql-unscoped"); got != policies.WarnOnly {
		t.Errorf("generation 2 refused: %s, want generation 1's Warn still in force", got)
	}
	if v := gauge(t, "relax"); v != 1 {
		t.Errorf("refused metric %v, want 1", v)
	}

	// A restart: nothing in memory; the status says what was in force.
	restarted := newStore(r, policies.Default, nil, noNamespaces, logr.Discard())
	serveFrom(r, restarted)
	if got := restarted.SettingsFor("serving").Enforcement("promql-unscoped"); got != policies.Enforce {
		t.Errorf("restart without status: %s, want the default Enforce (nothing known to be good)", got)
	}
	withStatus := policyObject(t, "relax", "u1", 2, "12", stale)
	withStatus.Object["status"] = map[string]any{"observedGeneration": int64(1), "appliedSpec": map[string]any{
		"rules": map[string]any{"promql-unscoped": map[string]any{"action": "Warn"}}}}
	r.set(withStatus)
	again := newStore(r, policies.Default, nil, noNamespaces, logr.Discard())
	serveFrom(r, again)
	if got := again.SettingsFor("serving").Enforcement("promql-unscoped"); got != policies.WarnOnly {
		t.Errorf("restart with status.appliedSpec: %s, want its Warn", got)
	}
	if p, _ := again.Current().Get("relax"); p.InForce != 1 || p.Generation != 2 || p.Refused == "" {
		t.Errorf("restart with status.appliedSpec: %+v", p)
	}

	// Fixed, then deleted.
	r.set(policyObject(t, "relax", "u1", 3, "13", `{"rules":{"promql-unscoped":{"action":"Off"}}}`))
	if got := again.SettingsFor("serving").Enforcement("promql-unscoped"); got != policies.Off {
		t.Errorf("generation 3: %s, want Off", got)
	}
	if v := gauge(t, "relax"); v != 0 {
		t.Errorf("refused metric %v after the fix, want 0", v)
	}
	r.set()
	if got := again.SettingsFor("serving").Enforcement("promql-unscoped"); got != policies.Enforce {
		t.Errorf("deleted: %s, want Enforce", got)
	}
	if n := series(); n != 0 {
		t.Errorf("the metric keeps %d series after the policy is gone", n)
	}
}

func TestStoreSelectsByNamespaceLabels(t *testing.T) {
	r := newListReader()
	nss := map[string]*corev1.Namespace{"chat": {}}
	nss["chat"].Name, nss["chat"].Labels = "chat", map[string]string{"team": "serving"}
	s := newStore(r, policies.Default, nil, func(n string) (*corev1.Namespace, bool) { ns, ok := nss[n]; return ns, ok }, logr.Discard())
	serveFrom(r, s)
	r.set(
		policyObject(t, "by-label", "u1", 1, "1", `{"namespaceSelector":{"matchLabels":{"team":"serving"}},"rules":{"target-ref":{"action":"Warn"}}}`),
		policyObject(t, "by-name", "u2", 1, "2", `{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"batch"}},"rules":{"target-ref":{"action":"Off"}}}`),
	)
	for ns, want := range map[string]policies.Enforcement{"chat": policies.WarnOnly, "batch": policies.Off, "web": policies.Enforce, "": policies.Enforce} {
		if got := s.SettingsFor(ns).Enforcement("target-ref"); got != want {
			t.Errorf("%q: %s, want %s", ns, got, want)
		}
	}
}

func gauge(t *testing.T, policy string) float64 {
	t.Helper()
	var m dto.Metric
	if err := RefusedPolicies.WithLabelValues(policy).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

func series() int {
	ch := make(chan prometheus.Metric, 16)
	RefusedPolicies.Collect(ch)
	close(ch)
	return len(ch)
}

// BenchmarkStoreSettingsFor is the cost a request pays for its settings
// when neither the policies nor the namespace changed: no list, the
// namespace's lookup and its remembered merge.
func BenchmarkStoreSettingsFor(b *testing.B) {
	t := &testing.T{}
	r := newListReader()
	r.set(
		policyObject(t, "a", "u1", 1, "1", `{"namespaceSelector":{"matchLabels":{"team":"serving"}},"rules":{"promql-unscoped":{"action":"Warn"}}}`),
		policyObject(t, "b", "u2", 1, "2", `{"rules":{"target-ref":{"action":"Warn"}},"exemptions":[{"rules":["gpu-unpaused"],"reason":"r"}]}`),
		policyObject(t, "c", "u3", 1, "3", `{"namespaceSelector":{"matchLabels":{"team":"batch"}},"rules":{"gpu-idle-cost":{"action":"Off"}}}`),
	)
	ns := &corev1.Namespace{}
	ns.Name, ns.UID, ns.ResourceVersion, ns.Labels = "chat", "n1", "1", map[string]string{"team": "serving"}
	s := newStore(r, policies.Default, nil, func(string) (*corev1.Namespace, bool) { return ns, true }, logr.Discard())
	serveFrom(r, s)
	s.SettingsFor("chat")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if s.SettingsFor("chat") == nil {
			b.Fatal("no settings")
		}
	}
}

func TestReadOnce(t *testing.T) {
	mapper := meta.NewDefaultRESTMapper(nil)
	r := newListReader()
	r.set(
		policyObject(t, "relax", "u1", 1, "1", `{"rules":{"target-ref":{"action":"Warn"}}}`),
		policyObject(t, "stale", "u2", 2, "2", `{"rules":{"promql-retired":{"action":"Off"}}}`),
	)
	s, err := ReadOnce(context.Background(), r, mapper, policies.Default, nil, noNamespaces, logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	if s.Served() || s.SettingsFor("x").Enforcement("target-ref") != policies.Enforce {
		t.Error("a cluster without the CRD: want no policy")
	}
	mapper.Add(GVK, meta.RESTScopeRoot)
	if s, err = ReadOnce(context.Background(), r, mapper, policies.Default, nil, noNamespaces, logr.Discard()); err != nil {
		t.Fatal(err)
	}
	r.set() // read once: later changes are not seen
	if got := s.SettingsFor("x").Enforcement("target-ref"); got != policies.WarnOnly {
		t.Errorf("target-ref %s, want Warn", got)
	}
	refused := s.Current().Refused()
	if len(refused) != 1 || !strings.HasPrefix(refused[0], `ScaleGuardPolicy "stale": generation 2 is refused (nothing stays in force): spec.rules[promql-retired]`) {
		t.Errorf("refused %q", refused)
	}
}

// TestStoreOnChangeOnlyWhenThePoliciesInForceChange: OnChange is called
// when a policy comes, goes or a new generation comes into force, and not
// at the first list, on a status update (a new resourceVersion, the same
// generation) or on a refused generation (the last good one stays).
func TestStoreOnChangeOnlyWhenThePoliciesInForceChange(t *testing.T) {
	r := newListReader()
	s := newStore(r, policies.Default, nil, noNamespaces, logr.Discard())
	serveFrom(r, s)
	calls := 0
	s.OnChange(func() { calls++ })
	const off = `{"rules":{"promql-unscoped":{"action":"Off"}}}`
	const enforce = `{"rules":{"promql-unscoped":{"action":"Enforce"}}}`
	const refused = `{"rules":{"promql-retired":{"action":"Off"}}}`
	a1 := policyObject(t, "a", "ua", 1, "10", off)
	steps := []struct {
		name  string
		items []unstructured.Unstructured
		want  int
	}{
		{"first list: the state at start", []unstructured.Unstructured{a1}, 0},
		{"status update", []unstructured.Unstructured{policyObject(t, "a", "ua", 1, "11", off)}, 0},
		{"new generation in force", []unstructured.Unstructured{policyObject(t, "a", "ua", 2, "12", enforce)}, 1},
		{"refused generation", []unstructured.Unstructured{policyObject(t, "a", "ua", 3, "13", refused)}, 1},
		{"status update of the refused one", []unstructured.Unstructured{policyObject(t, "a", "ua", 3, "14", refused)}, 1},
		{"valid again", []unstructured.Unstructured{policyObject(t, "a", "ua", 4, "15", off)}, 2},
		{"another policy", []unstructured.Unstructured{policyObject(t, "a", "ua", 4, "15", off), policyObject(t, "b", "ub", 1, "16", off)}, 3},
		{"deleted", []unstructured.Unstructured{policyObject(t, "b", "ub", 1, "16", off)}, 4},
		{"recreated under the same name", []unstructured.Unstructured{policyObject(t, "b", "ub", 1, "16", off), policyObject(t, "a", "ua2", 1, "17", off)}, 5},
	}
	for _, st := range steps {
		r.set(st.items...)
		s.Current()
		s.Current()
		if calls != st.want {
			t.Fatalf("%s: %d calls, want %d", st.name, calls, st.want)
		}
	}
	if v := testutilGauge(t, GenerationInForce, "a"); v != 1 {
		t.Errorf("scaleguard_policy_generation{policy=a} = %v, want 1", v)
	}
}

func testutilGauge(t *testing.T, g *prometheus.GaugeVec, policy string) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.WithLabelValues(policy).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

// A request reads the policies from the cache only when the informer's
// store holds other policies or resourceVersions than at the last read
// (and sees a change as soon as the store holds it), and a namespace's settings are merged
// again only when the namespace object changed.
func TestStoreReadsAgainOnlyAfterAChange(t *testing.T) {
	r := newListReader()
	ns := &corev1.Namespace{}
	ns.Name, ns.UID, ns.ResourceVersion, ns.Labels = "chat", "n1", "5", map[string]string{"team": "serving"}
	s := newStore(r, policies.Default, nil, func(string) (*corev1.Namespace, bool) { return ns, true }, logr.Discard())
	serveFrom(r, s)
	r.set(policyObject(t, "by-label", "u1", 1, "1", `{"namespaceSelector":{"matchLabels":{"team":"serving"}},"rules":{"target-ref":{"action":"Warn"}}}`))
	if got := s.SettingsFor("chat").Enforcement("target-ref"); got != policies.WarnOnly {
		t.Fatalf("covered: %s", got)
	}
	before := r.listed()
	for range 100 {
		s.SettingsFor("chat")
	}
	if n := r.listed() - before; n != 0 {
		t.Errorf("%d lists without a change, want 0", n)
	}
	// The namespace is relabelled: a new resourceVersion, a new merge.
	relabelled := ns.DeepCopy()
	relabelled.ResourceVersion, relabelled.Labels = "6", map[string]string{"team": "batch"}
	ns = relabelled
	if got := s.SettingsFor("chat").Enforcement("target-ref"); got != policies.Enforce {
		t.Errorf("relabelled out of the policy: %s, want %s", got, policies.Enforce)
	}
	// A policy changes: one list, and the new spec applies.
	r.set(policyObject(t, "by-label", "u1", 2, "2", `{"rules":{"target-ref":{"action":"Off"}}}`))
	before = r.listed()
	for range 10 {
		if got := s.SettingsFor("chat").Enforcement("target-ref"); got != policies.Off {
			t.Fatalf("after the change: %s, want %s", got, policies.Off)
		}
	}
	if n := r.listed() - before; n != 1 {
		t.Errorf("%d lists after one change, want 1", n)
	}
	// No policy left: the base, without looking the namespace up.
	r.set()
	if got := s.SettingsFor("chat").Enforcement("target-ref"); got != policies.Enforce {
		t.Errorf("no policy: %s", got)
	}
}
