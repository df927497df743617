package policies

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
)

// Engine runs the rules of a registry over objects.
type Engine struct {
	Registry *Registry
	// Decode turns JSON into the Go type of a kind; apis.Decode by default.
	Decode func(gvk schema.GroupVersionKind, data []byte) (client.Object, error)
	// OnPanic, when set, is told about a rule that panicked (the finding
	// only says that it did).
	OnPanic func(rule string, recovered any, stack []byte)
}

// NewEngine returns an engine over a registry.
func NewEngine(reg *Registry) *Engine {
	return &Engine{Registry: reg, Decode: apis.Decode}
}

// Request is one object to judge.
type Request struct {
	// GVK is the kind of Object.
	GVK schema.GroupVersionKind
	// Operation is CREATE or UPDATE.
	Operation Operation
	// Object is the object as JSON.
	Object []byte
	// OldObject is the stored object as JSON on UPDATE.
	OldObject []byte
	// View is the read-only view of related objects.
	View ClusterView
	// Settings are the effective settings; nil means DefaultSettings.
	Settings *Settings
	// Now is the time of the request (the engine reads no clock); the zero
	// time means unknown.
	Now time.Time
	// Context, when set, bounds the judgement: once it ends, the engine
	// stops and returns ErrUnfinished (bounds.go). nil means no bound.
	Context context.Context
	// Live is what the audit observed of the running system for this
	// object; only the audit sets it, and only then do audit-only rules run.
	Live *Live
}

// Result is the outcome of one phase.
type Result struct {
	// Findings are the mutate findings of the mutating phase, or the deny
	// and warn findings of the validating phase.
	Findings []Finding
	// Patch is the combined JSON patch of the mutating phase (empty when
	// nothing changes; a second pass over Object yields an empty patch).
	Patch []jsonpatch.Operation
	// Object is the object after the mutating phase (the input otherwise).
	Object []byte
}

// Denied reports whether any finding denies.
func (r Result) Denied() bool {
	for _, f := range r.Findings {
		if f.Action == Deny {
			return true
		}
	}
	return false
}

// Mutate runs every rule for the kind and applies the patches of their
// mutate findings in rule order, each rule seeing the object as the rules
// before it left it. Deny and warn findings are left to Validate.
func (e *Engine) Mutate(req Request) (Result, error) {
	settings := req.Settings
	if settings == nil {
		settings = DefaultSettings()
	}
	res := Result{Object: req.Object}
	oldObj, err := e.decodeOld(req)
	if err != nil {
		return res, err
	}
	cur := req.Object
	// Rules see the object as the rules before them left it; it is decoded
	// again only after a patch changed it (rules never modify it, as in
	// Validate, where every rule reads the same decoded object).
	var obj client.Object
	var memo map[any]any
	for _, rule := range e.Registry.For(req.GVK) {
		enf := settings.Enforcement(rule.ID)
		if enf == Off || !rule.runsFor(req.GVK, req.Live) {
			continue
		}
		if obj == nil {
			if obj, err = e.Decode(req.GVK, cur); err != nil {
				return res, err
			}
			memo = map[any]any{}
		}
		if err := unfinished(req.Context, rule.ID); err != nil {
			return Result{Object: req.Object}, err
		}
		in := &Input{Object: obj, OldObject: oldObj, Operation: req.Operation, View: req.View, Settings: settings, Now: req.Now, Live: req.Live, memo: memo, ctx: req.Context}
		found := e.runRule(rule, in, false)
		if err := unfinished(req.Context, rule.ID); err != nil {
			return Result{Object: req.Object}, err
		}
		for _, f := range found {
			if f.Action != Mutate {
				continue
			}
			if f = Exempt(settings, in.Object, req.Now, f); f.Action != Mutate {
				res.Findings = append(res.Findings, f)
				continue
			}
			if enf == WarnOnly {
				f.Action = Warn
				f.Patch = nil
				f.Message = "not applied (rule set to warn): " + f.Message
				res.Findings = append(res.Findings, f)
				continue
			}
			next, err := applyPatch(cur, f.Patch)
			if err != nil {
				res.Findings = append(res.Findings, Finding{
					Rule: rule.ID, Action: Warn, Field: f.Field,
					Message: fmt.Sprintf("internal error: patch not applied: %v", err),
				})
				continue
			}
			cur, obj = next, nil
			res.Findings = append(res.Findings, f)
		}
	}
	patch, err := jsonpatch.CreatePatch(req.Object, cur)
	if err != nil {
		return res, fmt.Errorf("computing the patch: %w", err)
	}
	res.Patch = patch
	res.Object = cur
	res.Findings = bound(res.Findings, settings.Limits.FindingsPerObject())
	return res, nil
}

