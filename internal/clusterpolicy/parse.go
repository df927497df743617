package clusterpolicy

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// GVK is the kind of ScaleGuardPolicy.
var GVK = sgv1alpha1.GroupVersion.WithKind(sgv1alpha1.PolicyKind)

// Parse decodes a ScaleGuardPolicy from JSON and validates it against the
// rules of reg. It returns the policy, in force at its generation, the
// fields it has that the type does not know (the API server drops them; a
// file should not have them), or an error listing every problem with its
// field.
func Parse(data []byte, reg *policies.Registry) (*Policy, []string, error) {
	obj, unknown, err := sgv1alpha1.DecodePolicy(data)
	if err != nil {
		return nil, unknown, err
	}
	if obj.Kind != "" && (obj.Kind != sgv1alpha1.PolicyKind || obj.APIVersion != sgv1alpha1.GroupVersion.String()) {
		return nil, unknown, fmt.Errorf("%s %s is not a %s %s", obj.APIVersion, obj.Kind, GVK.GroupVersion(), GVK.Kind)
	}
	if errs := sgv1alpha1.ValidatePolicy(obj, RuleExists(reg)); len(errs) > 0 {
		return nil, unknown, Problems(errs)
	}
	var raw struct {
		Spec json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, unknown, err
	}
	if raw.Spec == nil || string(raw.Spec) == "null" {
		raw.Spec = json.RawMessage("{}")
	}
	p, err := NewPolicy(obj, raw.Spec)
	return p, unknown, err
}

// RuleExists tells whether reg has a rule.
func RuleExists(reg *policies.Registry) func(string) bool {
	return func(id string) bool { _, ok := reg.Get(id); return ok }
}

// Problems joins field errors into one error, one "field: reason" per
// problem.
func Problems(errs field.ErrorList) error {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.Error()
	}
	return fmt.Errorf("%s", strings.Join(parts, "; "))
}
