package v1alpha1

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Exemption exempts objects from rules by an administrator's decision. It
// applies to objects of the namespaces its policy covers (narrowed by
// Namespaces), selected by ObjectSelector or Names (every object when
// neither is given), until Until passes.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.objectSelector) && has(self.names))",message="give objectSelector or names, not both"
type Exemption struct {
	// Rules are the IDs of the rules the objects are exempt from.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinItems=1
	// +listType=set
	Rules []string `json:"rules"`
	// Namespaces narrow the exemption to these namespaces; absent, it
	// applies in every namespace its policy covers.
	// +listType=set
	Namespaces []string `json:"namespaces,omitempty"`
	// ObjectSelector narrows the exemption to objects whose labels match.
	ObjectSelector *metav1.LabelSelector `json:"objectSelector,omitempty"`
	// Names narrow the exemption to objects of these names.
	// +listType=set
	Names []string `json:"names,omitempty"`
	// Reason says why the objects are exempt; every warning the exemption
	// turns a denial into names it.
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Reason string `json:"reason"`
	// Until is when the exemption ends by itself (RFC 3339); absent, it
	// lasts until it is removed. Warnings say when it ends.
	Until *metav1.Time `json:"until,omitempty"`

	// Policy is the name of the ScaleGuardPolicy the exemption comes from,
	// set when policies are merged, for messages.
	Policy string `json:"-"`
}

// AllowsExemption reports whether an object may exempt itself from a rule
// with the scaleguard.io/exempt annotation: rules.<id>.allowExemptions
// when set, else allowExemptions (true when unset).
func (s *Settings) AllowsExemption(ruleID string) bool {
	if s == nil {
		return true
	}
	if o, ok := s.Rules[ruleID]; ok && o.AllowExemptions != nil {
		return *o.AllowExemptions
	}
	return s.AllowExemptions == nil || *s.AllowExemptions
}

func ptrTo[T any](v T) *T { return &v }

// UnmarshalJSON decodes an enforcement, and says what to do about the
// YAML trap of an unquoted Off (or On), which YAML reads as a boolean.
func (e *Enforcement) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "false", "true":
		return fmt.Errorf(`%s is a boolean, not Enforce, Warn or Off: write "Off" in quotes (YAML reads an unquoted Off as false)`, b)
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*e = Enforcement(s)
	return nil
}
