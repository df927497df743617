package policies_test

import (
	"encoding/json"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

// Test rules: one that labels, one that annotates, one that denies on a
// marker annotation, one that panics.
func testRegistry(t *testing.T) *policies.Registry {
	t.Helper()
	reg := policies.NewRegistry()
	kinds := []schema.GroupVersionKind{apis.ScaledObject}
	mustRegister(t, reg,
		policies.Rule{ID: "add-annotation", Kinds: kinds, Action: policies.Mutate, Summary: "s",
			Check: policies.On(func(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
				if _, ok := so.Annotations["a"]; ok {
					return nil
				}
				op := jsonpatch.NewOperation("add", "/metadata/annotations", map[string]string{"a": "1"})
				if so.Annotations != nil {
					op = jsonpatch.NewOperation("add", "/metadata/annotations/a", "1")
				}
				return []policies.Finding{policies.Mutatef(field.NewPath("metadata", "annotations"), []jsonpatch.Operation{op}, "set a")}
			})},
		policies.Rule{ID: "needs-a", Kinds: kinds, Action: policies.Deny, Summary: "s",
			Check: policies.On(func(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
				if so.Annotations["a"] != "1" {
					return []policies.Finding{policies.Denyf(field.NewPath("metadata", "annotations"), "a is not set")}
				}
				return nil
			})},
		policies.Rule{ID: "deny-marker", Kinds: kinds, Action: policies.Deny, Summary: "s",
			Check: policies.On(func(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
				if v, ok := so.Labels["bad"]; ok {
					return []policies.Finding{policies.Denyf(field.NewPath("metadata", "labels", "bad"), "bad label %s", v)}
				}
				return nil
			})},
		policies.Rule{ID: "panics-deny", Kinds: kinds, Action: policies.Deny, Summary: "s",
			Check: func(in *policies.Input) []policies.Finding {
				if in.Object.GetLabels()["panic"] == "deny" {
					panic("boom")
				}
				return nil
			}},
		policies.Rule{ID: "panics", Kinds: kinds, Action: policies.Warn, Summary: "s",
			Check: func(in *policies.Input) []policies.Finding {
				if in.Object.GetLabels()["panic"] == "yes" {
					var m map[string]string
					m["x"] = "boom"
				}
				return nil
			}},
	)
	return reg
}

func mustRegister(t *testing.T, reg *policies.Registry, rules ...policies.Rule) {
	t.Helper()
	for _, r := range rules {
		if err := reg.Register(r); err != nil {
			t.Fatal(err)
		}
	}
}

func soJSON(t *testing.T, y string) []byte {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte("apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\n" + y))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func req(obj []byte) policies.Request {
	return policies.Request{GVK: apis.ScaledObject, Operation: policies.Create, Object: obj, View: clusterview.NewManifests()}
}

func TestMutateThenValidateAndIdempotence(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	obj := soJSON(t, "metadata: {name: s, namespace: ns1}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")

	v, err := e.Validate(req(obj))
	if err != nil {
		t.Fatal(err)
	}
	if !v.Denied() || v.Findings[0].Rule != "needs-a" {
		t.Fatalf("unmutated object: want needs-a denial, got %+v", v.Findings)
	}

	res, err := e.Admit(req(obj))
	if err != nil {
		t.Fatal(err)
	}
	if res.Denied() {
		t.Fatalf("after mutation the object must pass: %+v", res.Findings)
	}
	if len(res.Patch) != 1 || res.Patch[0].Path != "/metadata/annotations" {
		t.Fatalf("patch = %+v", res.Patch)
	}
	if len(res.Findings) != 1 || res.Findings[0].Action != policies.Mutate || res.Findings[0].Rule != "add-annotation" {
		t.Fatalf("findings = %+v", res.Findings)
	}

	again, err := e.Mutate(req(res.Object))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Patch) != 0 || len(again.Findings) != 0 {
		t.Fatalf("second pass must be empty, got patch %+v findings %+v", again.Patch, again.Findings)
	}
}

