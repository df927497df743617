package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// verdict is what a client sees of one request: the refusal, or the
// object admitted, and the warnings.
type verdict struct {
	Denied      bool
	Code        int32
	Message     string
	Causes      []string
	Warnings    []string
	Annotations map[string]string
	Spec        string
}

// verdictOf is the verdict of a request made in namespace ns, which reads
// as <ns> so that verdicts in different namespaces compare.
func verdictOf(ns string, obj *unstructured.Unstructured, err error, warns []string) verdict {
	v := verdictIn(obj, err, warns)
	b, _ := json.Marshal(v)
	_ = json.Unmarshal([]byte(strings.ReplaceAll(string(b), ns, "<ns>")), &v)
	return v
}

func verdictIn(obj *unstructured.Unstructured, err error, warns []string) verdict {
	var v verdict
	v.Warnings = append([]string(nil), warns...)
	slices.Sort(v.Warnings)
	if err != nil {
		v.Denied = true
		st, ok := err.(apierrors.APIStatus)
		if !ok {
			v.Message = "not an API status: " + err.Error()
			return v
		}
		s := st.Status()
		v.Code, v.Message = s.Code, s.Message
		if s.Details != nil {
			for _, c := range s.Details.Causes {
				v.Causes = append(v.Causes, c.Field+": "+c.Message)
			}
		}
		return v
	}
	v.Annotations = obj.GetAnnotations()
	delete(v.Annotations, lastApplied)
	spec, _ := json.Marshal(obj.Object["spec"])
	v.Spec = string(spec)
	return v
}

// example reads an example manifest moved to namespace ns (its queries
// follow the move), with extra annotations set.
func example(t *testing.T, path, ns string, annotations map[string]string) *unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.Root, "examples", path))
	if err != nil {
		t.Fatal(err)
	}
	u := fromYAML(t, string(b))
	from := u.GetNamespace()
	u = fromYAML(t, strings.ReplaceAll(string(b), `namespace="`+from+`"`, `namespace="`+ns+`"`))
	u.SetNamespace(ns)
	if len(annotations) > 0 {
		a := u.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		for k, v := range annotations {
			a[k] = v
		}
		u.SetAnnotations(a)
	}
	return u
}

