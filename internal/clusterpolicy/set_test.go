package clusterpolicy_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// readPolicies parses every document of a testdata file.
func readPolicies(t *testing.T, name string) []*clusterpolicy.Policy {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []*clusterpolicy.Policy
	for _, doc := range strings.Split(string(b), "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		p, unknown, err := clusterpolicy.Parse(j, policies.Default)
		if err != nil || len(unknown) > 0 {
			t.Fatalf("%s: %v %v", name, err, unknown)
		}
		out = append(out, p)
	}
	return out
}

func nsLabels(name string, l map[string]string) labels.Set {
	return clusterpolicy.NamespaceLabels(name, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}})
}

func TestMergePerNamespace(t *testing.T) {
	set := clusterpolicy.NewSet(nil, readPolicies(t, "testdata/policies.yaml")...)
	cases := map[string]struct {
		labels     labels.Set
		covering   string
		actions    map[string]policies.Enforcement
		currency   string
		allowAnn   bool
		exemptions string
	}{
		"team serving: three policies": {
			labels:   nsLabels("chat", map[string]string{"team": "serving"}),
			covering: "a-serving,b-strict,z-global",
			actions: map[string]policies.Enforcement{
				"promql-unscoped": policies.Enforce,  // b's Enforce over a's Warn
				"gpu-idle-cost":   policies.WarnOnly, // b's Warn over a's Off
				"target-ref":      policies.WarnOnly, // both Warn
				"conflict-hpa":    policies.WarnOnly, // only z sets it
				"gpu-unpaused":    policies.Enforce,  // nobody sets it
			},
			currency: "EUR", // from a-serving, whose name sorts first
			allowAnn: false, // b-strict forbids
			// every policy's exemptions, each naming its policy
			exemptions: "a-serving:gpu-unpaused,b-strict:conflict-hpa",
		},
		"team batch: b and z": {
			labels:     nsLabels("jobs", map[string]string{"team": "batch"}),
			covering:   "b-strict,z-global",
			actions:    map[string]policies.Enforcement{"promql-unscoped": policies.Enforce, "gpu-idle-cost": policies.WarnOnly, "conflict-hpa": policies.WarnOnly},
			currency:   "USD",
			exemptions: "b-strict:conflict-hpa",
		},
		"any other namespace: z alone": {
			labels:   nsLabels("web", nil),
			covering: "z-global",
			actions:  map[string]policies.Enforcement{"conflict-hpa": policies.WarnOnly, "promql-unscoped": policies.Enforce},
			currency: "USD",
			allowAnn: true,
		},
		"selected by name only": {
			labels:   clusterpolicy.NamespaceLabels("web", nil),
			covering: "z-global",
			actions:  map[string]policies.Enforcement{"conflict-hpa": policies.WarnOnly},
			currency: "USD",
			allowAnn: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var cov []string
			for _, p := range set.Covering(tc.labels) {
				cov = append(cov, p.Name)
			}
			if got := strings.Join(cov, ","); got != tc.covering {
				t.Errorf("covering %s, want %s", got, tc.covering)
			}
			s := set.For(tc.labels)
			for id, want := range tc.actions {
				if got := s.Enforcement(id); got != want {
					t.Errorf("%s: %s, want %s", id, got, want)
				}
			}
			if s.GPU.Currency != tc.currency {
				t.Errorf("currency %s, want %s", s.GPU.Currency, tc.currency)
			}
			if got := s.AllowsExemption("promql-unscoped"); got != tc.allowAnn {
				t.Errorf("annotation exemptions allowed: %v, want %v", got, tc.allowAnn)
			}
			var ex []string
			for _, e := range s.Exemptions {
				ex = append(ex, e.Policy+":"+strings.Join(e.Rules, "+"))
			}
			if got := strings.Join(ex, ","); got != tc.exemptions {
				t.Errorf("exemptions %s, want %s", got, tc.exemptions)
			}
			if s != set.For(tc.labels) {
				t.Error("the merge of one combination is not cached")
			}
		})
	}
}

func TestNoPolicyIsTheBase(t *testing.T) {
	set := clusterpolicy.NewSet(nil)
	if got := set.For(nsLabels("x", nil)); !reflect.DeepEqual(got, policies.DefaultSettings()) {
		t.Errorf("no policy: %+v", got)
	}
	base := policies.DefaultSettings()
	base.GPU.Currency = "CHF"
	if got := clusterpolicy.NewSet(base).For(nsLabels("x", nil)); got != base {
		t.Errorf("no policy over a base: %+v", got)
	}
}

// TestSampleIsTheDefaults keeps config/samples/default-policy.yaml what
// make generate writes, and, decoded, equal to the built-in settings as a
// whole: a default added or changed without regenerating fails here.
func TestSampleIsTheDefaults(t *testing.T) {
	onDisk, err := os.ReadFile("../../" + clusterpolicy.SamplePath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := clusterpolicy.SampleYAML(policies.Default)
	if err != nil {
		t.Fatal(err)
	}
	if string(onDisk) != string(want) {
		t.Errorf("%s is out of date: run make generate", clusterpolicy.SamplePath)
	}
	j, err := yaml.YAMLToJSON(onDisk)
	if err != nil {
		t.Fatal(err)
	}
	p, unknown, err := clusterpolicy.Parse(j, policies.Default)
	if err != nil || len(unknown) > 0 {
		t.Fatalf("the sample does not parse: %v %v", err, unknown)
	}
	got := p.Spec.Settings.DeepCopy()
	// The sample lists every rule at Enforce, which is what a rule not
	// listed gets: the same settings.
	for _, r := range policies.Default.Rules() {
		if o, ok := got.Rules[r.ID]; !ok || o != (policies.RuleOverride{Action: policies.Enforce}) {
			t.Errorf("the sample gives %s %+v, want Enforce", r.ID, o)
		}
		delete(got.Rules, r.ID)
	}
	if len(got.Rules) == 0 {
		got.Rules = nil
	}
	if !reflect.DeepEqual(got, policies.DefaultSettings()) {
		t.Errorf("the sample differs from DefaultSettings():\n got %+v\nwant %+v", *got, *policies.DefaultSettings())
	}
	if p.Spec.NamespaceSelector != nil {
		t.Errorf("the sample covers every namespace, not %v", p.Spec.NamespaceSelector)
	}
}
