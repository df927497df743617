package gpu

import (
	"fmt"
	"strings"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/policies"
)

const unpauseHow = `to let KEDA scale it, write autoscaling.keda.sh/paused: "false" with scaleguard.io/unpause-until: <RFC 3339 time>`

// unpauseAdvice says how to un-pause this ScaledObject. For one KServe
// generated, the annotations go on the ScaledObject itself: KServe copies
// the InferenceService's annotations only when it rewrites the ScaledObject
// for a spec change (and puts them on the predictor pods too).
func unpauseAdvice(so *kedav1alpha1.ScaledObject) string {
	isvc := generatedBy(so)
	if isvc == "" {
		return unpauseHow
	}
	return fmt.Sprintf("%s on this ScaledObject itself (annotations of InferenceService %q reach it only when KServe rewrites it for a spec "+
		"change, and land on the predictor pods too); KServe's next spec-changing rewrite replaces the annotations set here, and scaleguard "+
		"pauses it again", unpauseHow, isvc)
}

// generatedBy is the name of the InferenceService whose controller
// generated the ScaledObject, "" for one a person wrote.
func generatedBy(so *kedav1alpha1.ScaledObject) string {
	ref := metav1.GetControllerOf(so)
	if ref == nil || ref.Kind != "InferenceService" {
		return ""
	}
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err != nil || gv.Group != kservev1beta1.GroupVersion.Group {
		return ""
	}
	return ref.Name
}

func checkPausedDefault(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	if so.DeletionTimestamp != nil || DecisionOf(so.Annotations) != NoDecision || HTTPAddOnOwner(so) != "" {
		// The KEDA HTTP add-on's ScaledObject must stay un-paused: the
		// interceptor waits on KEDA to scale from zero.
		return nil
	}
	t := classify(so, in)
	if !t.Determined {
		if !t.Absent && t.Runtime == "" && !scalableKind(so, in.Settings) {
			// Not a kind KEDA is known to scale (a typo target-ref reports,
			// or a CRD of the cluster's own): nothing to say about GPUs.
			return nil
		}
		next := "set the annotation yourself if it runs on GPUs, or label the namespace scaleguard.io/tier=gpu"
		switch {
		case t.Absent:
			next = "scaleguard pauses it once the target appears on a GPU tier " +
				"(set the annotation yourself, or label the namespace scaleguard.io/tier=gpu, to decide now)"
		case t.Runtime != "":
			next = "nothing pauses it later, so decide now: label the namespace scaleguard.io/tier=gpu if the runtime requests GPUs, " +
				"or set the annotation yourself"
		}
		return []policies.Finding{policies.Warnf(pausedPath,
			"is not set and the tier is undetermined: %s, so whether it runs on GPUs is unknown; %s", t.Why, next)}
	}
	if !t.GPU {
		return nil
	}
	return []policies.Finding{policies.Mutatef(pausedPath, PausePatch(so.Annotations),
		`set to "true"%s: %s runs on a GPU tier (%s), and an un-paused ScaledObject keeps GPU replicas up and overrides manual scale-down; %s`,
		onUpdate(in), t.Target, t.Origin(), unpauseAdvice(so))}
}

// onUpdate says why a pause is set on an UPDATE: the stored object had a
// decision the update drops, or it never had one.
func onUpdate(in *policies.Input) string {
	if in.OldObject() == nil {
		return ""
	}
	old := in.OldObject().GetAnnotations()
	if DecisionOf(old) != NoDecision {
		return " on this update, which drops the stored pause decision (a controller's full update, as KServe's or KEDA's, " +
			"replaces annotations it did not set)"
	}
	return " on this update: the stored ScaledObject has no pause decision either (it predates scaleguard, or was admitted " +
		"before its target existed or while this rule was off), and any update of a GPU-tier ScaledObject without one pauses it"
}