// createSeen creates obj and waits until scaleguard's cache has it.
func createSeen(t *testing.T, c client.Client, obj *unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	if err := c.Create(ctx, obj); err != nil {
		t.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
	seenCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if !view.WaitSeen(seenCtx, obj.GroupVersionKind(), obj.GetNamespace(), obj.GetName(), obj.GetResourceVersion()) {
		t.Fatalf("the cache never saw %s %s", obj.GetKind(), obj.GetName())
	}
}

// argoCase is a change Argo CD syncs: the object as Git had it before
// (previous) and after (subject), with what must exist beside it.
type argoCase struct {
	context []string
	subject string
	// denied names the rule of the expected denial, "" for admitted.
	denied string
	// fragments must appear in the denial (rule, field and fix).
	fragments []string
}

var argoCases = map[string]argoCase{
	// The GPU runbook's ScaledObject: admitted with the pause injected and
	// three warnings; its previous version carried the pause in Git.
	"gpu": {
		context: []string{"gpu/10-deployment-raw-vllm.yaml"},
		subject: "gpu/20-scaledobject-raw-vllm.yaml",
	},
	// The Kthena PR's ScaledObject without kind: denied; before, Git had
	// the fixed one.
	"kthena": {
		context: []string{"kthena/10-modelserving.yaml"},
		subject: "kthena/31-scaledobject-no-kind.yaml",
		denied:  "target-ref",
		fragments: []string{"spec.scaleTargetRef.kind: Forbidden: [target-ref]",
			"write scaleTargetRef: {apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: my-modelserving}"},
	},
	// The KServe docs' InferenceService: denied; before, Git had the
	// scoped query.
	"kserve": {
		subject: "kserve/10-inferenceservice-docs.yaml",
		denied:  "promql-unscoped",
		fragments: []string{`[promql-unscoped]`, `lacks namespace="<ns>"`,
			`spec.predictor.autoScaling.metrics[0].external.metric.query`},
	},
}

// previousOf is the version Git had before each case's subject. The
// ScaledObjects carry their pause decision in Git: an annotation the
// mutating webhook injected belongs to no field manager, so an apply keeps
// it where a replace drops it (TestArgoCDDiffAfterThePauseIsInjected), and
// the update would not be the same object on both paths.
func previousOf(t *testing.T, name, ns string) *unstructured.Unstructured {
	paused := map[string]string{gpu.PausedAnnotation: "true"}
	switch name {
	case "gpu":
		return example(t, "gpu/20-scaledobject-raw-vllm.yaml", ns, paused)
	case "kthena":
		return example(t, "kthena/33-scaledobject-fixed.yaml", ns, paused)
	case "kserve":
		return example(t, "kserve/11-inferenceservice-docs-scoped.yaml", ns, nil)
	}
	t.Fatalf("no previous version for %s", name)
	return nil
}

// sendFunc sends the desired object the way one client does.
type sendFunc func(ctx context.Context, c client.Client, desired *unstructured.Unstructured) (*unstructured.Unstructured, error)

func plainCreate(ctx context.Context, c client.Client, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	obj := desired.DeepCopy()
	return obj, c.Create(ctx, obj)
}

func plainUpdate(ctx context.Context, c client.Client, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(desired.GroupVersionKind())
	if err := c.Get(ctx, client.ObjectKeyFromObject(desired), live); err != nil {
		return nil, err
	}
	obj := desired.DeepCopy()
	obj.SetResourceVersion(live.GetResourceVersion())
	return obj, c.Update(ctx, obj)
}

func ssa(dryRun bool) sendFunc {
	return func(ctx context.Context, c client.Client, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
		return serverSideApply(ctx, c, desired, dryRun)
	}
}

func csa(ctx context.Context, c client.Client, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	return clientSideApply(ctx, c, desired)
}

// way is one path a manifest takes to the API server; an update way first
// syncs the previous version the same way (as Argo CD synced the commit
// before), then sends the subject.
type way struct {
	name     string
	update   bool
	previous sendFunc
	send     sendFunc
}

var (
	createBaseline = way{"kubectl create", false, nil, plainCreate}
	updateBaseline = way{"kubectl replace", true, plainCreate, plainUpdate}
	argoWays       = []way{
		{"Argo CD sync, client-side apply, new object", false, nil, csa},
		{"Argo CD sync, server-side apply, new object", false, nil, ssa(false)},
		{"server-side apply dry run, new object", false, nil, ssa(true)},
		{"Argo CD sync, client-side apply, existing object", true, csa, csa},
		{"Argo CD sync, server-side apply, existing object", true, ssa(false), ssa(false)},
		{"Argo CD Server-Side Diff, existing object", true, ssa(false), ssa(true)},
	}
)

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// run sends a case's subject one way, in a namespace of its own, and
// returns the verdict.
func (w way) run(t *testing.T, caseName string, tc argoCase) verdict {
	t.Helper()
	ns := strings.Trim(unsafeName.ReplaceAllString("argo-"+caseName+"-"+strings.ToLower(w.name), "-"), "-")
	if len(ns) > 63 {
		ns = ns[:63]
	}
	var warns []string
	c, err := client.New(adminConfig(&warns), client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	namespace(t, c, ns)
	for _, path := range tc.context {
		createSeen(t, c, example(t, path, ns, nil))
	}
	ctx := context.Background()
	if caseName == "gpu" {
		// Admission reads the GPU Deployment from its cache.
		waitUntilSeen(t, c, example(t, tc.subject, ns, nil))
	}
	if w.update {
		prev, err := w.previous(ctx, c, previousOf(t, caseName, ns))
		if err != nil {
			t.Fatalf("%s: syncing the previous version: %v", w.name, err)
		}
		seenCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if !view.WaitSeen(seenCtx, prev.GroupVersionKind(), ns, prev.GetName(), prev.GetResourceVersion()) {
			t.Fatalf("%s: the cache never saw the previous version", w.name)
		}
	}
	warns = nil
	obj, err := w.send(ctx, c, example(t, tc.subject, ns, nil))
	return verdictOf(ns, obj, err, warns)
}

// TestArgoCDRequestsGetThePlainVerdict sends each case the ways Argo CD
// does and asserts that the API server answers each exactly as it answers
// a plain create (new object) or a plain update (existing object): same
// refusal with the same causes, or same object stored with the same
// warnings.
func TestArgoCDRequestsGetThePlainVerdict(t *testing.T) {
	for name, tc := range argoCases {
		t.Run(name, func(t *testing.T) {
			baselines := map[bool]verdict{
				false: createBaseline.run(t, name, tc),
				true:  updateBaseline.run(t, name, tc),
			}
			for update, b := range baselines {
				checkBaseline(t, name, tc, update, b)
			}
			for _, w := range argoWays {
				got := w.run(t, name, tc)
				if diff := compareVerdicts(baselines[w.update], got); diff != "" {
					t.Errorf("%s differs from a plain %s: %s", w.name, map[bool]string{false: "create", true: "update"}[w.update], diff)
				}
			}
		})
	}
}

// checkBaseline keeps the comparison from passing on two equal failures.
func checkBaseline(t *testing.T, name string, tc argoCase, update bool, v verdict) {
	t.Helper()
	what := map[bool]string{false: "create", true: "update"}[update]
	if tc.denied == "" {
		if v.Denied {
			t.Fatalf("%s: plain %s refused: %s", name, what, v.Message)
		}
		if v.Annotations[gpu.PausedAnnotation] != "true" || !hasWarning(v.Warnings, "[gpu-paused-default] mutated") {
			t.Fatalf("%s: plain %s stored annotations %v with warnings %q; want the pause injected", name, what, v.Annotations, v.Warnings)
		}
		return
	}
	if !v.Denied || v.Code != 422 {
		t.Fatalf("%s: plain %s was not denied with 422: %+v", name, what, v)
	}
	for _, f := range tc.fragments {
		if !strings.Contains(v.Message, f) {
			t.Errorf("%s: plain %s: the denial lacks %q:\n%s", name, what, f, v.Message)
		}
	}
	// What Argo CD prints after "one or more objects failed to apply, reason: ".
	if !strings.HasPrefix(v.Message, fmt.Sprintf("admission webhook %q denied the request: ", webhookName(t, tc.subject))) {
		t.Errorf("%s: plain %s: %s", name, what, v.Message)
	}
}

func webhookName(t *testing.T, subject string) string {
	t.Helper()
	if strings.HasPrefix(subject, "kserve/") {
		return "inferenceservice.validate.scaleguard.io"
	}
	return "scaledobject.validate.scaleguard.io"
}

func compareVerdicts(want, got verdict) string {
	a, _ := json.MarshalIndent(want, "", "  ")
	b, _ := json.MarshalIndent(got, "", "  ")
	if string(a) == string(b) {
		return ""
	}
	return fmt.Sprintf("\nwant %s\n got %s", a, b)
}
