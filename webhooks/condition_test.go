package webhooks_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/cel-go/cel"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// TestMutateConditionsHoldWherePatched: a mutating webhook's matchCondition
// is false only for objects its mutate rules leave alone. Every object of
// a kind that has one, in the examples, the published corpus and the rule
// fixtures, is judged by the mutating phase as it is and with each pause
// decision KEDA reads (and while being deleted); wherever the phase patches,
// the condition, evaluated by CEL as the API server does over the object,
// holds.
func TestMutateConditionsHoldWherePatched(t *testing.T) {
	engine := policies.NewEngine(policies.Default)
	env, err := cel.NewEnv(cel.Variable("object", cel.DynType))
	if err != nil {
		t.Fatal(err)
	}
	programs := map[schema.GroupVersionKind]cel.Program{}
	for _, e := range webhooks.Endpoints() {
		conds := webhooks.MutateConditions(policies.Default, e.Kind)
		if e.Phase != webhooks.Mutating || len(conds) == 0 {
			continue
		}
		ast, iss := env.Compile(conds[0].Expression)
		if iss.Err() != nil {
			t.Fatalf("%s: %v", e.Kind.GVK.Kind, iss.Err())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		programs[e.Kind.GVK] = prg
	}
	if _, ok := programs[apis.ScaledObject]; !ok {
		t.Fatal("the ScaledObject mutating webhook has no matchCondition")
	}
	var scenarios [][]string
	for _, pattern := range []string{"../examples/*", "../test/corpus/*.yaml", "../policies/*/testdata/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			if m, _ := filepath.Glob(filepath.Join(f, "*.yaml")); len(m) > 0 {
				scenarios = append(scenarios, m)
			} else if filepath.Ext(f) == ".yaml" {
				scenarios = append(scenarios, []string{f})
			}
		}
	}
	variants := []func(map[string]any){
		func(map[string]any) {},
		annotate("autoscaling.keda.sh/paused", "true"),
		annotate("autoscaling.keda.sh/paused", "false"),
		annotate("autoscaling.keda.sh/paused", "soon"),
		annotate("autoscaling.keda.sh/paused-replicas", "0"),
		annotate("scaleguard.io/unpause-until", "2026-12-01T00:00:00Z"),
		func(o map[string]any) {
			o["metadata"].(map[string]any)["deletionTimestamp"] = "2026-12-01T00:00:00Z"
		},
	}
	patched, skipped := 0, 0
	for _, files := range scenarios {
		objs, err := manifests.Read(files, nil)
		if err != nil {
			continue // fixtures of unreadable input
		}
		var decoded []client.Object
		for _, o := range objs {
			if d, err := apis.Decode(o.GVK, o.JSON); err == nil {
				decoded = append(decoded, d)
			}
		}
		view := clusterview.NewManifests(decoded...)
		for _, o := range objs {
			prg, ok := programs[o.GVK]
			if !ok {
				continue
			}
			for _, variant := range variants {
				var u map[string]any
				if err := json.Unmarshal(o.JSON, &u); err != nil {
					t.Fatal(err)
				}
				if _, ok := u["metadata"].(map[string]any); !ok {
					continue
				}
				variant(u)
				raw, err := json.Marshal(u)
				if err != nil {
					t.Fatal(err)
				}
				out, _, err := prg.Eval(map[string]any{"object": u})
				if err != nil {
					t.Fatalf("%s: %s: %v", files, raw, err)
				}
				sent := out.Value() == true
				res, err := engine.Mutate(policies.Request{GVK: o.GVK, Operation: policies.Create, Object: raw, View: view,
					Settings: policies.DefaultSettings(), Now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)})
				if err != nil {
					continue // judged by the validating side
				}
				switch {
				case len(res.Patch) > 0 && !sent:
					t.Errorf("%s: %s is patched (%v) but the matchCondition keeps it from the webhook", files, raw, res.Patch)
				case len(res.Patch) > 0:
					patched++
				case !sent:
					skipped++
				}
			}
		}
	}
	if patched == 0 || skipped == 0 {
		t.Errorf("%d objects patched and %d left out by the condition: the fixtures no longer exercise it", patched, skipped)
	}
	t.Logf("%d patched, %d not sent", patched, skipped)
}

func annotate(key, value string) func(map[string]any) {
	return func(o map[string]any) {
		m := o["metadata"].(map[string]any)
		a, _ := m["annotations"].(map[string]any)
		if a == nil {
			a = map[string]any{}
			m["annotations"] = a
		}
		a[key] = value
	}
}
