package policies

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
)

// Exemption annotations: an object names the rules it is exempt from, and
// why. Without a non-empty reason the exemption does not apply.
const (
	ExemptAnnotation       = "scaleguard.io/exempt"
	ExemptReasonAnnotation = "scaleguard.io/exempt-reason"
)

// Exemption is an administrator's exemption of objects from rules.
type Exemption = sgv1alpha1.Exemption

// ExemptionState is whether one rule is exempted for one object.
type ExemptionState struct {
	// Applies is true when the rule's denials become warnings and its
	// mutations are not made.
	Applies bool
	// Why says, when Applies, where the exemption comes from, its reason
	// and end ("exempted by ScaleGuardPolicy \"ops\" until ...: reason");
	// otherwise why an exemption the object or a policy names does not
	// apply, or "" when none does.
	Why string
	// Until is when an applying exemption ends; zero when it does not.
	Until time.Time
}

// ExemptionOf decides whether rule is exempted for obj under settings at
// now: an exemption of the settings' policies (until now passes; an
// exemption with an end never applies when now is unknown), else the
// object's scaleguard.io/exempt annotation with a non-empty
// scaleguard.io/exempt-reason, where the settings allow it for the rule.
func ExemptionOf(settings *Settings, obj client.Object, rule string, now time.Time) ExemptionState {
	var ended string
	if settings != nil {
		var best *Exemption
		for i := range settings.Exemptions {
			e := &settings.Exemptions[i]
			if !exemptionCovers(e, obj, rule) {
				continue
			}
			if e.Until != nil && (now.IsZero() || !now.Before(e.Until.Time)) {
				if now.IsZero() {
					ended = fmt.Sprintf("the exemption of %s ends at %s and the time of this judgement is unknown, so it does not apply",
						source(e), e.Until.UTC().Format(time.RFC3339))
				} else {
					ended = fmt.Sprintf("the exemption of %s ended at %s", source(e), e.Until.UTC().Format(time.RFC3339))
				}
				continue
			}
			if best == nil || lastsLonger(e, best) {
				best = e
			}
		}
		if best != nil {
			st := ExemptionState{Applies: true, Why: "exempted by " + source(best)}
			if best.Until != nil {
				st.Until = best.Until.Time
				st.Why += " until " + best.Until.UTC().Format(time.RFC3339)
			}
			st.Why += ": " + best.Reason
			return st
		}
	}
	ann := obj.GetAnnotations()
	if !slices.Contains(splitRules(ann[ExemptAnnotation]), rule) {
		return ExemptionState{Why: ended}
	}
	var why string
	switch reason := strings.TrimSpace(ann[ExemptReasonAnnotation]); {
	case !settings.AllowsExemption(rule):
		why = fmt.Sprintf("%s names this rule, but the cluster policy forbids exempting objects from it, so the annotation is ignored", ExemptAnnotation)
	case reason == "":
		why = fmt.Sprintf("%s names this rule, but %s is empty, so the exemption does not apply; say why in it", ExemptAnnotation, ExemptReasonAnnotation)
	default:
		return ExemptionState{Applies: true, Why: fmt.Sprintf("exempted by %s: %s", ExemptAnnotation, reason)}
	}
	if ended != "" {
		why = ended + "; " + why
	}
	return ExemptionState{Why: why}
}

// Exempt applies an exemption to a finding of rule on obj: an exempted
// denial becomes a warning naming the reason, an exempted mutation a
// warning that it was not made; a denial or mutation whose exemption does
// not apply says why. Warnings are left as they are.
func Exempt(settings *Settings, obj client.Object, now time.Time, f Finding) Finding {
	if f.Action != Deny && f.Action != Mutate {
		return f
	}
	st := ExemptionOf(settings, obj, f.Rule, now)
	switch {
	case st.Applies && f.Action == Deny:
		f.Action = Warn
		f.Message += " (" + st.Why + ")"
	case st.Applies:
		f.Action = Warn
		f.Patch = nil
		f.Message = "not applied (" + st.Why + "): " + f.Message
	case st.Why != "":
		f.Message += " (" + st.Why + ")"
	}
	return f
}

func exemptionCovers(e *Exemption, obj client.Object, rule string) bool {
	if !slices.Contains(e.Rules, rule) {
		return false
	}
	ns := obj.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	if len(e.Namespaces) > 0 && !slices.Contains(e.Namespaces, ns) {
		return false
	}
	if len(e.Names) > 0 && !slices.Contains(e.Names, obj.GetName()) {
		return false
	}
	if e.ObjectSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(e.ObjectSelector)
		if err != nil || !sel.Matches(labels.Set(obj.GetLabels())) {
			return false
		}
	}
	return true
}

// lastsLonger reports whether a ends after b (no end is the latest).
func lastsLonger(a, b *Exemption) bool {
	if a.Until == nil {
		return b.Until != nil
	}
	return b.Until != nil && a.Until.After(b.Until.Time)
}

func source(e *Exemption) string {
	if e.Policy == "" {
		return "the cluster policy"
	}
	return fmt.Sprintf("ScaleGuardPolicy %q", e.Policy)
}

func splitRules(v string) []string {
	var out []string
	for _, r := range strings.Split(v, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}
