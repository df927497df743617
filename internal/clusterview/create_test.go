package clusterview

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache/informertest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

func so(name, target string) *kedav1alpha1.ScaledObject {
	return &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "serving"},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: target}},
	}
}

func soJSON(t *testing.T, name, target string) []byte {
	t.Helper()
	o := so(name, target)
	o.APIVersion, o.Kind = "keda.sh/v1alpha1", "ScaledObject"
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingReader counts lists and can fail them.
type countingReader struct {
	client.Reader
	lists int
	fail  bool
}

func (r *countingReader) List(ctx context.Context, l client.ObjectList, opts ...client.ListOption) error {
	r.lists++
	if r.fail {
		return errors.New("connection refused")
	}
	return r.Reader.List(ctx, l, opts...)
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// testCache is a Cache over fake informers that hold nothing, with a
// read-through to live (when not nil) and claims (when ttl > 0) on a test
// clock: only what reads through or is claimed shows.
func testCache(t *testing.T, live client.Reader, ttl time.Duration, c *clock) (*Cache, *informertest.FakeInformers) {
	t.Helper()
	informers := &informertest.FakeInformers{Scheme: apis.Scheme}
	v := &Cache{reader: informers, served: map[schema.GroupVersionKind]bool{gvkScaledObject: true, gvkHPA: true}, log: logr.Discard()}
	if live != nil {
		v.EnableReadThrough(live)
	}
	if ttl > 0 {
		if err := v.EnableClaims(context.Background(), ttl); err != nil {
			t.Fatal(err)
		}
		v.claims.now = c.now
	}
	return v, informers
}

var llm = policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "serving", Name: "llm"}

func names[T client.Object](list []T) []string {
	var out []string
	for _, o := range list {
		out = append(out, o.GetName())
	}
	return out
}

func TestCreateViewReadsThroughOncePerNamespace(t *testing.T) {
	live := &countingReader{Reader: fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(so("stored", "llm"), so("elsewhere", "other")).Build()}
	v, _ := testCache(t, live, 0, &clock{})
	view, release := v.ForCreate(apis.ScaledObject, soJSON(t, "new", "llm"), nil, false)
	defer release(true)
	if got := names(view.ScaledObjectsFor(llm)); len(got) != 1 || got[0] != "stored" {
		t.Fatalf("ScaledObjectsFor = %v, want the stored one the cache has not seen", got)
	}
	view.ScaledObjects("serving")
	view.ScaledObjectsFor(llm)
	if live.lists != 1 {
		t.Errorf("%d live lists, want 1 per namespace and kind", live.lists)
	}
	view.HPAsFor(llm)
	if live.lists != 2 {
		t.Errorf("%d live lists after HPAs, want 2", live.lists)
	}
}

func TestCreateViewWithoutReaderNeverReadsLive(t *testing.T) {
	v, _ := testCache(t, nil, time.Second, &clock{})
	cv := &createView{Cache: v}
	if cv.readLive(gvkScaledObject, &kedav1alpha1.ScaledObjectList{}, "serving") {
		t.Fatal("read live without a reader")
	}
	plain, _ := testCache(t, nil, 0, &clock{})
	if view, _ := plain.ForCreate(apis.ScaledObject, soJSON(t, "a", "llm"), nil, false); view != policies.ClusterView(plain) {
		t.Fatal("with neither claims nor read-through a CREATE must be judged from the cache itself")
	}
}

func TestClaimsEndWhenTheCacheDeliversTheObject(t *testing.T) {
	v, informers := testCache(t, nil, time.Hour, &clock{t: time.Unix(1000, 0)})
	_, release := v.ForCreate(apis.ScaledObject, soJSON(t, "a", "llm"), nil, false)
	release(true)
	if got := names(probe(t, v).ScaledObjectsFor(llm)); len(got) != 1 {
		t.Fatalf("before delivery: %v, want a's claim", got)
	}
	soInformer, err := informers.FakeInformerFor(context.Background(), &kedav1alpha1.ScaledObject{})
	if err != nil {
		t.Fatal(err)
	}
	hpaInformer, err := informers.FakeInformerFor(context.Background(), &autoscalingv2.HorizontalPodAutoscaler{})
	if err != nil {
		t.Fatal(err)
	}
	soInformer.Add(so("other", "llm"))
	hpaInformer.Add(&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "serving"}})
	if got := names(probe(t, v).ScaledObjectsFor(llm)); len(got) != 1 {
		t.Fatalf("after other objects' delivery: %v, want a's claim still", got)
	}
	soInformer.Add(so("a", "llm"))
	if got := names(probe(t, v).ScaledObjectsFor(llm)); len(got) != 0 {
		t.Fatalf("after delivery: %v, want the cache alone to answer (a may since be deleted)", got)
	}
}

