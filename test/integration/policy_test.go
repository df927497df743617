package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// Policies are cluster-scoped: every policy here selects only the
// namespaces of its own test, by a label, so that other tests keep the
// defaults.

// labelledNamespace creates a namespace with labels.
func labelledNamespace(t *testing.T, c client.Client, name string, labels map[string]string) {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if err := c.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// createPolicy creates a ScaleGuardPolicy and deletes it when the test ends.
func createPolicy(t *testing.T, c client.Client, doc string) *unstructured.Unstructured {
	t.Helper()
	p := fromYAML(t, doc)
	if err := c.Create(context.Background(), p); err != nil {
		t.Fatalf("creating policy %s: %v", p.GetName(), err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), p) })
	return p
}

// unscopedSO is a ScaledObject whose query reads every namespace: denied
// by promql-unscoped unless a policy or an exemption says otherwise. It
// scales a Deployment of its own name, created here.
func unscopedSO(t *testing.T, c client.Client, ns, name, annotations string) *unstructured.Unstructured {
	t.Helper()
	dep := fromYAML(t, fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  selector: {matchLabels: {app: chat}}
  template:
    metadata: {labels: {app: chat}}
    spec: {containers: [{name: vllm, image: vllm/vllm-openai:v0.10.0}]}
`, name, ns))
	switch err := c.Create(context.Background(), dep); {
	case err == nil:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		view.WaitSeen(ctx, dep.GroupVersionKind(), ns, name, dep.GetResourceVersion())
	case !apierrors.IsAlreadyExists(err):
		t.Fatal(err)
	}
	return fromYAML(t, fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s, namespace: %s, annotations: {%s}}
spec:
  scaleTargetRef: {name: %s}
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc:9090
        query: sum(vllm:num_requests_waiting)
        threshold: "5"
`, name, ns, annotations, name))
}

// dryVerdict is what the API server answered a server-side dry-run create.
type dryVerdict struct {
	denied   bool
	message  string
	warnings []string
	stored   *unstructured.Unstructured
}

func (v dryVerdict) String() string {
	return fmt.Sprintf("denied=%v message=%q warnings=%q", v.denied, v.message, v.warnings)
}

func dryRun(t *testing.T, obj *unstructured.Unstructured) dryVerdict {
	t.Helper()
	var warns []string
	c := newClient(t, &warns)
	o := obj.DeepCopy()
	err := c.Create(context.Background(), o, client.DryRunAll)
	v := dryVerdict{warnings: warns, stored: o}
	if err != nil {
		if !apierrors.IsInvalid(err) {
			t.Fatalf("dry run of %s: %v", obj.GetName(), err)
		}
		v.denied, v.message = true, err.Error()
	}
	return v
}

