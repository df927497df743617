package policies_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

// triggerRules emits one finding per trigger: a denial from "per-trigger"
// for triggers of type deny, a warning from "per-trigger-warn" otherwise,
// and a mutation of its own.
func triggerRules(t *testing.T) *policies.Registry {
	reg := policies.NewRegistry()
	kinds := []schema.GroupVersionKind{apis.ScaledObject}
	each := func(action policies.Action, only string) policies.CheckFunc {
		return policies.On(func(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
			var out []policies.Finding
			for i, tr := range so.Spec.Triggers {
				if (tr.Type == "deny") != (only == "deny") {
					continue
				}
				p := field.NewPath("spec", "triggers").Index(i)
				out = append(out, policies.Finding{Action: action, Field: p.String(), Message: fmt.Sprintf("trigger %d is %s", i, tr.Type)})
			}
			return out
		})
	}
	mustRegister(t, reg,
		policies.Rule{ID: "per-trigger", Kinds: kinds, Action: policies.Deny, Summary: "s", Check: each(policies.Deny, "deny")},
		policies.Rule{ID: "per-trigger-warn", Kinds: kinds, Action: policies.Warn, Summary: "s", Check: each(policies.Warn, "warn")},
		policies.Rule{ID: "long-message", Kinds: kinds, Action: policies.Warn, Summary: "s",
			Check: func(in *policies.Input) []policies.Finding {
				if in.Object.GetLabels()["long"] != "yes" {
					return nil
				}
				return []policies.Finding{policies.Warnf(nil, "%s", strings.Repeat("é", 5000))}
			}},
		policies.Rule{ID: "mutates", Kinds: kinds, Action: policies.Mutate, Summary: "s",
			Check: policies.On(func(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
				var out []policies.Finding
				for i := range so.Spec.Triggers {
					if _, ok := so.Labels[fmt.Sprint("t", i)]; ok {
						continue
					}
					op := jsonpatch.NewOperation("add", fmt.Sprintf("/metadata/labels/t%d", i), "1")
					out = append(out, policies.Mutatef(field.NewPath("metadata", "labels"), []jsonpatch.Operation{op}, "label %d", i))
				}
				return out
			})},
	)
	return reg
}

func triggers(t *testing.T, types ...string) []byte {
	var b strings.Builder
	for _, ty := range types {
		fmt.Fprintf(&b, "\n  - {type: %s}", ty)
	}
	return soJSON(t, "metadata: {name: s, namespace: ns1, labels: {x: z}}\nspec:\n  scaleTargetRef: {name: d}\n  triggers:"+b.String()+"\n")
}

