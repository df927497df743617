package webhooks_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
	"github.com/scaleguard/scaleguard/webhooks"
)

// hook is what the two configuration kinds share.
type hook struct {
	name, path   string
	failure      *admissionregistrationv1.FailurePolicyType
	sideEffects  *admissionregistrationv1.SideEffectClass
	versions     []string
	timeout      *int32
	matchPolicy  *admissionregistrationv1.MatchPolicyType
	nsSelector   *metav1.LabelSelector
	objSelector  *metav1.LabelSelector
	rules        []admissionregistrationv1.RuleWithOperations
	reinvocation *admissionregistrationv1.ReinvocationPolicyType
	conditions   []admissionregistrationv1.MatchCondition
}

func shipped(t *testing.T) (mut, val []hook) {
	t.Helper()
	raw, err := os.ReadFile("../config/webhook/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("want a mutating and a validating configuration, got %d documents", len(docs))
	}
	var m admissionregistrationv1.MutatingWebhookConfiguration
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &m); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &v); err != nil {
		t.Fatal(err)
	}
	path := func(cc admissionregistrationv1.WebhookClientConfig) string {
		if cc.Service == nil || cc.Service.Path == nil || cc.URL != nil {
			t.Fatalf("client config must name the scaleguard Service and a path: %+v", cc)
		}
		if cc.Service.Name != "scaleguard-webhook" || cc.Service.Namespace != "scaleguard-system" {
			t.Errorf("client config names Service %s/%s", cc.Service.Namespace, cc.Service.Name)
		}
		return *cc.Service.Path
	}
	for _, w := range m.Webhooks {
		mut = append(mut, hook{w.Name, path(w.ClientConfig), w.FailurePolicy, w.SideEffects, w.AdmissionReviewVersions, w.TimeoutSeconds,
			w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector, w.Rules, w.ReinvocationPolicy, w.MatchConditions})
	}
	for _, w := range v.Webhooks {
		val = append(val, hook{w.Name, path(w.ClientConfig), w.FailurePolicy, w.SideEffects, w.AdmissionReviewVersions, w.TimeoutSeconds,
			w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector, w.Rules, nil, w.MatchConditions})
	}
	return mut, val
}