// until polls check every 50ms until it holds or timeout passes, and
// returns how long it took.
func until(t *testing.T, what string, timeout time.Duration, check func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	var last string
	for time.Since(start) < timeout {
		var ok bool
		if ok, last = check(); ok {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; last: %s", what, timeout, last)
	return 0
}

func warned(v dryVerdict, rule, fragment string) bool {
	for _, w := range v.warnings {
		if strings.HasPrefix(w, "["+rule+"]") && strings.Contains(w, fragment) {
			return true
		}
	}
	return false
}

func policyStatus(t *testing.T, c client.Client, name string) sgv1alpha1.ScaleGuardPolicyStatus {
	t.Helper()
	p := &sgv1alpha1.ScaleGuardPolicy{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: name}, p); err != nil {
		t.Fatal(err)
	}
	return p.Status
}

func condition(st sgv1alpha1.ScaleGuardPolicyStatus, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(st.Conditions, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}

func TestPolicyChangesAVerdictWithoutRestart(t *testing.T) {
	c := newClient(t, new([]string))
	labelledNamespace(t, c, "pol-switch", map[string]string{"scaleguard-test": "pol-switch"})
	so := unscopedSO(t, c, "pol-switch", "chat", "")
	if v := dryRun(t, so); !v.denied || !strings.Contains(v.message, "[promql-unscoped]") {
		t.Fatalf("without a policy: %s; want the promql-unscoped denial", v)
	}

	p := createPolicy(t, c, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-switch}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-switch}}
  rules:
    promql-unscoped: {action: Warn}
`)
	took := until(t, "the policy turns the denial into a warning", 10*time.Second, func() (bool, string) {
		v := dryRun(t, so)
		return !v.denied && warned(v, "promql-unscoped", "lacks namespace=\"pol-switch\""), v.String()
	})
	t.Logf("policy created → warning instead of denial after %s", took.Round(time.Millisecond))

	until(t, "the status says what is in force", 10*time.Second, func() (bool, string) {
		st := policyStatus(t, c, "pol-switch")
		ready := condition(st, sgv1alpha1.ConditionReady)
		ok := st.ObservedGeneration == p.GetGeneration() && st.NamespaceCount == 1 && strings.Join(st.Namespaces, ",") == "pol-switch" &&
			st.Rules.Warn == 1 && ready.Status == metav1.ConditionTrue && condition(st, sgv1alpha1.ConditionConflicting).Status == metav1.ConditionFalse
		return ok, fmt.Sprintf("%+v", st)
	})

	if err := c.Delete(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	took = until(t, "deleting the policy restores the denial", 10*time.Second, func() (bool, string) {
		v := dryRun(t, so)
		return v.denied && strings.Contains(v.message, "[promql-unscoped]"), v.String()
	})
	t.Logf("policy deleted → denial again after %s", took.Round(time.Millisecond))
}

func TestInvalidPolicyIsRefusedWithTheField(t *testing.T) {
	c := newClient(t, new([]string))
	for name, tc := range map[string]struct {
		spec, field, fragment string
	}{
		// The webhook: what the schema cannot say.
		"a rule that does not exist": {`{rules: {promql-unscopd: {action: Warn}}}`, "spec.rules[promql-unscopd]", `Not found: "promql-unscopd"`},
		"a label name":               {`{gpu: {namespaceLabels: {"bad key!": gpu}}}`, "spec.gpu.namespaceLabels[bad key!]", "name part must consist of"},
		"an exemption's rule":        {`{exemptions: [{rules: [gpu-unpauzed], reason: r}]}`, "spec.exemptions[0].rules[0]", `Not found: "gpu-unpauzed"`},
		// The CRD's schema and CEL rules.
		"an action":          {`{rules: {promql-unscoped: {action: Sometimes}}}`, "spec.rules.promql-unscoped.action", `supported values: "Enforce", "Warn", "Off"`},
		"an unquoted Off":    {`{rules: {promql-unscoped: {action: Off}}}`, "spec.rules.promql-unscoped.action", "must be of type string"},
		"a duration":         {`{gpu: {maxUnpauseWindow: 0s}}`, "spec.gpu.maxUnpauseWindow", "must be a positive duration"},
		"names and selector": {`{exemptions: [{rules: [gpu-unpaused], reason: r, names: [a], objectSelector: {matchLabels: {a: b}}}]}`, "spec.exemptions[0]", "give objectSelector or names, not both"},
	} {
		t.Run(name, func(t *testing.T) {
			p := fromYAML(t, "apiVersion: scaleguard.io/v1alpha1\nkind: ScaleGuardPolicy\nmetadata: {name: pol-invalid}\nspec: "+tc.spec+"\n")
			err := c.Create(context.Background(), p)
			if err == nil {
				_ = c.Delete(context.Background(), p)
				t.Fatal("an invalid policy was stored")
			}
			st, ok := err.(apierrors.APIStatus)
			if !ok || st.Status().Code != http.StatusUnprocessableEntity || st.Status().Details == nil {
				t.Fatalf("error %v, want 422 with causes", err)
			}
			found := false
			for _, cause := range st.Status().Details.Causes {
				if cause.Field == tc.field && strings.Contains(cause.Message, tc.fragment) {
					found = true
				}
			}
			if !found {
				t.Errorf("causes %+v, want one on %s with %q", st.Status().Details.Causes, tc.field, tc.fragment)
			}
		})
	}
}

func TestTwoPoliciesOverOneNamespace(t *testing.T) {
	c := newClient(t, new([]string))
	labelledNamespace(t, c, "pol-two", map[string]string{"scaleguard-test": "pol-two", "pol-two-gpu": "yes"})
	so := unscopedSO(t, c, "pol-two", "chat", "")
	createPolicy(t, c, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-two-a}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-two}}
  rules:
    promql-unscoped: {action: Warn}
  gpu:
    namespaceLabels: {pol-two-gpu: "yes"}
`)
	createPolicy(t, c, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-two-b}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-two}}
  rules:
    promql-unscoped: {action: Enforce}
    gpu-idle-cost: {action: "Off"}
