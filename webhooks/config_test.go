package webhooks_test

import (
	"os"
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
}

// failOpen are the kinds whose validating webhook fails open: no rule can
// deny them, so scaleguard being unreachable must not block them.
var failOpen = map[string]bool{"http.keda.sh/v1alpha1/httpscaledobjects": true}

// canDeny reports whether a rule of the default registry that judges the
// kind of a webhook rule can deny.
func canDeny(r admissionregistrationv1.RuleWithOperations) bool {
	for _, k := range apis.Guarded {
		gvr := k.GVR()
		if gvr.Group != r.APIGroups[0] || gvr.Version != r.APIVersions[0] || gvr.Resource != r.Resources[0] {
			continue
		}
		for _, rule := range policies.Default.For(k.GVK) {
			if rule.Action == policies.Deny {
				return true
			}
		}
		return false
	}
	return true
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
			w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector, w.Rules, w.ReinvocationPolicy})
	}
	for _, w := range v.Webhooks {
		val = append(val, hook{w.Name, path(w.ClientConfig), w.FailurePolicy, w.SideEffects, w.AdmissionReviewVersions, w.TimeoutSeconds,
			w.MatchPolicy, w.NamespaceSelector, w.ObjectSelector, w.Rules, nil})
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
		if sel == nil || len(sel.MatchLabels) != 0 || len(sel.MatchExpressions) != 1 {
			t.Fatalf("%s: namespaceSelector %+v, want one expression", h.name, sel)
		}
		e := sel.MatchExpressions[0]
		if e.Key != "kubernetes.io/metadata.name" || e.Operator != metav1.LabelSelectorOpNotIn ||
			strings.Join(e.Values, ",") != "scaleguard-system,kube-system" {
			t.Errorf("%s: namespaceSelector %+v, want kubernetes.io/metadata.name NotIn [scaleguard-system kube-system]", h.name, e)
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
		if r.Scope == nil || *r.Scope != admissionregistrationv1.NamespacedScope {
			t.Errorf("%s: scope %v", h.name, r.Scope)
		}
		key := phase + " " + r.APIGroups[0] + "/" + r.APIVersions[0] + "/" + r.Resources[0]
		if _, dup := got[key]; dup {
			t.Errorf("%s: %s configured twice", h.name, key)
		}
		got[key] = h.path
	}
	for _, h := range mut {
		check("mutate", h, admissionregistrationv1.Ignore)
		if h.reinvocation == nil || *h.reinvocation != admissionregistrationv1.IfNeededReinvocationPolicy {
			t.Errorf("%s: reinvocationPolicy %v, want IfNeeded (another webhook may change the object after ours)", h.name, h.reinvocation)
		}
	}
	for _, h := range val {
		want := admissionregistrationv1.Fail
		if r := h.rules[0]; len(r.APIGroups) == 1 && len(r.APIVersions) == 1 && len(r.Resources) == 1 &&
			failOpen[r.APIGroups[0]+"/"+r.APIVersions[0]+"/"+r.Resources[0]] {
			if canDeny(r) {
				t.Errorf("%s fails open, but a rule can deny its kind", h.name)
			}
			want = admissionregistrationv1.Ignore
		}
		check("validate", h, want)
	}

	want := map[string]string{}
	for _, e := range webhooks.Endpoints() {
		gvr := e.Kind.GVR()
		want[string(e.Phase)+" "+gvr.Group+"/"+gvr.Version+"/"+gvr.Resource] = e.Path
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