// TestShippedConfigurationMatchesTheDispatchTable reads config/webhook as
// shipped and checks every webhook's contract and its route against the
// endpoints the server registers.
func TestShippedConfigurationMatchesTheDispatchTable(t *testing.T) {
	mut, val := shipped(t)
	got := map[string]string{}
	check := func(phase string, h hook, wantFail admissionregistrationv1.FailurePolicyType) {
		if h.failure == nil || *h.failure != wantFail {
			t.Errorf("%s: failurePolicy %v, want %s", h.name, h.failure, wantFail)
		}
		if h.sideEffects == nil || *h.sideEffects != admissionregistrationv1.SideEffectClassNone {
			t.Errorf("%s: sideEffects must be None (server-side dry runs get the same verdict)", h.name)
		}
		if len(h.versions) != 1 || h.versions[0] != "v1" {
			t.Errorf("%s: admissionReviewVersions %v", h.name, h.versions)
		}
		if h.timeout == nil || *h.timeout < 1 || *h.timeout > 5 {
			t.Errorf("%s: timeoutSeconds %v, want 5 at most", h.name, h.timeout)
		}
		if h.matchPolicy == nil || *h.matchPolicy != admissionregistrationv1.Equivalent {
			t.Errorf("%s: matchPolicy %v, want Equivalent (autoscaling/v1 HPAs are judged as v2)", h.name, h.matchPolicy)
		}
		if h.objSelector != nil {
			t.Errorf("%s: an objectSelector would let labelled objects skip the guard", h.name)
		}
		sel := h.nsSelector
		if sel == nil || len(sel.MatchLabels) != 0 || len(sel.MatchExpressions) != 2 {
			t.Fatalf("%s: namespaceSelector %+v, want two expressions", h.name, sel)
		}
		e := sel.MatchExpressions[0]
		if e.Key != "kubernetes.io/metadata.name" || e.Operator != metav1.LabelSelectorOpNotIn ||
			strings.Join(e.Values, ",") != "scaleguard-system,kube-system" {
			t.Errorf("%s: namespaceSelector %+v, want kubernetes.io/metadata.name NotIn [scaleguard-system kube-system]", h.name, e)
		}
		if e := sel.MatchExpressions[1]; e.Key != apis.IgnoreLabel || e.Operator != metav1.LabelSelectorOpNotIn || strings.Join(e.Values, ",") != "true" {
			t.Errorf("%s: namespaceSelector %+v, want %s NotIn [true] (the opt-out label)", h.name, e, apis.IgnoreLabel)
		}
		if len(h.rules) != 1 {
			t.Fatalf("%s: %d rules", h.name, len(h.rules))
		}
		r := h.rules[0]
		var ops []string
		for _, o := range r.Operations {
			ops = append(ops, string(o))
		}
		if strings.Join(ops, ",") != "CREATE,UPDATE" {
			t.Errorf("%s: operations %v (DELETE and CONNECT are not judged)", h.name, ops)
		}
		if len(r.APIGroups) != 1 || len(r.APIVersions) != 1 || len(r.Resources) != 1 {
			t.Fatalf("%s: rule %+v must name one group, version and resource", h.name, r)
		}
		if strings.Contains(r.Resources[0], "/") || r.Resources[0] == "*" {
			t.Errorf("%s: resource %q is not a plain resource (subresources are not judged)", h.name, r.Resources[0])
		}
		wantScope := admissionregistrationv1.NamespacedScope
		if r.Resources[0] == webhooks.PolicyKind.Resource {
			wantScope = admissionregistrationv1.ClusterScope
		}
		if r.Scope == nil || *r.Scope != wantScope {
			t.Errorf("%s: scope %v, want %s", h.name, r.Scope, wantScope)
		}
		key := phase + " " + r.APIGroups[0] + "/" + r.APIVersions[0] + "/" + r.Resources[0]
		if _, dup := got[key]; dup {
			t.Errorf("%s: %s configured twice", h.name, key)
		}
		got[key] = h.path
	}
	for _, h := range mut {
		check("mutate", h, admissionregistrationv1.Ignore)
		// Mutations still apply to generated objects (a KServe
		// ScaledObject on a GPU tier is paused); the mutating side fails
		// open, so it never blocks their controllers. Its only condition
		// leaves out objects no mutate rule would patch.
		for _, c := range h.conditions {
			if c.Name != webhooks.MayMutateConditionName {
				t.Errorf("%s: matchCondition %s on a mutating webhook", h.name, c.Name)
			}
		}
		if h.reinvocation == nil || *h.reinvocation != admissionregistrationv1.IfNeededReinvocationPolicy {
			t.Errorf("%s: reinvocationPolicy %v, want IfNeeded (another webhook may change the object after ours)", h.name, h.reinvocation)
		}
	}
	// A validating webhook fails closed exactly when a rule of its kind can
	// refuse an object.
	byPath := map[string]webhooks.Endpoint{}
	for _, e := range webhooks.Endpoints() {
		byPath[e.Path] = e
	}
	for _, h := range val {
		want := admissionregistrationv1.Ignore
		if e, ok := byPath[h.path]; ok && e.Kind == webhooks.PolicyKind {
			// A policy is never stored unchecked.
			want = admissionregistrationv1.Fail
		} else if ok {
			for _, r := range policies.Default.For(e.Kind.GVK) {
				if r.Denies() {
					want = admissionregistrationv1.Fail
				}
			}
		}
		check("validate", h, want)
		if len(h.conditions) != 1 || h.conditions[0] != webhooks.NotGeneratedCondition() {
			t.Errorf("%s: matchConditions %v, want only %s", h.name, h.conditions, webhooks.NotGeneratedConditionName)
		}
	}

	// Every served endpoint is configured, but a kind's mutating one only
	// when a rule patches the kind: the API server calls no webhook that
	// can only answer "no patch".
	want := map[string]string{}
	var mutated []string
	for _, e := range webhooks.Endpoints() {
		if e.Phase == webhooks.Mutating && !webhooks.Mutates(policies.Default, e.Kind) {
			continue
		}
		if e.Phase == webhooks.Mutating {
			mutated = append(mutated, e.Kind.GVK.Kind)
		}
		gvr := e.Kind.GVR()
		want[string(e.Phase)+" "+gvr.Group+"/"+gvr.Version+"/"+gvr.Resource] = e.Path
	}
	if slices.Sort(mutated); !slices.Equal(mutated, []string{"PodMonitor", "ScaledObject", "ServiceMonitor"}) {
		t.Errorf("mutating webhooks for %v, want the kinds gpu-paused-default and the monitor rules patch", mutated)
	}
	for k, p := range want {
		if got[k] != p {
			t.Errorf("%s: configuration calls %q, server serves %q", k, got[k], p)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: configured but not served", k)
		}
	}
}

