package policies

import (
	"fmt"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Action is what a finding asks of the admission chain.
type Action string

// Actions a finding can carry.
const (
	// Deny refuses the object.
	Deny Action = "deny"
	// Warn admits the object and tells the client why it is risky.
	Warn Action = "warn"
	// Mutate changes the object with a JSON patch before it is stored.
	Mutate Action = "mutate"
)

// Finding is one verdict of one rule on one object.
type Finding struct {
	// Rule is the stable ID of the rule that produced the finding.
	Rule string `json:"rule"`
	// Action is deny, warn or mutate.
	Action Action `json:"action"`
	// Field is the path of the offending field, e.g. spec.triggers[1].metadata.query.
	Field string `json:"field"`
	// Message says what was found and how to fix it, in one line.
	Message string `json:"message"`
	// Patch is the JSON patch of a mutate finding, applied in order.
	Patch []jsonpatch.Operation `json:"patch,omitempty"`
}

// String renders a finding the way clients see it:
// "[rule] field: message".
func (f Finding) String() string {
	if f.Field == "" {
		return fmt.Sprintf("[%s] %s", f.Rule, f.Message)
	}
	return fmt.Sprintf("[%s] %s: %s", f.Rule, f.Field, f.Message)
}

// Denyf is a deny finding at path.
func Denyf(path *field.Path, format string, args ...any) Finding {
	return Finding{Action: Deny, Field: pathString(path), Message: fmt.Sprintf(format, args...)}
}

// Warnf is a warn finding at path.
func Warnf(path *field.Path, format string, args ...any) Finding {
	return Finding{Action: Warn, Field: pathString(path), Message: fmt.Sprintf(format, args...)}
}

// Mutatef is a mutate finding at path with its patch.
func Mutatef(path *field.Path, patch []jsonpatch.Operation, format string, args ...any) Finding {
	return Finding{Action: Mutate, Field: pathString(path), Patch: patch, Message: fmt.Sprintf(format, args...)}
}

func pathString(p *field.Path) string {
	if p == nil {
		return ""
	}
	return p.String()
}