func TestEnforcementOverrides(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	obj := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {bad: x}}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")

	s := policies.DefaultSettings()
	s.Rules = map[string]policies.RuleOverride{"deny-marker": {Action: policies.WarnOnly}, "add-annotation": {Action: policies.WarnOnly}, "needs-a": {Action: policies.Off}}
	r := req(obj)
	r.Settings = s
	res, err := e.Admit(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Denied() || len(res.Patch) != 0 {
		t.Fatalf("warn-only rules must neither deny nor patch: %+v %+v", res.Findings, res.Patch)
	}
	got := map[string]policies.Action{}
	for _, f := range res.Findings {
		got[f.Rule] = f.Action
	}
	want := map[string]policies.Action{"deny-marker": policies.Warn, "add-annotation": policies.Warn}
	if len(got) != len(want) || got["deny-marker"] != policies.Warn || got["add-annotation"] != policies.Warn {
		t.Fatalf("findings %+v, want %v", res.Findings, want)
	}
}

func TestUpdateJudgesWhatChanges(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	old := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {bad: x}, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")
	edited := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {bad: x}, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, minReplicaCount: 2, triggers: []}\n")
	worse := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {bad: worse}, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")

	r := req(edited)
	r.Operation, r.OldObject = policies.Update, old
	res, err := e.Validate(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Denied() || len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message, "already so before this update") {
		t.Fatalf("an unrelated edit must be admitted with a warning: %+v", res.Findings)
	}

	r.Object = worse
	res, err = e.Validate(r)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Denied() {
		t.Fatalf("an edit that changes the offending value must be judged: %+v", res.Findings)
	}
}

// The stored object of an UPDATE is decoded only when a rule reads it (a
// denial to compare with it here); one that does not decode then ends the
// judgement with its error, in both phases, as it always did.
func TestStoredObjectIsDecodedWhenRead(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	decodes := 0
	e.Decode = func(gvk schema.GroupVersionKind, data []byte) (client.Object, error) {
		decodes++
		return apis.Decode(gvk, data)
	}
	old := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {bad: x}, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")
	clean := soJSON(t, "metadata: {name: s, namespace: ns1, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")
	denied := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {bad: x}, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, minReplicaCount: 2, triggers: []}\n")
	broken := soJSON(t, "metadata: {name: s, namespace: ns1}\nspec: {scaleTargetRef: {name: d}, minReplicaCount: many, triggers: []}\n")

	update := func(obj, stored []byte) policies.Request {
		r := req(obj)
		r.Operation, r.OldObject = policies.Update, stored
		return r
	}
	for _, c := range []struct {
		name        string
		obj, stored []byte
		decodes     int
		err         bool
	}{
		// The object only: nothing is denied, no rule reads the stored one.
		{"clean", clean, old, 1, false},
		{"clean, stored object broken", clean, broken, 1, false},
		// The object, then the stored one to compare the denial with.
		{"denied", denied, old, 2, false},
		{"denied, stored object broken", denied, broken, 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			decodes = 0
			res, err := e.Validate(update(c.obj, c.stored))
			if (err != nil) != c.err || decodes != c.decodes {
				t.Fatalf("Validate: %d decodes, err %v; want %d decodes, an error: %v", decodes, err, c.decodes, c.err)
			}
			if c.err && !strings.Contains(err.Error(), "old object:") {
				t.Errorf("the error does not name the stored object: %v", err)
			}
			if c.name == "denied" && (res.Denied() || !strings.Contains(res.Findings[0].Message, "already so before this update")) {
				t.Errorf("the stored object's denial is not recognised: %+v", res.Findings)
			}
		})
	}
	// The mutating phase reads no stored object for these rules.
	decodes = 0
	if _, err := e.Mutate(update(clean, broken)); err != nil || decodes != 1 {
		t.Fatalf("Mutate: %d decodes, err %v; want 1 and none", decodes, err)
	}
}

func TestGeneratedObjectsAreJudgedAtTheirOwner(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	obj := soJSON(t, `metadata:
  name: s
  namespace: ns1
  labels: {bad: x}
  annotations: {a: "1"}
  ownerReferences: [{apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, name: llm, uid: u, controller: true}]
spec: {scaleTargetRef: {name: d}, triggers: []}
`)
	res, err := e.Validate(req(obj))
	if err != nil {
		t.Fatal(err)
	}
	if res.Denied() || len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message, `generated by InferenceService "llm"`) {
		t.Fatalf("want one downgraded warning, got %+v", res.Findings)
	}
}

func TestPanickingRuleBecomesAWarning(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	obj := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {panic: 'yes'}, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")
	res, err := e.Validate(req(obj))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Rule != "panics" || res.Findings[0].Action != policies.Warn ||
		!strings.Contains(res.Findings[0].Message, "internal error") {
		t.Fatalf("findings = %+v", res.Findings)
	}
}