`)
	// The strictest action wins (b's Enforce over a's Warn), and the GPU
	// tier is a's, whose name sorts first: the namespace label puts the
	// ScaledObject on a GPU tier, so it is paused.
	until(t, "the merge of both policies is in force", 10*time.Second, func() (bool, string) {
		v := dryRun(t, so)
		return v.denied && strings.Contains(v.message, "[promql-unscoped]") && warned(v, "gpu-paused-default", `namespace "pol-two" is labelled pol-two-gpu=yes`), v.String()
	})
	scoped := so.DeepCopy()
	_ = unstructured.SetNestedSlice(scoped.Object, []any{map[string]any{"type": "prometheus", "metadata": map[string]any{
		"serverAddress": "http://prometheus.monitoring.svc:9090", "threshold": "5",
		"query": `sum(vllm:num_requests_waiting{namespace="pol-two", pod=~"chat-.*"})`}}}, "spec", "triggers")
	v := dryRun(t, scoped)
	if v.denied || v.stored.GetAnnotations()["autoscaling.keda.sh/paused"] != "true" {
		t.Errorf("scoped: %s, annotations %v; want it admitted and paused (a's GPU tier)", v, v.stored.GetAnnotations())
	}

	want := map[string][]string{
		"pol-two-a": {`also covered by "pol-two-b" in 1 namespace (pol-two)`, `promql-unscoped is Enforce there (from "pol-two-b"), not Warn`,
			`gpu-idle-cost is Off there (from "pol-two-b"), not Enforce`, "other settings come from this policy, whose name sorts first"},
		"pol-two-b": {`also covered by "pol-two-a" in 1 namespace (pol-two)`, "every rule keeps this policy's action",
			`other settings come from "pol-two-a", whose name sorts first, not from this policy`},
	}
	for name, fragments := range want {
		until(t, name+" says Conflicting", 10*time.Second, func() (bool, string) {
			cond := condition(policyStatus(t, c, name), sgv1alpha1.ConditionConflicting)
			if cond.Status != metav1.ConditionTrue {
				return false, fmt.Sprintf("%+v", cond)
			}
			for _, f := range fragments {
				if !strings.Contains(cond.Message, f) {
					return false, fmt.Sprintf("%q lacks %q", cond.Message, f)
				}
			}
			return true, ""
		})
	}
}

func TestExemptionAnnotation(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	labelledNamespace(t, c, "pol-exempt", map[string]string{"scaleguard-test": "pol-exempt"})
	const reason = `scaleguard.io/exempt: promql-unscoped, scaleguard.io/exempt-reason: "one model per namespace here, ticket OPS-42"`

	withReason := unscopedSO(t, c, "pol-exempt", "with-reason", reason)
	if err := c.Create(context.Background(), withReason.DeepCopy()); err != nil {
		t.Fatalf("an exempt object was refused: %v", err)
	}
	if !warned(dryVerdict{warnings: warns}, "promql-unscoped", "(exempted by scaleguard.io/exempt: one model per namespace here, ticket OPS-42)") {
		t.Errorf("warnings %q; want the denial as a warning naming the reason", warns)
	}

	noReason := unscopedSO(t, c, "pol-exempt", "no-reason", `scaleguard.io/exempt: promql-unscoped`)
	expectDenied(t, noReason, denial{
		causes:   map[string]string{"spec.triggers[0].metadata.query": "promql-unscoped"},
		fragment: []string{"(scaleguard.io/exempt names this rule, but scaleguard.io/exempt-reason is empty, so the exemption does not apply; say why in it)"},
	})

	createPolicy(t, c, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-exempt-forbid}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-exempt}}
  rules:
    promql-unscoped: {allowExemptions: false}
`)
	again := withReason.DeepCopy()
	again.SetName("forbidden")
	until(t, "the policy forbids the annotation", 10*time.Second, func() (bool, string) {
		v := dryRun(t, again)
		return v.denied && strings.Contains(v.message, "the cluster policy forbids exempting objects from it, so the annotation is ignored"), v.String()
	})
}