func TestCreateViewFallsBackWhenTheReadFails(t *testing.T) {
	live := &countingReader{Reader: fake.NewClientBuilder().WithScheme(apis.Scheme).Build(), fail: true}
	v, _ := testCache(t, live, 0, &clock{})
	cv := &createView{Cache: v, deadline: time.Now().Add(time.Minute)}
	if cv.readLive(gvkScaledObject, &kedav1alpha1.ScaledObjectList{}, "serving") || live.lists != 1 {
		t.Fatalf("a failed read must report false (lists=%d)", live.lists)
	}
	if cv.readLive(gvkPolicy, &kedav1alpha1.ScaledObjectList{}, "serving") || live.lists != 1 {
		t.Fatal("a kind the cluster does not serve must not be read")
	}
}

func TestCreateViewStopsReadingThroughWhenItsBudgetIsSpent(t *testing.T) {
	live := &countingReader{Reader: fake.NewClientBuilder().WithScheme(apis.Scheme).Build()}
	v, _ := testCache(t, live, 0, &clock{})
	cv := &createView{Cache: v, deadline: time.Now().Add(time.Minute)}
	if !cv.readLive(gvkScaledObject, &kedav1alpha1.ScaledObjectList{}, "serving") || live.lists != 1 {
		t.Fatalf("within the budget the read goes through (lists=%d)", live.lists)
	}
	cv.deadline = time.Now().Add(-time.Millisecond)
	if cv.readLive(gvkScaledObject, &kedav1alpha1.ScaledObjectList{}, "serving") || live.lists != 1 {
		t.Fatalf("a spent budget must leave the list to the cache (lists=%d)", live.lists)
	}
}

func TestClaimsSeeConcurrentCreates(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	live := fake.NewClientBuilder().WithScheme(apis.Scheme).Build()
	v, _ := testCache(t, live, 5*time.Second, c)

	first, releaseFirst := v.ForCreate(apis.ScaledObject, soJSON(t, "a", "llm"), nil, false)
	second, releaseSecond := v.ForCreate(apis.ScaledObject, soJSON(t, "b", "llm"), nil, false)
	if got := names(first.ScaledObjectsFor(llm)); len(got) != 0 {
		t.Errorf("the first create sees %v, want nothing (b came later)", got)
	}
	if got := names(second.ScaledObjectsFor(llm)); len(got) != 1 || got[0] != "a" {
		t.Errorf("the second create sees %v, want the first's claim", got)
	}
	releaseFirst(true)
	releaseSecond(false)

	third, release := v.ForCreate(apis.ScaledObject, soJSON(t, "c", "llm"), nil, true)
	release(true)
	if got := names(third.ScaledObjectsFor(llm)); len(got) != 1 || got[0] != "a" {
		t.Errorf("after b's denial a dry run sees %v, want only a", got)
	}
	again, release := v.ForCreate(apis.ScaledObject, soJSON(t, "a", "llm"), nil, false)
	release(false)
	if got := names(again.ScaledObjectsFor(llm)); len(got) != 0 {
		t.Errorf("a retried create of a sees %v, want not itself", got)
	}
	hpaView, release := v.ForCreate(apis.HorizontalPodAutoscaler, []byte(`{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"h","namespace":"serving"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"llm"},"maxReplicas":3}}`), nil, false)
	release(true)
	if got := names(hpaView.ScaledObjectsFor(llm)); len(got) != 1 || got[0] != "a" {
		t.Errorf("an HPA create sees ScaledObjects %v, want a's claim", got)
	}
	if got := names(probe(t, v).HPAsFor(llm)); len(got) != 1 || got[0] != "h" {
		t.Errorf("HPA claims: %v", got)
	}

	c.t = c.t.Add(6 * time.Second)
	late, release := v.ForCreate(apis.ScaledObject, soJSON(t, "d", "llm"), nil, false)
	release(true)
	if got := names(late.ScaledObjectsFor(llm)); len(got) != 0 {
		t.Errorf("after the TTL the claims are gone, got %v", got)
	}
}

// probe is a dry-run create's view, to look at the claims.
func probe(t *testing.T, v *Cache) policies.ClusterView {
	t.Helper()
	view, release := v.ForCreate(apis.ScaledObject, soJSON(t, "probe", "none"), nil, true)
	release(false)
	return view
}

func TestClaimsGiveWayToTheStoredObject(t *testing.T) {
	stored := so("a", "llm")
	stored.Spec.ScaleTargetRef.Name = "moved"
	live := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(stored).Build()
	v, _ := testCache(t, live, time.Minute, &clock{t: time.Unix(1000, 0)})
	_, release := v.ForCreate(apis.ScaledObject, soJSON(t, "a", "llm"), nil, false)
	release(true)
	view, release := v.ForCreate(apis.ScaledObject, soJSON(t, "b", "llm"), nil, false)
	defer release(false)
	if got := names(view.ScaledObjectsFor(llm)); len(got) != 0 {
		t.Errorf("a is stored with another target, yet its claim counts: %v", got)
	}
	if got := names(view.ScaledObjects("serving")); len(got) != 1 {
		t.Errorf("ScaledObjects = %v, want the stored a once", got)
	}
}

