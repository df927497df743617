package v1alpha1

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

func decodeFile(t *testing.T, name string) (*ScaleGuardPolicy, []string, error) {
	t.Helper()
	j, err := yaml.YAMLToJSON(mustRead(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return DecodePolicy(j)
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var knownRules = map[string]bool{"promql-unscoped": true, "promql-invalid": true, "gpu-idle-cost": true, "gpu-unpaused": true}

func ruleExists(id string) bool { return knownRules[id] }

func TestDecodeOverDefaults(t *testing.T) {
	p, unknown, err := decodeFile(t, "testdata/partial-policy.yaml")
	if err != nil || len(unknown) > 0 {
		t.Fatalf("decode: %v %v", err, unknown)
	}
	want := DefaultSettings()
	want.Rules = map[string]RuleOverride{
		"promql-unscoped": {Action: WarnOnly},
		"gpu-idle-cost":   {Action: Off, AllowExemptions: ptrTo(false)},
	}
	want.GPU.Currency = "EUR"
	want.GPU.HourlyPrice = ptrTo(2.5)
	// A map given replaces the default as a whole.
	want.GPU.NamespaceLabels = map[string]string{"accelerators": "nvidia"}
	want.PromQL.Profiles = []ScopeProfile{
		{Name: "kthena-router", MetricPrefix: "kthena_router_", WorkloadLabels: []string{"model"}},
		{Name: "gateway", MetricPrefix: "gateway_", WorkloadLabels: []string{"route"}},
	}
	until, _ := time.Parse(time.RFC3339, "2026-03-01T18:00:00Z")
	got := p.Spec.Settings
	if len(got.Exemptions) != 1 || !got.Exemptions[0].Until.Time.Equal(until) {
		t.Fatalf("exemptions %+v", got.Exemptions)
	}
	want.Exemptions = got.Exemptions
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("settings\n got %+v\nwant %+v", got, *want)
	}
	if p.Spec.NamespaceSelector == nil || p.Spec.NamespaceSelector.MatchLabels["team"] != "serving" {
		t.Errorf("selector %+v", p.Spec.NamespaceSelector)
	}
	if errs := ValidatePolicy(p, ruleExists); len(errs) > 0 {
		t.Errorf("valid policy refused: %v", errs)
	}
}

func TestDecodeWithoutSpecIsTheDefaults(t *testing.T) {
	p, _, err := DecodePolicy([]byte(`{"apiVersion":"scaleguard.io/v1alpha1","kind":"ScaleGuardPolicy","metadata":{"name":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&p.Spec.Settings, DefaultSettings()) {
		t.Errorf("settings %+v", p.Spec.Settings)
	}
}

func TestDecodeErrorsNameTheField(t *testing.T) {
	cases := map[string]struct {
		spec    string
		err     string
		unknown string
	}{
		"unquoted Off":       {spec: `{"rules":{"gpu-idle-cost":{"action":false}}}`, err: `spec.rules.gpu-idle-cost.action: false is a boolean, not Enforce, Warn or Off: write "Off" in quotes`},
		"not a duration":     {spec: `{"gpu":{"maxUnpauseWindow":"a day"}}`, err: `spec.gpu.maxUnpauseWindow: time: invalid duration "a day"`},
		"not a time":         {spec: `{"exemptions":[{"rules":["r"],"reason":"x","until":"Friday"}]}`, err: `spec.exemptions[0].until: parsing time "Friday"`},
		"wrong type":         {spec: `{"gpu":{"minCooldownSeconds":"300"}}`, err: `gpu.minCooldownSeconds: a string is not a valid int32`},
		"unknown field":      {spec: `{"rule":{"x":{"action":"Warn"}}}`, unknown: `unknown field "spec.rule"`},
		"unknown deep field": {spec: `{"gpu":{"currencies":"EUR"}}`, unknown: `unknown field "spec.gpu.currencies"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, unknown, err := DecodePolicy([]byte(`{"apiVersion":"scaleguard.io/v1alpha1","kind":"ScaleGuardPolicy","metadata":{"name":"x"},"spec":` + tc.spec + `}`))
			if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("error %v, want %q", err, tc.err)
			}
			if tc.err == "" && err != nil {
				t.Errorf("error %v", err)
			}
			if tc.unknown != "" && !strings.Contains(strings.Join(unknown, "\n"), tc.unknown) {
				t.Errorf("unknown %q, want %q", unknown, tc.unknown)
			}
		})
	}
}

