package policies

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Operation is the admission operation an object is judged for.
type Operation string

// Operations rules are asked about. DELETE and CONNECT are never judged.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
)

// Input is everything a rule may read.
type Input struct {
	// Object is the object under judgement, decoded into its Go type.
	Object client.Object
	// Operation is CREATE or UPDATE.
	Operation Operation
	// View is a read-only view of related objects.
	View ClusterView
	// Settings are the effective settings.
	Settings *Settings
	// Now is the time of the request, supplied by the caller: rules read
	// no clock. The zero time means unknown, and rules that compare against
	// it skip the comparison.
	Now time.Time
	// Live is what the audit observed of the running system for this
	// object (the live Prometheus's answers to its queries); nil in the
	// webhook and in check, which never run rules that read it.
	Live *Live

	// old is the stored object on UPDATE (OldObject).
	old *oldObject
	// memo is shared by every rule judging this version of the object.
	memo map[any]any
	// ctx bounds the judgement (see Expired).
	ctx context.Context
}

// Memo returns the value compute gives for key, computing it once per
// judgement of this version of the object: rules of one family share an
// analysis (a parsed query, a resolved target) through it instead of each
// redoing it. The key must capture everything compute reads besides the
// Input itself. Without an engine-made Input it simply computes.
func (in *Input) Memo(key any, compute func() any) any {
	if in.memo == nil {
		return compute()
	}
	if v, ok := in.memo[key]; ok {
		return v
	}
	v := compute()
	in.memo[key] = v
	return v
}

// OldObject is the stored object on UPDATE, nil on CREATE. It is decoded
// when first asked for; one that does not decode is nil here, and the
// judgement ends with its error.
func (in *Input) OldObject() client.Object { return in.old.get() }

// Namespace is the object's namespace, "default" when it has none (the
// namespace kubectl would apply it to).
func (in *Input) Namespace() string {
	if ns := in.Object.GetNamespace(); ns != "" {
		return ns
	}
	return "default"
}

// CheckFunc is a rule's logic.
type CheckFunc func(in *Input) []Finding

// Rule is a registered rule.
type Rule struct {
	// ID is the stable identifier: lowercase words joined by dashes.
	ID string
	// Kinds are the kinds the rule judges.
	Kinds []schema.GroupVersionKind
	// Action is the rule's default action: deny, warn or mutate. A deny or
	// mutate rule may also emit warnings (for example when it cannot decide).
	// Only a mutate rule patches: the mutating phase runs mutate rules alone.
	Action Action
	// Summary is a one-line description for the catalogue.
	Summary string
	// Doc explains the rule, why it exists and how to fix what it finds.
	Doc string
	// KeepOnUpdate, when true, keeps denying on UPDATE even when the old
	// object already had the same problem. By default a deny that the old
	// object shared is admitted with a warning, so an object that predates a
	// rule can still be edited (and fixed).
	KeepOnUpdate bool
	// MayDeny, on a mutate or warn rule, says that it also denies what it
	// cannot fix or what can never work (monitor-port denies a port it
	// cannot rewrite), so the kind's validating webhook must fail closed
	// as for a deny rule.
	MayDeny bool
	// AuditOnly marks a rule that judges what only the audit observes
	// (Input.Live): the engine runs it only for a request that carries
	// Live, so the webhook and check never do, and the catalogue says so.
	// Such a rule may only warn.
	AuditOnly bool
	// MutatesOnlyIf, on a mutate rule, is a CEL expression over the object
	// (named object, as in a webhook's matchConditions) that is false only
	// where the rule certainly patches nothing. When every mutate rule of a
	// kind has one, the kind's mutating webhook carries their disjunction
	// as a matchCondition, and the API server does not call it for an
	// object none of them would patch. The mutating phase reports only
	// patches, so nothing else is lost.
	MutatesOnlyIf string
	// Check is the rule's logic.
	Check CheckFunc
}

var ruleID = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func (r Rule) validate() error {
	if !ruleID.MatchString(r.ID) {
		return fmt.Errorf("rule ID %q is not lowercase words joined by dashes", r.ID)
	}
	if len(r.Kinds) == 0 {
		return fmt.Errorf("rule %q judges no kind", r.ID)
	}
	switch r.Action {
	case Deny, Warn, Mutate:
	default:
		return fmt.Errorf("rule %q has unknown default action %q", r.ID, r.Action)
	}
	if r.Summary == "" {
		return fmt.Errorf("rule %q has no summary", r.ID)
	}
	if r.Check == nil {
		return fmt.Errorf("rule %q has no check", r.ID)
	}
	if r.MutatesOnlyIf != "" && r.Action != Mutate {
		return fmt.Errorf("rule %q has a mutate condition but does not mutate", r.ID)
	}
	if r.AuditOnly && r.Action != Warn {
		return fmt.Errorf("rule %q is audit-only and must warn, not %s", r.ID, r.Action)
	}
	return nil
}

// Denies reports whether the rule can refuse an object: a deny rule, or a
// mutate or warn rule that may deny.
func (r Rule) Denies() bool { return r.Action == Deny || r.MayDeny }

// runsFor reports whether the rule runs for a request of kind gvk: it
// judges the kind, and an audit-only rule runs only with live observations.
func (r Rule) runsFor(gvk schema.GroupVersionKind, live *Live) bool {
	return r.judges(gvk) && (!r.AuditOnly || live != nil)
}

// judges reports whether the rule applies to kind.
func (r Rule) judges(gvk schema.GroupVersionKind) bool {
	for _, k := range r.Kinds {
		if k == gvk {
			return true
		}
	}
	return false
}

// On adapts a function of one Go type to a CheckFunc. An object of another
// type yields no findings (the registry already routes by kind; this guards
// against a mis-registration without panicking).
func On[T client.Object](fn func(obj T, in *Input) []Finding) CheckFunc {
	return func(in *Input) []Finding {
		obj, ok := in.Object.(T)
		if !ok {
			return nil
		}
		return fn(obj, in)
	}
}