func TestOneClaimPerObject(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	v, _ := testCache(t, nil, 5*time.Second, c)
	for range 100 {
		_, release := v.ForCreate(apis.ScaledObject, soJSON(t, "a", "llm"), nil, false)
		release(true)
	}
	if n := len(v.claims.others("", claimKey{})); n != 1 {
		t.Fatalf("100 admitted creates of one object left %d claims, want 1", n)
	}
	// A retry denied puts back the claim of the create admitted before it.
	_, release := v.ForCreate(apis.ScaledObject, soJSON(t, "a", "llm"), nil, false)
	release(false)
	if got := names(probe(t, v).ScaledObjectsFor(llm)); len(got) != 1 || got[0] != "a" {
		t.Fatalf("after a denied retry: %v, want a's admitted claim", got)
	}
	// A create denied with no admitted one before it leaves nothing.
	_, release = v.ForCreate(apis.ScaledObject, soJSON(t, "b", "other"), nil, false)
	release(false)
	if n := len(v.claims.others("", claimKey{})); n != 1 {
		t.Fatalf("a denied create left a claim: %d claims, want 1", n)
	}
}

func TestClaimsAreReadByNamespace(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	v, _ := testCache(t, nil, 5*time.Second, c)
	elsewhere := so("x", "llm")
	elsewhere.Namespace = "other"
	elsewhere.APIVersion, elsewhere.Kind = "keda.sh/v1alpha1", "ScaledObject"
	raw, err := json.Marshal(elsewhere)
	if err != nil {
		t.Fatal(err)
	}
	_, release := v.ForCreate(apis.ScaledObject, raw, nil, false)
	release(true)
	view := probe(t, v)
	if got := names(view.ScaledObjectsFor(llm)); len(got) != 0 {
		t.Errorf("serving's llm sees %v, want nothing (the claim is in another namespace)", got)
	}
	other := llm
	other.Namespace = "other"
	if got := names(view.ScaledObjectsFor(other)); len(got) != 1 || got[0] != "x" {
		t.Errorf("other's llm sees %v, want x's claim", got)
	}
}

// storedReader answers Gets from a fixed set and counts them.
type storedReader struct {
	client.Reader
	gets int
	fail bool
}

func (r *storedReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.gets++
	if r.fail {
		return errors.New("connection refused")
	}
	return r.Reader.Get(ctx, key, obj, opts...)
}

func TestUnstoredClaimsAreDropped(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	v, _ := testCache(t, nil, 5*time.Second, c)
	live := &storedReader{Reader: fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(so("kept", "stored-target")).Build()}
	v.CheckClaimsWith(live)
	admit := func(name, target string) {
		_, release := v.ForCreate(apis.ScaledObject, soJSON(t, name, target), nil, false)
		release(true)
	}
	// "refused" was admitted, then refused by the API server: never
	// stored. "kept" was stored (the cache lags).
	admit("refused", "llm")
	admit("kept", "stored-target")
	judge := func(target string) (*createView, []string) {
		view, _ := v.ForCreate(apis.ScaledObject, soJSON(t, "new-"+target, target), nil, true)
		cv := view.(*createView)
		ref := llm
		ref.Name = target
		return cv, names(cv.ScaledObjectsFor(ref))
	}

	// Within the grace both stand, and nothing is asked.
	cv, got := judge("llm")
	if len(got) != 1 || cv.DropUnstored(context.Background()) || live.gets != 0 {
		t.Fatalf("within the grace: %v, gets %d; want the claim to stand unasked", got, live.gets)
	}
	c.t = c.t.Add(2 * claimGrace)
	cv, _ = judge("llm")
	if !cv.DropUnstored(context.Background()) || live.gets != 1 {
		t.Fatalf("past the grace, an unstored claim must be dropped (gets %d)", live.gets)
	}
	if got := names(cv.ScaledObjectsFor(llm)); len(got) != 0 {
		t.Fatalf("after the drop the view still holds %v", got)
	}
	if _, got := judge("llm"); len(got) != 0 {
		t.Fatalf("the drop must last: a later create sees %v", got)
	}
	cv, got = judge("stored-target")
	if len(got) != 1 || cv.DropUnstored(context.Background()) {
		t.Fatalf("a stored object's claim must stand: %v", got)
	}
	live.fail = true
	admit("unknown", "third")
	c.t = c.t.Add(2 * claimGrace)
	cv, got = judge("third")
	if len(got) != 1 || cv.DropUnstored(context.Background()) {
		t.Fatalf("a claim the API server cannot be asked about must stand: %v", got)
	}
	// A claim still being judged (not yet admitted) is never asked about.
	_, release := v.ForCreate(apis.ScaledObject, soJSON(t, "judged", "fourth"), nil, false)
	defer release(false)
	c.t = c.t.Add(2 * claimGrace)
	live.fail, live.gets = false, 0
	cv, got = judge("fourth")
	if len(got) != 1 || cv.DropUnstored(context.Background()) || live.gets != 0 {
		t.Fatalf("a claim under judgement: %v, gets %d", got, live.gets)
	}
}
