// Package check judges a set of manifests offline, the way the admission
// chain would judge them one by one: every guarded object is mutated, then
// the mutated object is validated, against a ClusterView made of the whole
// set. It backs `scaleguard check`: the report, its output formats and the
// fixes written back into the files.
package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// Finding is one finding on one object, as `check -o json` prints it.
type Finding struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Rule       string `json:"rule"`
	Action     string `json:"action"`
	Field      string `json:"field"`
	Message    string `json:"message"`
	// File and Line locate the field (or, when it is not written, its
	// closest written parent) in the file the object was read from; File
	// is "-" for standard input.
	File string `json:"file"`
	Line int    `json:"line"`
	// Kustomization is the folder that rendered the object, if any.
	Kustomization string `json:"kustomization,omitempty"`

	// Where is file:line, for text output.
	Where string `json:"-"`
}

// Summary counts objects read, objects with at least one deny, warn or
// mutate finding, and the files and documents skipped as not Kubernetes
// objects.
type Summary struct {
	Objects int `json:"objects"`
	Denied  int `json:"denied"`
	Warned  int `json:"warned"`
	Mutated int `json:"mutated"`
	Skipped int `json:"skipped"`
}

// InputError is an input that could not be read or judged.
type InputError struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Report is the outcome of a check.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
	// Errors are the inputs that could not be read or judged; everything
	// else was judged all the same.
	Errors []InputError `json:"errors,omitempty"`

	// Judged are the guarded objects judged, in order.
	Judged []Judged `json:"-"`
	// Skipped and Hints come from reading the inputs.
	Skipped []manifests.Skip `json:"-"`
	Hints   []string         `json:"-"`
}

// Judged is one guarded object and what the admission chain would make of
// it.
type Judged struct {
	Object    manifests.Object
	Namespace string
	// Findings are its findings, a slice of Report.Findings.
	Findings []Finding
	// Patch is what the mutating webhook would change.
	Patch []jsonpatch.Operation
	// Converted is set when the object was judged in another version than
	// written (an autoscaling/v1 HPA judged as autoscaling/v2), so Patch
	// does not apply to its text.
	Converted bool
}

// Denied reports whether any object was denied.
func (r Report) Denied() bool { return r.Summary.Denied > 0 }

// Options tune Judge.
type Options struct {
	Engine   *policies.Engine
	Settings *policies.Settings
	// SettingsFor, when set, gives the settings of each object's namespace
	// instead of Settings (the ScaleGuardPolicies covering it), asked with
	// the view of the object's set, where the namespace's labels are.
	SettingsFor func(namespace string, view policies.ClusterView) *policies.Settings
	// Now is the time of the simulated requests.
	Now time.Time
	// Namespace is where objects without one are judged; "default" when
	// empty, as kubectl would apply them.
	Namespace string
}

// Run judges every guarded object of objs at the current time (rules that
// compare times, such as an un-pause expiry, read it from the request). An
// object of a kind scaleguard reads but whose fields do not decode is an
// error naming its file and line; the others are judged all the same.
func Run(objs []manifests.Object, engine *policies.Engine, settings *policies.Settings) (Report, error) {
	return RunAt(objs, engine, settings, time.Now())
}

// RunAt is Run at a given time.
func RunAt(objs []manifests.Object, engine *policies.Engine, settings *policies.Settings, now time.Time) (Report, error) {
	var errs []error
	rep := judge([]manifests.Set{{Objects: objs}}, Options{Engine: engine, Settings: settings, Now: now}, func(e *manifests.Error) {
		errs = append(errs, e)
	})
	return rep, errors.Join(errs...)
}

// Judge judges what Load read: each set against a view of its own
// objects. Read errors and objects that cannot be judged are in
// Report.Errors.
func Judge(in manifests.Result, opts Options) Report {
	var errs []*manifests.Error
	rep := judge(in.Sets, opts, func(e *manifests.Error) { errs = append(errs, e) })
	for _, e := range append(in.Errors, errs...) {
		rep.Errors = append(rep.Errors, InputError{File: e.Source, Line: e.Line, Message: e.Err.Error()})
	}
	rep.Skipped, rep.Hints = in.Skipped, in.Hints
	rep.Summary.Skipped = len(in.Skipped)
	return rep
}

