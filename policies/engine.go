package policies

import (
	"bytes"
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

	// Decoded and OldDecoded, when set, are Object and OldObject already
	// decoded (the webhook decodes each once per request): the engine
	// reads them instead of decoding again, and never modifies them.
	Decoded, OldDecoded client.Object
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

// Mutate runs the mutate rules for the kind and applies the patches of
// their mutate findings in rule order, each rule seeing the object as the
// rules before it left it. Deny and warn findings are left to Validate, and
// so are deny and warn rules, which never patch (Rule.Action): running
// them here would judge the object twice for nothing.
func (e *Engine) Mutate(req Request) (Result, error) {
	settings := req.Settings
	if settings == nil {
		settings = DefaultSettings()
	}
	res := Result{Object: req.Object}
	old := e.oldOf(req)
	var err error
	cur := req.Object
	// Rules see the object as the rules before them left it; it is decoded
	// again only after a patch changed it (rules never modify it, as in
	// Validate, where every rule reads the same decoded object).
	var obj client.Object
	var memo map[any]any
	patched := false // cur is still req.Object
	in := &Input{}
	for _, rule := range e.Registry.For(req.GVK) {
		enf := settings.Enforcement(rule.ID)
		if enf == Off || rule.Action != Mutate || !rule.runsFor(req.GVK, req.Live) {
			continue
		}
		if obj == nil {
			if req.Decoded != nil && !patched {
				obj = req.Decoded
			} else if obj, err = e.Decode(req.GVK, cur); err != nil {
				return res, err
			}
			memo = map[any]any{}
		}
		if err := unfinished(req.Context, rule.ID); err != nil {
			return Result{Object: req.Object}, err
		}
		// One Input serves every rule in turn, set afresh for each.
		*in = Input{Object: obj, old: old, Operation: req.Operation, View: req.View, Settings: settings, Now: req.Now, Live: req.Live, memo: memo, ctx: req.Context}
		found := e.runRule(rule, in, false)
		if err := unfinished(req.Context, rule.ID); err != nil {
			return Result{Object: req.Object}, err
		}
		if err := old.failed(); err != nil {
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
			cur, obj, patched = next, nil, true
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
	obj := req.Decoded
	if obj == nil {
		var err error
		if obj, err = e.Decode(req.GVK, req.Object); err != nil {
			return res, err
		}
	}
	old := e.oldOf(req)
	owner := guardedOwner(obj)
	memo, oldMemo := map[any]any{}, map[any]any{}
	in := &Input{}
	for _, rule := range e.Registry.For(req.GVK) {
		enf := settings.Enforcement(rule.ID)
		if enf == Off || !rule.runsFor(req.GVK, req.Live) {
			continue
		}
		if err := unfinished(req.Context, rule.ID); err != nil {
			return Result{Object: req.Object}, err
		}
		// One Input serves every rule in turn, set afresh for each.
		*in = Input{Object: obj, old: old, Operation: req.Operation, View: req.View, Settings: settings, Now: req.Now, Live: req.Live, memo: memo, ctx: req.Context}
		var before map[string]bool
		found := e.runRule(rule, in, rule.Action == Deny)
		for _, f := range found {
			if f.Action != Deny && f.Action != Warn {
				continue
			}
			if f.Action == Deny && enf == WarnOnly {
				f.Action = Warn
			}
			if f.Action == Deny && !rule.KeepOnUpdate && old.get() != nil {
				if before == nil {
					before = e.denialsOf(rule, &Input{Object: old.get(), Operation: Update, View: req.View, Settings: settings, Now: req.Now, memo: oldMemo, ctx: req.Context})
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
		if err := old.failed(); err != nil {
			return Result{Object: req.Object}, err
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
	if !bytes.Equal(mut.Object, req.Object) {
		final.Decoded = nil // decoded before the patches
	}
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

// oldObject is the stored object of an UPDATE, decoded when a rule first
// reads it: most judgements of an UPDATE never do (the comparisons with
// the stored object are made only when the new one has a denial or a
// conflict, or a pause to set), and decoding an object costs more than
// judging one.
type oldObject struct {
	e       *Engine
	gvk     schema.GroupVersionKind
	raw     []byte
	decoded client.Object
	done    bool
	err     error
}

// oldOf is req's stored object, nil on CREATE.
func (e *Engine) oldOf(req Request) *oldObject {
	if req.Operation != Update || len(req.OldObject) == 0 {
		return nil
	}
	return &oldObject{e: e, gvk: req.GVK, raw: req.OldObject, decoded: req.OldDecoded, done: req.OldDecoded != nil}
}

// get decodes the stored object once; nil on CREATE and when it does not
// decode (failed then says why, and the judgement ends with that error).
func (o *oldObject) get() client.Object {
	if o == nil {
		return nil
	}
	if !o.done {
		o.done = true
		d, err := o.e.Decode(o.gvk, o.raw)
		if err != nil {
			o.err = fmt.Errorf("old object: %w", err)
		} else {
			o.decoded = d
		}
	}
	return o.decoded
}

// failed is the error decoding the stored object gave, if a rule read it.
func (o *oldObject) failed() error {
	if o == nil {
		return nil
	}
	return o.err
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
