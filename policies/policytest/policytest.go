// Package policytest runs rules over YAML manifests in tests: the last
// guarded object of a stream is judged through the full admission chain
// (mutate, then validate the mutated object) with every object of the
// stream as its ClusterView.
package policytest

import (
	"strings"
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// Case is one judged object and what the chain made of it.
type Case struct {
	Result policies.Result
	Object manifests.Object
}

// Admit judges the last guarded object of docs with the default registry
// and settings (or the given settings).
func Admit(t testing.TB, docs string, settings ...*policies.Settings) Case {
	t.Helper()
	return AdmitWith(t, policies.Default, docs, settings...)
}

// AdmitWith is Admit over a chosen registry.
func AdmitWith(t testing.TB, reg *policies.Registry, docs string, settings ...*policies.Settings) Case {
	t.Helper()
	return admit(t, reg, time.Time{}, docs, settings...)
}

// AdmitAt is Admit with the request made at now (rules that compare times
// read it; Admit leaves it unknown).
func AdmitAt(t testing.TB, now time.Time, docs string, settings ...*policies.Settings) Case {
	t.Helper()
	return admit(t, policies.Default, now, docs, settings...)
}

func admit(t testing.TB, reg *policies.Registry, now time.Time, docs string, settings ...*policies.Settings) Case {
	t.Helper()
	objs, err := manifests.Parse("testdata", strings.NewReader(docs))
	if err != nil {
		t.Fatalf("parsing manifests: %v", err)
	}
	view := clusterview.NewManifests()
	var target *manifests.Object
	for i, o := range objs {
		if k, ok := apis.UnstructuredKind(o.GVK.GroupKind()); ok {
			objs[i].GVK = k // as check judges another version of such a kind
			o = objs[i]
		}
		if !apis.Recognizes(o.GVK) {
			continue
		}
		obj, err := apis.Decode(o.GVK, o.JSON)
		if err != nil {
			t.Fatalf("%s: %v", o.Where(), err)
		}
		view.Add(obj)
		if apis.IsGuarded(o.GVK) {
			target = &objs[i]
		}
	}
	if target == nil {
		t.Fatal("no guarded object in the manifests")
	}
	s := policies.DefaultSettings()
	if len(settings) > 0 && settings[0] != nil {
		s = settings[0]
	}
	res, err := policies.NewEngine(reg).Admit(policies.Request{
		GVK: target.GVK, Operation: policies.Create, Object: target.JSON, View: view, Settings: s, Now: now,
	})
	if err != nil {
		t.Fatalf("admit: %v", err)
	}
	return Case{Result: res, Object: *target}
}

// Want is an expected finding: rule, action and field must be equal, and
// the message must contain every fragment.
type Want struct {
	Rule      string
	Action    policies.Action
	Field     string
	Fragments []string
}

// Expect asserts that findings are exactly want, in any order.
func Expect(t testing.TB, got []policies.Finding, want ...Want) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, f := range got {
			if used[i] || f.Rule != w.Rule || f.Action != w.Action || f.Field != w.Field {
				continue
			}
			ok := true
			for _, frag := range w.Fragments {
				if !strings.Contains(f.Message, frag) {
					ok = false
				}
			}
			if ok {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing finding %s %s %s containing %q; got:\n%s", w.Rule, w.Action, w.Field, w.Fragments, render(got))
		}
	}
	for i, f := range got {
		if !used[i] {
			t.Errorf("unexpected finding: %s %s", f.Action, f)
		}
	}
}

// OnlyRule keeps the findings of one rule.
func OnlyRule(fs []policies.Finding, rule string) []policies.Finding {
	var out []policies.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func render(fs []policies.Finding) string {
	if len(fs) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + string(f.Action) + " " + f.String() + "\n")
	}
	return b.String()
}

// Deny expects a deny finding.
func Deny(rule, field string, fragments ...string) Want {
	return Want{Rule: rule, Action: policies.Deny, Field: field, Fragments: fragments}
}

// Warn expects a warn finding.
func Warn(rule, field string, fragments ...string) Want {
	return Want{Rule: rule, Action: policies.Warn, Field: field, Fragments: fragments}
}

// Mutate expects a mutate finding.
func Mutate(rule, field string, fragments ...string) Want {
	return Want{Rule: rule, Action: policies.Mutate, Field: field, Fragments: fragments}
}
