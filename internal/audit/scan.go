package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/livequery"
)

// Source lists the stored objects of a guarded kind.
type Source interface {
	// List returns the stored objects of kind, or nil when the cluster does
	// not serve it. The objects are only read.
	List(ctx context.Context, kind apis.Kind) ([]client.Object, error)
}

// Ref names one judged object.
type Ref struct {
	Kind      apis.Kind
	Namespace string
	Name      string
	UID       types.UID
}

// String is kind namespace/name.
func (r Ref) String() string { return r.Kind.GVK.Kind + " " + r.Namespace + "/" + r.Name }

// Verdict is what the audit found on one object.
type Verdict struct {
	Ref Ref
	// Object is the stored object (shared with the source: read only).
	Object client.Object
	// Findings are the deny and warn findings of the validating phase and
	// the mutate findings of the mutating phase (what a write would change).
	Findings []policies.Finding
}

// Note is something the audit could not judge: a live query not sent or
// not answered (on an object), or a Prometheus it could not reach (Ref nil,
// said once per scan).
type Note struct {
	Ref *Ref
	// Field is the path the note is about, e.g. a trigger's query.
	Field string
	// Rule is the rule that could not judge.
	Rule string
	// Error is true when evaluation failed; false when it was skipped on
	// purpose (credentials the audit cannot read).
	Error   bool
	Message string
}

// String renders a note on one line.
func (n Note) String() string {
	var b strings.Builder
	if n.Ref != nil {
		b.WriteString(n.Ref.String() + ": ")
	}
	if n.Field != "" {
		b.WriteString(n.Field + ": ")
	}
	b.WriteString(n.Message)
	return b.String()
}

// Result is the outcome of one scan.
type Result struct {
	// Time is when the scan started; rules were asked at this time.
	Time time.Time
	// Verdicts holds every judged object, with or without findings, sorted
	// by kind, namespace and name.
	Verdicts []Verdict
	// Notes are what could not be judged.
	Notes []Note
}

// Scanner judges stored objects.
type Scanner struct {
	// Engine judges; its registry holds the rules.
	Engine *policies.Engine
	// Excluded namespaces are never judged (the webhooks' exclusions), nor
	// are namespaces labelled apis.IgnoreLabel: "true", unless Namespace
	// names one.
	Excluded []string
	// Namespace, when set, limits the scan to one namespace.
	Namespace string
	// Gate, when set, paces the scan and makes it wait while admission
	// requests are in flight; nil scans at full speed (the CLI).
	Gate *Gate
	// Live, when set, sends trigger queries to a live Prometheus.
	Live *LiveCheck
	// SettingsFor, when set, gives the settings of each object's namespace
	// (the ScaleGuardPolicies covering it) instead of the scan's settings.
	SettingsFor func(namespace string) *policies.Settings
}

// MutatePrefix starts the message of a mutate finding in the audit: the
// stored object has not been changed, a write would change it.
const MutatePrefix = "would change on its next write: "

// Scan judges every stored object of every guarded kind under settings,
// with view as the cluster. now is the time rules are asked at.
func (s *Scanner) Scan(ctx context.Context, src Source, view policies.ClusterView, settings *policies.Settings, now time.Time) (*Result, error) {
	if settings == nil {
		settings = policies.DefaultSettings()
	}
	res := &Result{Time: now}
	var probe *liveRun
	if s.Live != nil && (settings.Enforcement(livequery.NoSeriesID) != policies.Off || settings.Enforcement(livequery.ManySeriesID) != policies.Off) {
		probe = s.Live.run(now)
	}
	for _, kind := range apis.Guarded {
		objs, err := src.List(ctx, kind)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", kind.Resource, err)
		}
		slices.SortFunc(objs, func(a, b client.Object) int {
			if c := strings.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
				return c
			}
			return strings.Compare(a.GetName(), b.GetName())
		})
		for _, obj := range objs {
			if s.skip(obj.GetNamespace(), view) {
				continue
			}
			start := time.Now()
			objSettings := settings
			if s.SettingsFor != nil {
				objSettings = s.SettingsFor(obj.GetNamespace())
			}
			v, notes, err := s.judge(ctx, kind, obj, view, objSettings, now, probe)
			if err != nil {
				return nil, err
			}
			res.Verdicts = append(res.Verdicts, v)
			res.Notes = append(res.Notes, notes...)
			ObjectsJudged.Inc()
			if err := s.Gate.Yield(ctx, time.Since(start)); err != nil {
				return nil, err
			}
		}
	}
	if probe != nil {
		res.Notes = append(res.Notes, probe.scanNotes()...)
	}
	return res, nil
}

func (s *Scanner) skip(ns string, view policies.ClusterView) bool {
	if s.Namespace != "" {
		return ns != s.Namespace
	}
	if slices.Contains(s.Excluded, ns) {
		return true
	}
	n, ok := view.Namespace(ns)
	return ok && apis.Ignored(n.Labels)
}

// judge runs the admission chain over one stored object, as a CREATE of
// the object as it is: the mutating phase says what a write would change,
// the validating phase judges the stored object itself.
func (s *Scanner) judge(ctx context.Context, kind apis.Kind, obj client.Object, view policies.ClusterView, settings *policies.Settings, now time.Time, probe *liveRun) (Verdict, []Note, error) {
	ref := Ref{Kind: kind, Namespace: obj.GetNamespace(), Name: obj.GetName(), UID: obj.GetUID()}
	v := Verdict{Ref: ref, Object: obj}
	raw, err := json.Marshal(obj)
	if err != nil {
		return v, []Note{{Ref: &ref, Error: true, Message: fmt.Sprintf("not judged: encoding the stored object: %v", err)}}, nil
	}
	req := policies.Request{GVK: kind.GVK, Operation: policies.Create, Object: raw, View: view, Settings: settings, Now: now}
	mut, err := s.Engine.Mutate(req)
	if err != nil {
		return v, []Note{{Ref: &ref, Error: true, Message: fmt.Sprintf("not judged: %v", err)}}, nil
	}
	for _, f := range mut.Findings {
		if f.Action == policies.Mutate {
			f.Message = MutatePrefix + f.Message
			f.Patch = nil
		}
		v.Findings = append(v.Findings, f)
	}
	var notes []Note
	if so, ok := obj.(*kedav1alpha1.ScaledObject); ok && probe != nil {
		req.Live, notes = probe.observe(ctx, so, ref)
	}
	val, err := s.Engine.Validate(req)
	if err != nil {
		return v, append(notes, Note{Ref: &ref, Error: true, Message: fmt.Sprintf("not judged: %v", err)}), nil
	}
	v.Findings = append(v.Findings, val.Findings...)
	return v, notes, nil
}

// Denied reports whether any finding of the scan denies.
func (r *Result) Denied() bool {
	for _, v := range r.Verdicts {
		for _, f := range v.Findings {
			if f.Action == policies.Deny {
				return true
			}
		}
	}
	return false
}