func judge(sets []manifests.Set, opts Options, fail func(*manifests.Error)) Report {
	if opts.Engine == nil {
		opts.Engine = policies.NewEngine(policies.Default)
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	rep := Report{Findings: []Finding{}}
	type judged struct {
		src       manifests.Object
		gvk       schema.GroupVersionKind
		raw       []byte
		converted bool
	}
	for _, set := range sets {
		rep.Summary.Objects += len(set.Objects)
		view := clusterview.NewManifests()
		var toJudge []judged
		for _, o := range set.Objects {
			gvk, raw := o.GVK, o.JSON
			if gvk == autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler") {
				var err error
				if raw, err = hpaV1ToV2(raw); err != nil {
					fail(&manifests.Error{Source: o.Source, Line: o.Line, Err: err})
					continue
				}
				gvk = apis.HorizontalPodAutoscaler
			}
			if !apis.Scheme.Recognizes(gvk) {
				continue
			}
			if o.Namespace == "" && gvk.Kind != "Namespace" && opts.Namespace != "default" {
				var err error
				if raw, err = withNamespace(raw, opts.Namespace); err != nil {
					fail(&manifests.Error{Source: o.Source, Line: o.Line, Err: err})
					continue
				}
			}
			obj, err := apis.Decode(gvk, raw)
			if err != nil {
				fail(&manifests.Error{Source: o.Source, Line: o.Line, Err: err})
				continue
			}
			view.Add(obj)
			if apis.IsGuarded(gvk) {
				toJudge = append(toJudge, judged{o, gvk, raw, gvk != o.GVK})
			}
		}
		for _, j := range toJudge {
			settings := opts.Settings
			if opts.SettingsFor != nil {
				ns := j.src.Namespace
				if ns == "" {
					ns = opts.Namespace
				}
				settings = opts.SettingsFor(ns, view)
			}
			res, err := opts.Engine.Admit(policies.Request{
				GVK: j.gvk, Operation: policies.Create, Object: j.raw, View: view, Settings: settings, Now: opts.Now,
			})
			if err != nil {
				fail(&manifests.Error{Source: j.src.Source, Line: j.src.Line, Err: err})
				continue
			}
			rep.add(j.src, opts.Namespace, res, j.converted)
		}
	}
	return rep
}

func (rep *Report) add(o manifests.Object, defaultNS string, res policies.Result, converted bool) {
	ns := o.Namespace
	if ns == "" {
		ns = defaultNS
	}
	first := len(rep.Findings)
	var denied, warned, mutated bool
	for _, f := range res.Findings {
		line := o.FieldLine(f.Field)
		rep.Findings = append(rep.Findings, Finding{
			Kind: o.GVK.Kind, APIVersion: o.APIVersion(), Namespace: ns, Name: o.Name,
			Rule: f.Rule, Action: string(f.Action), Field: f.Field, Message: f.Message,
			File: o.Source, Line: line, Kustomization: o.Via,
			Where: fmt.Sprintf("%s:%d", o.Source, line),
		})
		switch f.Action {
		case policies.Deny:
			denied = true
		case policies.Warn:
			warned = true
		case policies.Mutate:
			mutated = true
		}
	}
	rep.Judged = append(rep.Judged, Judged{
		Object: o, Namespace: ns, Findings: rep.Findings[first:len(rep.Findings):len(rep.Findings)], Patch: res.Patch, Converted: converted,
	})
	rep.Summary.Denied += b2i(denied)
	rep.Summary.Warned += b2i(warned)
	rep.Summary.Mutated += b2i(mutated)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// withNamespace sets metadata.namespace of an object that has none.
func withNamespace(raw []byte, ns string) ([]byte, error) {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["namespace"] = ns
	obj["metadata"] = meta
	return json.Marshal(obj)
}

// hpaV1ToV2 converts an autoscaling/v1 HPA to autoscaling/v2 for the
// fields rules read (the API server serves both; manifests use either).
func hpaV1ToV2(raw []byte) ([]byte, error) {
	var v1 autoscalingv1.HorizontalPodAutoscaler
	if err := json.Unmarshal(raw, &v1); err != nil {
		return nil, fmt.Errorf("decoding HorizontalPodAutoscaler: %w", err)
	}
	v2 := autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: v1.ObjectMeta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: v1.Spec.ScaleTargetRef.APIVersion,
				Kind:       v1.Spec.ScaleTargetRef.Kind,
				Name:       v1.Spec.ScaleTargetRef.Name,
			},
			MinReplicas: v1.Spec.MinReplicas,
			MaxReplicas: v1.Spec.MaxReplicas,
		},
	}
	v2.APIVersion, v2.Kind = apis.HorizontalPodAutoscaler.GroupVersion().String(), "HorizontalPodAutoscaler"
	return json.Marshal(v2)
}