// Validate runs every rule for the kind over the final object and keeps the
// deny and warn findings. Enforcement overrides apply; on UPDATE a denial
// the old object already had is admitted with a warning (unless the rule
// keeps it on update); on an object generated by the controller of another
// guarded kind, denials become warnings (it is judged at its owner).
// Exemptions (exemption.go) apply last, in both phases.
func (e *Engine) Validate(req Request) (Result, error) {
	settings := req.Settings
	if settings == nil {
		settings = DefaultSettings()
	}
	res := Result{Object: req.Object}
	obj, err := e.Decode(req.GVK, req.Object)
	if err != nil {
		return res, err
	}
	oldObj, err := e.decodeOld(req)
	if err != nil {
		return res, err
	}
	owner := guardedOwner(obj)
	memo, oldMemo := map[any]any{}, map[any]any{}
	for _, rule := range e.Registry.For(req.GVK) {
		enf := settings.Enforcement(rule.ID)
		if enf == Off || !rule.runsFor(req.GVK, req.Live) {
			continue
		}
		if err := unfinished(req.Context, rule.ID); err != nil {
			return Result{Object: req.Object}, err
		}
		in := &Input{Object: obj, OldObject: oldObj, Operation: req.Operation, View: req.View, Settings: settings, Now: req.Now, Live: req.Live, memo: memo, ctx: req.Context}
		var before map[string]bool
		found := e.runRule(rule, in, rule.Action == Deny)
		for _, f := range found {
			if f.Action != Deny && f.Action != Warn {
				continue
			}
			if f.Action == Deny && enf == WarnOnly {
				f.Action = Warn
			}
			if f.Action == Deny && oldObj != nil && !rule.KeepOnUpdate {
				if before == nil {
					before = e.denialsOf(rule, &Input{Object: oldObj, Operation: Update, View: req.View, Settings: settings, Now: req.Now, memo: oldMemo, ctx: req.Context})
				}
				if before[f.Field+"\x00"+f.Message] {
					f.Action = Warn
					f.Message += " (already so before this update; admitted so the object can be edited)"
				}
			}
			if f.Action == Deny && owner != nil {
				f.Action = Warn
				f.Message += fmt.Sprintf(" (generated by %s %q: judged there)", owner.Kind, owner.Name)
			}
			res.Findings = append(res.Findings, Exempt(settings, obj, req.Now, f))
		}
		if err := unfinished(req.Context, rule.ID); err != nil {
			return Result{Object: req.Object}, err
		}
	}
	res.Findings = bound(res.Findings, settings.Limits.FindingsPerObject())
	return res, nil
}

// Admit simulates the admission chain: Mutate, then Validate of the
// mutated object. It returns the mutate findings followed by the validation
// findings, the patch and the final object.
func (e *Engine) Admit(req Request) (Result, error) {
	mut, err := e.Mutate(req)
	if err != nil {
		return mut, err
	}
	final := req
	final.Object = mut.Object
	val, err := e.Validate(final)
	if err != nil {
		return mut, err
	}
	return Result{
		Findings: append(mut.Findings, val.Findings...),
		Patch:    mut.Patch,
		Object:   mut.Object,
	}, nil
}

func (e *Engine) decodeOld(req Request) (client.Object, error) {
	if req.Operation != Update || len(req.OldObject) == 0 {
		return nil, nil
	}
	old, err := e.Decode(req.GVK, req.OldObject)
	if err != nil {
		return nil, fmt.Errorf("old object: %w", err)
	}
	return old, nil
}

// runRule calls a rule, stamps its ID on the findings and turns a panic
// into a finding: a deny when failClosed (a deny rule on the validating
// side, which must not let an object through because it crashed), a warning
// otherwise, so one broken rule never takes the webhook down.
func (e *Engine) runRule(rule Rule, in *Input, failClosed bool) (out []Finding) {
	defer func() {
		if r := recover(); r != nil {
			f := Finding{Rule: rule.ID, Action: Warn,
				Message: fmt.Sprintf("internal error: the rule failed and was skipped: %v", r)}
			if failClosed {
				f.Action = Deny
				f.Message = fmt.Sprintf("internal error: the rule failed (%v) and could not judge the object, so it is refused; "+
					"report this, and set the rule to warn in the settings to admit such objects meanwhile", r)
			}
			out = []Finding{f}
			if e.OnPanic != nil {
				e.OnPanic(rule.ID, r, debug.Stack())
			}
		}
	}()
	out = rule.Check(in)
	for i := range out {
		out[i].Rule = rule.ID
	}
	return out
}

func (e *Engine) denialsOf(rule Rule, in *Input) map[string]bool {
	out := map[string]bool{}
	for _, f := range e.runRule(rule, in, false) {
		if f.Action == Deny {
			out[f.Field+"\x00"+f.Message] = true
		}
	}
	return out
}

// guardedOwner returns the controller owner of obj when it is of a guarded
// kind (an InferenceService that generated a ScaledObject, say).
func guardedOwner(obj client.Object) *metav1.OwnerReference {
	ref := metav1.GetControllerOf(obj)
	if ref == nil {
		return nil
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return nil
	}
	if !apis.IsGuardedGroupKind(gv.WithKind(ref.Kind).GroupKind()) {
		return nil
	}
	return ref
}

func applyPatch(doc []byte, ops []jsonpatch.Operation) ([]byte, error) {
	if len(ops) == 0 {
		return doc, nil
	}
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	p, err := jsonpatchapply.DecodePatch(raw)
	if err != nil {
		return nil, err
	}
	return p.Apply(doc)
}
