package webhooks_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

// createAware answers CREATEs from another view (as the cache view reads
// through for them) and records what the handler asked.
type createAware struct {
	syncedView
	fresh *clusterview.Manifests
	mu    sync.Mutex
	calls []string
}

func (c *createAware) ForCreate(gvk schema.GroupVersionKind, _ []byte, _ client.Object, dryRun bool) (policies.ClusterView, func(bool)) {
	c.record(fmt.Sprintf("ForCreate %s dryRun=%t", gvk.Kind, dryRun))
	return c.fresh, func(admitted bool) { c.record(fmt.Sprintf("release admitted=%t", admitted)) }
}

func (c *createAware) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
}

func (c *createAware) take() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := strings.Join(c.calls, "; ")
	c.calls = nil
	return out
}

func TestCreateIsJudgedAgainstTheCreateView(t *testing.T) {
	other := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "serving"},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "llm"}},
	}
	view := &createAware{syncedView: syncedView{clusterview.NewManifests()}, fresh: clusterview.NewManifests(other)}
	srv := newServer(t, view)
	const so = `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s","namespace":"serving"},
"spec":{"scaleTargetRef":{"name":"llm"},"triggers":[{"type":"cpu","metadata":{"value":"50"}}]}}`

	r := admit(t, srv, soPath, review(soKind, admissionv1.Create, so))
	if r.Allowed || !strings.Contains(r.Result.Message, `[conflict-scaledobject]`) {
		t.Fatalf("CREATE: allowed=%v %+v; want the conflict the create view holds", r.Allowed, r.Result)
	}
	if got := view.take(); got != "ForCreate ScaledObject dryRun=false; release admitted=false" {
		t.Errorf("CREATE calls: %s", got)
	}

	dry := review(soKind, admissionv1.Create, strings.Replace(so, `"name":"llm"`, `"name":"free"`, 1))
	dry = []byte(strings.Replace(string(dry), `"operation":"CREATE"`, `"operation":"CREATE","dryRun":true`, 1))
	if r := admit(t, srv, soPath, dry); !r.Allowed {
		t.Fatalf("dry-run CREATE on a free target: %+v", r.Result)
	}
	if got := view.take(); got != "ForCreate ScaledObject dryRun=true; release admitted=true" {
		t.Errorf("dry-run CREATE calls: %s", got)
	}

	if r := admit(t, srv, soPath, review(soKind, admissionv1.Update, so)); !r.Allowed {
		t.Fatalf("UPDATE: %+v; want it judged against the cache view, which has no conflict", r.Result)
	}
	if got := view.take(); got != "" {
		t.Errorf("UPDATE calls: %s", got)
	}

	mutate := strings.Replace(soPath, "/validate-", "/mutate-", 1)
	if r := admit(t, srv, mutate, review(soKind, admissionv1.Create, so)); !r.Allowed {
		t.Fatalf("mutating CREATE: %+v", r.Result)
	}
	if got := view.take(); got != "" {
		t.Errorf("mutating phase calls: %s", got)
	}
}