func TestPolicyExemptionUntil(t *testing.T) {
	var warns []string
	c := newClient(t, &warns)
	labelledNamespace(t, c, "pol-until", map[string]string{"scaleguard-test": "pol-until"})
	now := time.Now().UTC().Truncate(time.Second)
	ended, ends := now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339)
	createPolicy(t, c, fmt.Sprintf(`
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-until}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-until}}
  exemptions:
    - rules: [promql-unscoped]
      names: [before]
      reason: load test, OPS-9
      until: %q
    - rules: [promql-unscoped]
      names: [after]
      reason: load test, OPS-8
      until: %q
`, ends, ended))
	if !strings.Contains(strings.Join(warns, "\n"), "spec.exemptions[1].until: "+ended+" has passed, so the exemption never applies") {
		t.Errorf("creating the policy: warnings %q; want the ended exemption named", warns)
	}
	before := unscopedSO(t, c, "pol-until", "before", "")
	until(t, "before its end, the exemption applies", 10*time.Second, func() (bool, string) {
		v := dryRun(t, before)
		return !v.denied && warned(v, "promql-unscoped", `(exempted by ScaleGuardPolicy "pol-until" until `+ends+`: load test, OPS-9)`), v.String()
	})
	after := unscopedSO(t, c, "pol-until", "after", "")
	if v := dryRun(t, after); !v.denied || !strings.Contains(v.message, `(the exemption of ScaleGuardPolicy "pol-until" ended at `+ended+`)`) {
		t.Errorf("after its end: %s; want the denial saying the exemption ended", v)
	}
}

// TestRefusedPolicyKeepsTheLastGood stores, past the webhook (as an older
// scaleguard would have accepted it), a generation this one refuses: the
// generation before stays in force, and status and metric say so.
func TestRefusedPolicyKeepsTheLastGood(t *testing.T) {
	c := newClient(t, new([]string))
	labelledNamespace(t, c, "pol-stale", map[string]string{"scaleguard-test": "pol-stale"})
	so := unscopedSO(t, c, "pol-stale", "chat", "")
	p := createPolicy(t, c, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-stale}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-stale}}
  rules:
    promql-unscoped: {action: Warn}