// PausePatch is the JSON patch that adds autoscaling.keda.sh/paused: "true"
// to an object with these annotations, touching no other key.
func PausePatch(annotations map[string]string) []jsonpatch.Operation {
	if len(annotations) == 0 {
		return []jsonpatch.Operation{{Operation: "add", Path: "/metadata/annotations", Value: map[string]any{PausedAnnotation: "true"}}}
	}
	return []jsonpatch.Operation{{Operation: "add", Path: "/metadata/annotations/" + escapePointer(PausedAnnotation), Value: "true"}}
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func checkUnpaused(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	if so.DeletionTimestamp != nil || HTTPAddOnOwner(so) != "" {
		return nil
	}
	decision := DecisionOf(so.Annotations)
	if decision == Paused {
		return nil
	}
	t := classify(so, in)
	if !t.GPU {
		return nil
	}
	if decision == NoDecision {
		return []policies.Finding{policies.Denyf(pausedPath,
			`is missing on a GPU-tier ScaledObject: %s runs on a GPU tier (%s) and the mutating webhook did not pause it (it fails open, or it had not `+
				`seen the target yet: applying again pauses it); set autoscaling.keda.sh/paused: "true", or "false" with `+
				`scaleguard.io/unpause-until: <RFC 3339 time> to let KEDA scale it`,
			t.Target, t.Origin())}
	}
	return checkExpiry(so, in, t)
}

// checkExpiry judges the end of an explicit un-pause.
func checkExpiry(so *kedav1alpha1.ScaledObject, in *policies.Input, t *Tier) []policies.Finding {
	s := &in.Settings.GPU
	window := s.MaxUnpauseWindow.Duration
	// The expiry is judged when the decision is written; an update that
	// leaves both annotations alone (a controller adding its finalizer) is
	// not re-judged against the clock.
	written := in.OldObject() == nil || in.OldObject().GetAnnotations()[PausedAnnotation] != so.Annotations[PausedAnnotation] ||
		in.OldObject().GetAnnotations()[UnpauseUntilAnnotation] != so.Annotations[UnpauseUntilAnnotation]
	finding := func(format string, args ...any) []policies.Finding {
		if s.RequireUnpauseExpiry && written {
			return []policies.Finding{policies.Denyf(unpauseUntilPath, format, args...)}
		}
		f := policies.Warnf(unpauseUntilPath, format, args...)
		if s.RequireUnpauseExpiry {
			f.Message += " (already so before this update; admitted so the object can be edited)"
		}
		return []policies.Finding{f}
	}

	until, present, err := UnpauseUntil(so.Annotations)
	switch {
	case !present:
		return finding(`is missing while autoscaling.keda.sh/paused is %q on a GPU tier: nothing ends the un-pause, so KEDA keeps %s's GPU replicas up `+
			`until someone remembers; add scaleguard.io/unpause-until: <RFC 3339 time at most %s ahead> and scaleguard re-pauses it then`,
			so.Annotations[PausedAnnotation], t.Target, window)
	case err != nil:
		return finding(`is %q, not an RFC 3339 time such as 2006-01-02T15:04:05Z, so nothing ends the un-pause of this GPU-tier ScaledObject; `+
			`write a time at most %s ahead`, so.Annotations[UnpauseUntilAnnotation], window)
	case in.Now.IsZero() || !written:
		return nil
	case !until.After(in.Now):
		// Written again after it passed, the un-pause would be undone by the
		// pause keeper at once, and re-written by a GitOps tool's self-heal,
		// in a loop that flaps KEDA on GPU replicas: refused, whatever
		// requireUnpauseExpiry says.
		return []policies.Finding{policies.Denyf(unpauseUntilPath,
			"%s has already passed: the un-pause it bounds is over, and writing it again would only have scaleguard re-pause this GPU-tier ScaledObject at once "+
				"(and a GitOps tool with self-heal un-pause it again, in a loop); write autoscaling.keda.sh/paused: \"true\", or a new expiry at most %s ahead",
			until.Format(time.RFC3339), window)}
	case until.Sub(in.Now) > window:
		return finding("%s is %s ahead, more than the %s an un-paused GPU-tier ScaledObject may run; write a time before %s",
			until.Format(time.RFC3339), roundDuration(until.Sub(in.Now)), window, in.Now.Add(window).UTC().Format(time.RFC3339))
	}
	return nil
}

func roundDuration(d time.Duration) string {
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

// describeCount renders "1 GPU" / "3 GPUs".
func describeCount(n int64, unit string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// scalableKind reports whether the target's kind is one the settings know
// KEDA scales (targetRef.scalableKinds).
func scalableKind(so *kedav1alpha1.ScaledObject, s *policies.Settings) bool {
	ref, ok := policies.KEDATarget(so)
	if !ok {
		return false
	}
	for _, k := range s.TargetRef.ScalableKinds {
		if gv, err := schema.ParseGroupVersion(k.APIVersion); err == nil && gv.Group == ref.Group && k.Kind == ref.Kind {
			return true
		}
	}
	return false
}
