// Package check judges a set of manifests offline, the way the admission
// chain would judge them one by one: every guarded object is mutated, then
// the mutated object is validated, against a ClusterView made of the whole
// set. It backs `scaleguard check`.
package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// Finding is one finding on one object, as `check -o json` prints it.
type Finding struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Rule      string `json:"rule"`
	Action    string `json:"action"`
	Field     string `json:"field"`
	Message   string `json:"message"`

	// Where is file:line, for text output only.
	Where string `json:"-"`
}

// Summary counts objects read, and objects with at least one deny, warn or
// mutate finding.
type Summary struct {
	Objects int `json:"objects"`
	Denied  int `json:"denied"`
	Warned  int `json:"warned"`
	Mutated int `json:"mutated"`
}

// Report is the outcome of a check.
type Report struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// Denied reports whether any object was denied.
func (r Report) Denied() bool { return r.Summary.Denied > 0 }

// Run judges every guarded object of objs at the current time (rules that
// compare times, such as an un-pause expiry, read it from the request). An
// object of a kind scaleguard reads but whose fields do not decode is an
// error naming its file and line.
func Run(objs []manifests.Object, engine *policies.Engine, settings *policies.Settings) (Report, error) {
	return RunAt(objs, engine, settings, time.Now())
}

// RunAt is Run at a given time.
func RunAt(objs []manifests.Object, engine *policies.Engine, settings *policies.Settings, now time.Time) (Report, error) {
	return RunWith(objs, engine, func(string, policies.ClusterView) *policies.Settings { return settings }, now)
}

// RunWith is RunAt with each object judged under the settings settingsFor
// gives its namespace (the ScaleGuardPolicies covering it), asked with the
// view of the manifest set (where the namespace's labels are).
func RunWith(objs []manifests.Object, engine *policies.Engine, settingsFor func(namespace string, view policies.ClusterView) *policies.Settings, now time.Time) (Report, error) {
	rep := Report{Findings: []Finding{}, Summary: Summary{Objects: len(objs)}}
	view := clusterview.NewManifests()
	type judged struct {
		src manifests.Object
		raw []byte
	}
	var toJudge []judged
	for _, o := range objs {
		gvk, raw := o.GVK, o.JSON
		if gvk == autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler") {
			var err error
			if raw, err = hpaV1ToV2(raw); err != nil {
				return rep, &manifests.Error{Source: o.Source, Line: o.Line, Err: err}
			}
			gvk = apis.HorizontalPodAutoscaler
		}
		if !apis.Scheme.Recognizes(gvk) {
			continue
		}
		obj, err := apis.Decode(gvk, raw)
		if err != nil {
			return rep, &manifests.Error{Source: o.Source, Line: o.Line, Err: err}
		}
		view.Add(obj)
		if apis.IsGuarded(gvk) {
			o.GVK = gvk
			toJudge = append(toJudge, judged{o, raw})
		}
	}
	for _, j := range toJudge {
		ns := j.src.Namespace
		if ns == "" {
			ns = "default"
		}
		res, err := engine.Admit(policies.Request{
			GVK: j.src.GVK, Operation: policies.Create, Object: j.raw, View: view, Settings: settingsFor(ns, view), Now: now,
		})
		if err != nil {
			return rep, &manifests.Error{Source: j.src.Source, Line: j.src.Line, Err: err}
		}
		var denied, warned, mutated bool
		for _, f := range res.Findings {
			rep.Findings = append(rep.Findings, Finding{
				Kind: j.src.GVK.Kind, Namespace: ns, Name: j.src.Name,
				Rule: f.Rule, Action: string(f.Action), Field: f.Field, Message: f.Message,
				Where: j.src.Where(),
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
		rep.Summary.Denied += b2i(denied)
		rep.Summary.Warned += b2i(warned)
		rep.Summary.Mutated += b2i(mutated)
	}
	return rep, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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

// WriteJSON prints the report as the check JSON contract.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText prints one line per finding and a summary line.
func WriteText(w io.Writer, rep Report) error {
	var b strings.Builder
	for _, f := range rep.Findings {
		fmt.Fprintf(&b, "%s: %s %s/%s: %s [%s]", f.Where, f.Kind, f.Namespace, f.Name, f.Action, f.Rule)
		if f.Field != "" {
			fmt.Fprintf(&b, " %s:", f.Field)
		}
		fmt.Fprintf(&b, " %s\n", f.Message)
	}
	s := rep.Summary
	fmt.Fprintf(&b, "%d objects: %d denied, %d warned, %d mutated\n", s.Objects, s.Denied, s.Warned, s.Mutated)
	_, err := io.WriteString(w, b.String())
	return err
}