`)
	until(t, "generation 1 in force", 10*time.Second, func() (bool, string) {
		v := dryRun(t, so)
		return !v.denied && warned(v, "promql-unscoped", ""), v.String()
	})

	withoutPolicyWebhook(t, c, func() error {
		return setRules(c, p, map[string]any{
			"promql-unscoped": map[string]any{"action": "Off"},
			"promql-retired":  map[string]any{"action": "Off"},
		})
	})
	until(t, "status: generation 2 refused, generation 1 in force", 10*time.Second, func() (bool, string) {
		st := policyStatus(t, c, "pol-stale")
		ready := condition(st, sgv1alpha1.ConditionReady)
		return st.ObservedGeneration == 1 && ready.Status == metav1.ConditionFalse && ready.Reason == "Refused" && ready.ObservedGeneration == 2 &&
			strings.Contains(ready.Message, `generation 2 is refused, so generation 1 stays in force: spec.rules[promql-retired]: Not found: "promql-retired"`), fmt.Sprintf("%+v", st)
	})
	// Generation 1 (Warn), not generation 2 (Off, which would not warn).
	if v := dryRun(t, so); v.denied || !warned(v, "promql-unscoped", "") {
		t.Errorf("with generation 2 refused: %s; want generation 1's warning", v)
	}
	if got := metricLine(t, `scaleguard_policy_refused{policy="pol-stale"}`); got != "1" {
		t.Errorf("scaleguard_policy_refused = %q, want 1", got)
	}

	if err := setRules(c, p, map[string]any{"promql-unscoped": map[string]any{"action": "Off"}}); err != nil {
		t.Fatal(err)
	}
	until(t, "generation 3 in force", 10*time.Second, func() (bool, string) {
		v := dryRun(t, so)
		st := policyStatus(t, c, "pol-stale")
		return !v.denied && len(v.warnings) == 0 && st.ObservedGeneration == 3 && condition(st, sgv1alpha1.ConditionReady).Status == metav1.ConditionTrue,
			v.String() + fmt.Sprintf(" %+v", st)
	})
	if got := metricLine(t, `scaleguard_policy_refused{policy="pol-stale"}`); got != "0" {
		t.Errorf("scaleguard_policy_refused = %q after the fix, want 0", got)
	}
}

// withoutPolicyWebhook runs fn, until it succeeds, with the
// ScaleGuardPolicy webhook taken out of the validating configuration, and
// puts it back.
func withoutPolicyWebhook(t *testing.T, c client.Client, fn func() error) {
	t.Helper()
	const name = "scaleguardpolicy.validate.scaleguard.io"
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: "scaleguard-validating"}, cfg); err != nil {
		t.Fatal(err)
	}
	orig := cfg.DeepCopy()
	var kept []admissionregistrationv1.ValidatingWebhook
	for _, w := range cfg.Webhooks {
		if w.Name != name {
			kept = append(kept, w)
		}
	}
	cfg.Webhooks = kept
	if err := c.Update(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cur := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := c.Get(context.Background(), client.ObjectKey{Name: "scaleguard-validating"}, cur); err != nil {
			t.Fatal(err)
		}
		cur.Webhooks = orig.Webhooks
		if err := c.Update(context.Background(), cur); err != nil {
			t.Fatal(err)
		}
	}()
	// The API server applies a configuration change a moment later: retry
	// what the webhook would refuse until it is stored.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stored nothing past the webhook: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setRules writes a policy's spec.rules over its latest version.
func setRules(c client.Client, p *unstructured.Unstructured, rules map[string]any) error {
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(p), p); err != nil {
		return err
	}
	if err := unstructured.SetNestedField(p.Object, rules, "spec", "rules"); err != nil {
		return err
	}
	return c.Update(context.Background(), p)
}

func metricLine(t *testing.T, series string) string {
	t.Helper()
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// TestKubectlGetPolicies is what `kubectl get scaleguardpolicies` prints.
func TestKubectlGetPolicies(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	c := newClient(t, new([]string))
	labelledNamespace(t, c, "pol-get", map[string]string{"scaleguard-test": "pol-get"})
	createPolicy(t, c, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-get}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-get}}
  rules:
    promql-unscoped: {action: Warn}
    promql-metric-name: {action: Warn}
    gpu-idle-cost: {action: "Off"}
`)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	total := len(policies.Default.Rules())
	want := regexp.MustCompile(fmt.Sprintf(`(?m)^pol-get\s+%d\s+2\s+1\s+1\s+True\s+\S+$`, total-3))
	until(t, "kubectl get shows the status columns", 10*time.Second, func() (bool, string) {
		out, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "get", "scaleguardpolicies", "pol-get").CombinedOutput()
		ok := err == nil && strings.Contains(string(out), "NAME      ENFORCED   WARN   OFF   NAMESPACES   READY   AGE") && want.Match(out)
		return ok, string(out)
	})
}