func TestPanickingDenyRuleFailsClosed(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	var told []string
	e.OnPanic = func(rule string, _ any, stack []byte) {
		if len(stack) == 0 {
			t.Error("no stack")
		}
		told = append(told, rule)
	}
	obj := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {panic: deny}, annotations: {a: '1'}}\nspec: {scaleTargetRef: {name: d}, triggers: []}\n")
	res, err := e.Validate(req(obj))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Denied() || len(res.Findings) != 1 || res.Findings[0].Rule != "panics-deny" ||
		!strings.Contains(res.Findings[0].Message, "could not judge the object, so it is refused") {
		t.Fatalf("a deny rule that crashes must refuse, got %+v", res.Findings)
	}
	if len(told) != 1 || told[0] != "panics-deny" {
		t.Errorf("OnPanic told %v", told)
	}
	// An administrator can downgrade it while it is fixed.
	r := req(obj)
	r.Settings = policies.DefaultSettings()
	r.Settings.Rules = map[string]policies.RuleOverride{"panics-deny": {Action: policies.WarnOnly}}
	if res, _ := e.Validate(r); res.Denied() {
		t.Fatalf("set to warn, it must not deny: %+v", res.Findings)
	}
	// The mutating side never fails closed.
	mut, err := e.Mutate(req(obj))
	if err != nil || mut.Denied() {
		t.Fatalf("mutate: %v %+v", err, mut.Findings)
	}
}

func TestDecodeErrorsAreErrors(t *testing.T) {
	e := policies.NewEngine(testRegistry(t))
	bad := []byte(`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s"},"spec":{"minReplicaCount":"three"}}`)
	if _, err := e.Validate(req(bad)); err == nil {
		t.Fatal("want a decode error for a string where a number belongs")
	}
	if _, err := e.Mutate(req([]byte(`{"apiVersion":`))); err == nil {
		t.Fatal("want a decode error for truncated JSON")
	}
}

func TestRegistryRefusesDuplicatesAndMalformedRules(t *testing.T) {
	reg := policies.NewRegistry()
	ok := policies.Rule{ID: "a-rule", Kinds: []schema.GroupVersionKind{apis.ScaledObject}, Action: policies.Deny, Summary: "s",
		Check: func(*policies.Input) []policies.Finding { return nil }}
	if err := reg.Register(ok); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(ok); err == nil || !strings.Contains(err.Error(), "registered twice") {
		t.Fatalf("duplicate: err = %v", err)
	}
	for name, mutate := range map[string]func(*policies.Rule){
		"bad id":     func(r *policies.Rule) { r.ID = "Bad_ID" },
		"no kinds":   func(r *policies.Rule) { r.Kinds = nil },
		"bad action": func(r *policies.Rule) { r.Action = "block" },
		"no summary": func(r *policies.Rule) { r.Summary = "" },
		"no check":   func(r *policies.Rule) { r.Check = nil },
	} {
		r := ok
		r.ID = "other-rule"
		mutate(&r)
		if err := reg.Register(r); err == nil {
			t.Errorf("%s: registered", name)
		}
	}
}

func TestMustRegisterPanicsOnDuplicate(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "registered twice") {
			t.Fatalf("recover() = %v", r)
		}
	}()
	rule := policies.Rule{ID: "dup-test-rule", Kinds: []schema.GroupVersionKind{apis.ScaledObject}, Action: policies.Warn, Summary: "s",
		Check: func(*policies.Input) []policies.Finding { return nil }}
	policies.MustRegister(rule)
	policies.MustRegister(rule)
}

func TestSettingsValidate(t *testing.T) {
	reg := testRegistry(t)
	s := policies.DefaultSettings()
	if err := policies.ValidateSettings(s, reg); err != nil {
		t.Fatal(err)
	}
	s.Rules = map[string]policies.RuleOverride{"nope": {Action: policies.Off}, "needs-a": {Action: "sometimes"}}
	err := policies.ValidateSettings(s, reg)
	if err == nil || !strings.Contains(err.Error(), "rules.nope: no such rule") || !strings.Contains(err.Error(), `rules.needs-a.action: "sometimes"`) {
		t.Fatalf("err = %v", err)
	}
	var round policies.Settings
	b, _ := json.Marshal(policies.DefaultSettings())
	if err := json.Unmarshal(b, &round); err != nil || len(round.TargetRef.ScalableKinds) == 0 {
		t.Fatalf("settings do not round-trip through JSON: %v", err)
	}
}