// TestFailurePolicyFollowsTheRules derives each validating webhook's
// failure policy from the rules registered for its kind: closed for a kind
// a deny rule (or a rule that may deny) judges, open otherwise; the
// mutating side is always open.
func TestFailurePolicyFollowsTheRules(t *testing.T) {
	noop := func(*policies.Input) []policies.Finding { return nil }
	rule := func(id string, a policies.Action, mayDeny bool, kinds ...apis.Kind) policies.Rule {
		r := policies.Rule{ID: id, Action: a, MayDeny: mayDeny, Summary: id, Check: noop}
		for _, k := range kinds {
			r.Kinds = append(r.Kinds, k.GVK)
		}
		return r
	}
	kind := func(gvk string) apis.Kind {
		for _, k := range apis.Guarded {
			if k.GVK.Kind == gvk {
				return k
			}
		}
		t.Fatalf("%s is not guarded", gvk)
		return apis.Kind{}
	}
	so, ms, pm, sm := kind("ScaledObject"), kind("ModelServing"), kind("PodMonitor"), kind("ServiceMonitor")
	reg := policies.NewRegistry()
	for _, r := range []policies.Rule{
		rule("only-warns", policies.Warn, false, ms, so),
		rule("denies", policies.Deny, false, so),
		rule("mutates-or-denies", policies.Mutate, true, pm),
		rule("only-mutates", policies.Mutate, false, sm),
	} {
		if err := reg.Register(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		kind  apis.Kind
		phase webhooks.Phase
		want  admissionregistrationv1.FailurePolicyType
	}{
		{so, webhooks.Validating, admissionregistrationv1.Fail},
		{ms, webhooks.Validating, admissionregistrationv1.Ignore},
		{pm, webhooks.Validating, admissionregistrationv1.Fail},
		{sm, webhooks.Validating, admissionregistrationv1.Ignore},
		{kind("HorizontalPodAutoscaler"), webhooks.Validating, admissionregistrationv1.Ignore},
		{so, webhooks.Mutating, admissionregistrationv1.Ignore},
		{pm, webhooks.Mutating, admissionregistrationv1.Ignore},
	} {
		e := webhooks.Endpoint{Path: webhooks.Path(c.phase, c.kind), Phase: c.phase, Kind: c.kind}
		if got := webhooks.FailurePolicy(e, reg); got != c.want {
			t.Errorf("%s: %s, want %s", e.Path, got, c.want)
		}
	}
	_, val := webhooks.Configurations(reg, webhooks.ConfigurationOptions{ServiceName: "s", ServiceNamespace: "n", TimeoutSeconds: 5})
	for _, w := range val.Webhooks {
		if w.Name == "modelserving.validate.scaleguard.io" && *w.FailurePolicy != admissionregistrationv1.Ignore {
			t.Errorf("%s: %s, want Ignore", w.Name, *w.FailurePolicy)
		}
	}
}
