package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/manifests"
)

// Outcome is what the API server made of one applied manifest.
type Outcome struct {
	Object manifests.Object
	// Namespace is where it was applied ("default" when it had none and is
	// namespaced).
	Namespace string
	// Result is created, updated, denied or error.
	Result string
	// Message is the API server's error message for denied and error.
	Message string
	// Causes are the per-field causes of a denial ("field: message").
	Causes []string
	// Warnings are the warnings the API server returned.
	Warnings []string
	// stored is the object as the API server stored it, nil unless written.
	stored client.Object
	// Changes are the changes admission made to a guarded object as sent
	// (server defaults of new fields outside metadata left out).
	Changes []string
}

// Seen waits until the webhook's view holds an object just written (kind,
// namespace, name, resourceVersion); nil when there is no view to wait for.
type Seen func(ctx context.Context, gvk schema.GroupVersionKind, namespace, name, resourceVersion string) bool

// Apply sends every manifest to the API server in order (Namespaces
// first), as `kubectl create` would, falling back to an update when the
// object exists, and reports what happened to each. With seen, each write
// waits (up to 5 s) until the webhook's view holds it, so the next object is
// judged against it.
func Apply(ctx context.Context, cfg *rest.Config, objs []manifests.Object, seen Seen) ([]Outcome, error) {
	rec := &warningRecorder{}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rec
	c, err := client.New(cfg, client.Options{Scheme: apis.Scheme})
	if err != nil {
		return nil, err
	}
	ordered := append([]manifests.Object(nil), objs...)
	sort.SliceStable(ordered, func(i, j int) bool {
		return rank(ordered[i].GVK) < rank(ordered[j].GVK)
	})
	var out []Outcome
	for _, o := range ordered {
		res := applyOne(ctx, c, rec, o)
		if seen != nil && res.stored != nil {
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			seen(wctx, res.Object.GVK, res.stored.GetNamespace(), res.stored.GetName(), res.stored.GetResourceVersion())
			cancel()
		}
		out = append(out, res)
	}
	return out, nil
}

func rank(gvk schema.GroupVersionKind) int {
	if gvk.Group == "" && gvk.Kind == "Namespace" {
		return 0
	}
	return 1
}

func applyOne(ctx context.Context, c client.Client, rec *warningRecorder, o manifests.Object) Outcome {
	out := Outcome{Object: o}
	u := &unstructured.Unstructured{}
	if err := json.Unmarshal(o.JSON, &u.Object); err != nil {
		out.Result, out.Message = "error", err.Error()
		return out
	}
	namespaced, err := c.IsObjectNamespaced(u)
	if err != nil {
		out.Result, out.Message = "error", fmt.Sprintf("the API server does not serve %s: %v", o.GVK, err)
		return out
	}
	if namespaced && u.GetNamespace() == "" {
		u.SetNamespace("default")
	}
	out.Namespace = u.GetNamespace()
	sent := u.DeepCopy()

	rec.reset()
	err = c.Create(ctx, u)
	out.Result = "created"
	if apierrors.IsAlreadyExists(err) {
		existing := &unstructured.Unstructured{}
		existing.SetGroupVersionKind(u.GroupVersionKind())
		if gerr := c.Get(ctx, client.ObjectKeyFromObject(u), existing); gerr != nil {
			err = gerr
		} else {
			rec.reset()
			u = sent.DeepCopy()
			u.SetResourceVersion(existing.GetResourceVersion())
			err = c.Update(ctx, u)
			out.Result = "updated"
		}
	}
	out.Warnings = rec.take()
	if err != nil {
		out.Result = "error"
		if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err) {
			out.Result = "denied"
		}
		out.Message = err.Error()
		if st, ok := err.(apierrors.APIStatus); ok && st.Status().Details != nil {
			for _, c := range st.Status().Details.Causes {
				out.Causes = append(out.Causes, c.Field+": "+c.Message)
			}
		}
		return out
	}
	if apis.IsGuarded(o.GVK) {
		out.Changes = admissionChanges(sent.Object, u.Object)
	}
	out.stored = u
	return out
}

// admissionChanges diffs the object as sent against the object stored.
// Server-owned metadata and status are ignored, and so are fields the
// server added outside metadata (CRD schema defaults), unless admission
// also removed or replaced a field of the same parent (a port name
// rewritten to a port number): what remains is what admission changed.
func admissionChanges(sent, stored map[string]any) []string {
	strip := func(m map[string]any) []byte {
		c := runtimeCopy(m)
		delete(c, "status")
		if md, ok := c["metadata"].(map[string]any); ok {
			for _, k := range []string{"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"} {
				delete(md, k)
			}
		}
		b, _ := json.Marshal(c)
		return b
	}
	ops, err := jsonpatch.CreatePatch(strip(sent), strip(stored))
	if err != nil {
		return []string{"(could not diff: " + err.Error() + ")"}
	}
	edited := map[string]bool{}
	for _, op := range ops {
		if op.Operation != "add" {
			edited[parentPointer(op.Path)] = true
		}
	}
	var out []string
	for _, op := range ops {
		if op.Operation == "add" && !strings.HasPrefix(op.Path, "/metadata/") && !edited[parentPointer(op.Path)] {
			continue
		}
		v := ""
		if op.Operation != "remove" {
			b, _ := json.Marshal(op.Value)
			v = " " + string(b)
		}
		out = append(out, op.Operation+" "+op.Path+v)
	}
	// The diff's order follows map iteration; print it in one order.
	sort.Strings(out)
	return out
}

// parentPointer is the JSON pointer of the object holding path.
func parentPointer(path string) string {
	if i := strings.LastIndex(path, "/"); i > 0 {
		return path[:i]
	}
	return ""
}

func runtimeCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

type warningRecorder struct {
	mu   sync.Mutex
	list []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warningRecorder) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = nil
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.list
	w.list = nil
	return out
}