func TestValidatePolicyPutsEachProblemOnItsField(t *testing.T) {
	p, unknown, err := decodeFile(t, "testdata/invalid-policy.yaml")
	if err != nil || len(unknown) > 0 {
		t.Fatalf("decode: %v %v", err, unknown)
	}
	want := []struct {
		typ      field.ErrorType
		field    string
		fragment string
	}{
		{field.ErrorTypeInvalid, "spec.namespaceSelector.matchExpressions[0].operator", `"Within"`},
		{field.ErrorTypeNotFound, "spec.rules[promql-unscopd]", "promql-unscopd"},
		{field.ErrorTypeNotSupported, "spec.rules[promql-invalid].action", `"Enforce", "Warn", "Off"`},
		{field.ErrorTypeInvalid, "spec.targetRef.scalableKinds[0].apiVersion", "unexpected GroupVersion"},
		{field.ErrorTypeRequired, "spec.targetRef.scalableKinds[1]", "apiVersion and kind are required"},
		{field.ErrorTypeInvalid, "spec.gpu.acceleratorResources[0]", "is not a valid pattern"},
		{field.ErrorTypeInvalid, "spec.gpu.maxUnpauseWindow", "must be positive"},
		{field.ErrorTypeInvalid, "spec.gpu.tolerationKeys[0]", "name part must consist of"},
		{field.ErrorTypeInvalid, "spec.gpu.namespaceLabels[bad key!]", "name part must consist of"},
		{field.ErrorTypeInvalid, "spec.gpu.nodeLabels[0].values[0]", "a valid label must be"},
		{field.ErrorTypeInvalid, "spec.promql.extraMetrics[0]", `"not-a-metric" is not a metric name`},
		{field.ErrorTypeInvalid, "spec.conflicts.kserveDefaultDeploymentMode", `"raw" is not one of Standard`},
		{field.ErrorTypeInvalid, "spec.conflicts.gitOpsTrackingLabels[0]", "name part must consist of"},
		{field.ErrorTypeInvalid, "spec.limits.maxQueryLength", "-1 is negative"},
		{field.ErrorTypeInvalid, "spec.prometheus.address", "is not an http or https URL"},
		{field.ErrorTypeNotFound, "spec.exemptions[0].rules[0]", "gpu-unpauzed"},
		{field.ErrorTypeInvalid, "spec.exemptions[0].namespaces[0]", "a lowercase RFC 1123 label"},
		{field.ErrorTypeForbidden, "spec.exemptions[0].names", "give objectSelector or names, not both"},
		{field.ErrorTypeRequired, "spec.exemptions[0].reason", "say why"},
		{field.ErrorTypeRequired, "spec.exemptions[1].rules", "name the rules"},
	}
	errs := ValidatePolicy(p, ruleExists)
	for _, w := range want {
		found := false
		for _, e := range errs {
			if e.Type == w.typ && e.Field == w.field && strings.Contains(e.Error(), w.fragment) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s error on %s with %q", w.typ, w.field, w.fragment)
		}
	}
	if len(errs) != len(want) {
		t.Errorf("%d errors, want %d:\n%v", len(errs), len(want), errs.ToAggregate())
	}
}

// TestValidateCoversSettingsValidate: every problem Settings.Validate finds
// is put on its field, so none falls back to the catch-all on spec.
func TestValidateCoversSettingsValidate(t *testing.T) {
	p, _, err := decodeFile(t, "testdata/invalid-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ValidatePolicy(p, ruleExists) {
		if e.Field == "spec" {
			t.Errorf("a problem of Settings.Validate was not put on its field: %v", e)
		}
	}
}

// TestStrictDecodeKnowsEveryField keeps strictSpec in step with
// ScaleGuardPolicySpec.
func TestStrictDecodeKnowsEveryField(t *testing.T) {
	fields := func(t reflect.Type) []string {
		var out []string
		for i := 0; i < t.NumField(); i++ {
			out = append(out, t.Field(i).Name+" "+t.Field(i).Type.String()+" "+string(t.Field(i).Tag))
		}
		return out
	}
	if got, want := fields(reflect.TypeOf(strictSpec{})), fields(reflect.TypeOf(ScaleGuardPolicySpec{})); !reflect.DeepEqual(got, want) {
		t.Errorf("strictSpec %v differs from ScaleGuardPolicySpec %v", got, want)
	}
}