// TestFindingsAreCappedPerObject keeps at most the configured number of
// findings, denials first, and counts the rest per rule in one finding of
// that rule carrying its strongest action.
func TestFindingsAreCappedPerObject(t *testing.T) {
	e := policies.NewEngine(triggerRules(t))
	types := make([]string, 0, 5000)
	for i := range 5000 {
		if i%2 == 0 {
			types = append(types, "warn")
		} else {
			types = append(types, "deny")
		}
	}
	res, err := e.Validate(req(triggers(t, types...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 22 {
		t.Fatalf("want 20 findings and 2 summaries, got %d", len(res.Findings))
	}
	for _, f := range res.Findings[:20] {
		if f.Rule != "per-trigger" || f.Action != policies.Deny {
			t.Fatalf("denials come first: %v", f)
		}
	}
	want := map[string]string{
		"per-trigger":      "2480 more denials of this rule, from this field on, not listed (20 findings at most per object)",
		"per-trigger-warn": "2500 more warnings of this rule, from this field on, not listed (20 findings at most per object)",
	}
	wantField := map[string]string{"per-trigger": "spec.triggers[41]", "per-trigger-warn": "spec.triggers[0]"}
	for _, f := range res.Findings[20:] {
		if !strings.Contains(f.Message, want[f.Rule]) || f.Field != wantField[f.Rule] {
			t.Errorf("summary %v, want %q", f, want[f.Rule])
		}
	}
	if !res.Denied() {
		t.Error("capping changed the verdict")
	}

	// Warnings alone: the summary is a warning, and a lower cap holds.
	s := policies.DefaultSettings()
	s.Limits.MaxFindingsPerObject = 3
	r := req(triggers(t, "warn", "warn", "warn", "warn", "warn"))
	r.Settings = s
	if res, err = e.Validate(r); err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 4 || res.Denied() || res.Findings[3].Action != policies.Warn ||
		!strings.Contains(res.Findings[3].Message, "2 more warnings of this rule") {
		t.Errorf("cap 3 over 5 warnings: %v", res.Findings)
	}

	// Every mutation is applied; only the report is capped.
	mut, err := e.Mutate(req(triggers(t, types[:30]...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(mut.Patch) != 30 || len(mut.Findings) != 21 || mut.Findings[20].Action != policies.Mutate ||
		!strings.Contains(mut.Findings[20].Message, "10 more changes of this rule") {
		t.Errorf("mutations: %d patch operations, findings %v", len(mut.Patch), mut.Findings)
	}
}

func TestLongMessagesAreCut(t *testing.T) {
	obj := soJSON(t, "metadata: {name: s, namespace: ns1, labels: {long: \"yes\"}}\nspec: {scaleTargetRef: {name: d}}\n")
	res, err := policies.NewEngine(triggerRules(t)).Validate(req(obj))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("findings: %v", res.Findings)
	}
	m := res.Findings[0].Message
	if len(m) > policies.MaxMessageBytes || !strings.HasSuffix(m, "… (message cut)") || !strings.HasPrefix(m, "éé") {
		t.Errorf("message of %d bytes: %q…", len(m), m[:40])
	}
}

// TestDeadlineStopsTheJudgement: once the request's context ends, the rule
// that observes it returns, no further rule starts, and the engine answers
// ErrUnfinished with no findings; nothing keeps running afterwards.
func TestDeadlineStopsTheJudgement(t *testing.T) {
	var running, after atomic.Int32
	var loops atomic.Int64
	reg := policies.NewRegistry()
	kinds := []schema.GroupVersionKind{apis.ScaledObject}
	mustRegister(t, reg,
		// Mutate rules, which both phases run.
		policies.Rule{ID: "a-slow", Kinds: kinds, Action: policies.Mutate, MayDeny: true, Summary: "s",
			Check: func(in *policies.Input) []policies.Finding {
				running.Add(1)
				defer running.Add(-1)
				for !in.Expired() { // a rule looping over unbounded input
					loops.Add(1)
					time.Sleep(time.Millisecond)
				}
				return []policies.Finding{policies.Denyf(nil, "partial")}
			}},
		policies.Rule{ID: "b-after", Kinds: kinds, Action: policies.Mutate, Summary: "s",
			Check: func(in *policies.Input) []policies.Finding { after.Add(1); return nil }},
	)
	e := policies.NewEngine(reg)
	for _, phase := range []string{"validate", "mutate", "admit"} {
		t.Run(phase, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			r := req(triggers(t))
			r.Context = ctx
			start := time.Now()
			var res policies.Result
			var err error
			switch phase {
			case "validate":
				res, err = e.Validate(r)
			case "mutate":
				res, err = e.Mutate(r)
			default:
				res, err = e.Admit(r)
			}
			took := time.Since(start)
			if !errors.Is(err, policies.ErrUnfinished) || !strings.Contains(err.Error(), "stopped at rule a-slow (context deadline exceeded)") {
				t.Fatalf("err = %v", err)
			}
			if len(res.Findings) != 0 || len(res.Patch) != 0 {
				t.Errorf("an unfinished judgement returned %v %v", res.Findings, res.Patch)
			}
			if running.Load() != 0 || after.Load() != 0 {
				t.Errorf("after the answer: %d rules running, %d started after the deadline", running.Load(), after.Load())
			}
			n := loops.Load()
			time.Sleep(20 * time.Millisecond)
			if loops.Load() != n {
				t.Error("the rule kept working after the engine answered")
			}
			t.Logf("answered %v after a 50ms deadline", took)
		})
	}

	// A context that already ended judges nothing; one that never ends
	// changes nothing.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := req(triggers(t))
	r.Context = ctx
	if _, err := e.Validate(r); !errors.Is(err, policies.ErrUnfinished) || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled: %v", err)
	}
	if loops.Load() == 0 {
		t.Fatal("the slow rule never ran")
	}
}

func TestLimitSettings(t *testing.T) {
	var zero policies.LimitSettings
	if zero.QueryLength() != 16384 || zero.QueryDepth() != 64 || zero.QuerySelectors() != 64 || zero.FindingsPerObject() != 20 {
		t.Errorf("unset limits are not the defaults: %+v", zero)
	}
	if d := policies.DefaultSettings().Limits; d.MaxQueryLength != 16384 || d.MaxFindingsPerObject != 20 {
		t.Errorf("defaults: %+v", d)
	}
	s := policies.DefaultSettings()
	s.Limits.MaxQueryDepth = -1
	err := policies.ValidateSettings(s, policies.NewRegistry())
	if err == nil || !strings.Contains(err.Error(), "limits.maxQueryDepth: -1 is negative (0 means the default)") {
		t.Errorf("err = %v", err)
	}
}
