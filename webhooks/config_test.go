package webhooks_test

import (
	"os"
	"sort"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/webhooks"
)

// TestShippedConfigurationMatchesTheDispatchTable reads config/webhook as
// shipped and checks it against the endpoints the server registers.
func TestShippedConfigurationMatchesTheDispatchTable(t *testing.T) {
	raw, err := os.ReadFile("../config/webhook/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	if len(docs) != 2 {
		t.Fatalf("want a mutating and a validating configuration, got %d documents", len(docs))
	}
	var mut admissionregistrationv1.MutatingWebhookConfiguration
	var val admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &mut); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &val); err != nil {
		t.Fatal(err)
	}

	got := map[string]string{}
	check := func(phase, name, path string, fail *admissionregistrationv1.FailurePolicyType, se *admissionregistrationv1.SideEffectClass,
		versions []string, timeout *int32, sel *admissionregistrationv1.WebhookClientConfig, ns []string, rules []admissionregistrationv1.RuleWithOperations, wantFail admissionregistrationv1.FailurePolicyType) {
		if fail == nil || *fail != wantFail {
			t.Errorf("%s: failurePolicy %v, want %s", name, fail, wantFail)
		}
		if se == nil || *se != admissionregistrationv1.SideEffectClassNone {
			t.Errorf("%s: sideEffects must be None", name)
		}
		if len(versions) != 1 || versions[0] != "v1" {
			t.Errorf("%s: admissionReviewVersions %v", name, versions)
		}
		if timeout == nil || *timeout > 10 {
			t.Errorf("%s: timeoutSeconds %v, want a short one", name, timeout)
		}
		sort.Strings(ns)
		if strings.Join(ns, ",") != "kube-system,scaleguard-system" {
			t.Errorf("%s: namespaceSelector excludes %v", name, ns)
		}
		if len(rules) != 1 {
			t.Fatalf("%s: %d rules", name, len(rules))
		}
		r := rules[0]
		ops := []string{}
		for _, o := range r.Operations {
			ops = append(ops, string(o))
		}
		if strings.Join(ops, ",") != "CREATE,UPDATE" {
			t.Errorf("%s: operations %v (DELETE and CONNECT are not judged)", name, ops)
		}
		for _, res := range r.Resources {
			if strings.Contains(res, "/") {
				t.Errorf("%s: resource %q includes a subresource", name, res)
			}
		}
		key := phase + " " + r.APIGroups[0] + "/" + r.APIVersions[0] + "/" + r.Resources[0]
		got[key] = path
	}
	for _, w := range mut.Webhooks {
		check("mutate", w.Name, *w.ClientConfig.Service.Path, w.FailurePolicy, w.SideEffects, w.AdmissionReviewVersions, w.TimeoutSeconds,
			&w.ClientConfig, w.NamespaceSelector.MatchExpressions[0].Values, w.Rules, admissionregistrationv1.Ignore)
	}
	for _, w := range val.Webhooks {
		check("validate", w.Name, *w.ClientConfig.Service.Path, w.FailurePolicy, w.SideEffects, w.AdmissionReviewVersions, w.TimeoutSeconds,
			&w.ClientConfig, w.NamespaceSelector.MatchExpressions[0].Values, w.Rules, admissionregistrationv1.Fail)
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
