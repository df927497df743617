package v1alpha1

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
)

// UnmarshalJSON decodes a policy whose spec may be absent: the settings
// are then the defaults.
func (p *ScaleGuardPolicy) UnmarshalJSON(b []byte) error {
	type plain ScaleGuardPolicy
	q := plain{Spec: ScaleGuardPolicySpec{Settings: *DefaultSettings()}}
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*p = ScaleGuardPolicy(q)
	return nil
}

// UnmarshalJSON decodes a spec over the built-in defaults: a field the
// JSON does not give keeps its default, and a list or map it gives
// replaces the default as a whole (encoding/json alone would add a map's
// keys to the default's, and decode a list's items over the default's
// items, keeping their fields the JSON leaves out).
func (s *ScaleGuardPolicySpec) UnmarshalJSON(b []byte) error {
	type plain ScaleGuardPolicySpec
	q := plain{Settings: *DefaultSettings()}
	clearGivenCollections(reflect.ValueOf(&q).Elem(), b)
	if err := json.Unmarshal(b, &q); err != nil {
		return err
	}
	*s = ScaleGuardPolicySpec(q)
	return nil
}

// clearGivenCollections sets to nil every map and slice field of the
// struct v that the JSON object raw gives, descending into struct fields
// raw also gives and into inlined embedded structs.
func clearGivenCollections(v reflect.Value, raw []byte) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return // json.Unmarshal reports it
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			clearGivenCollections(fv, raw)
			continue
		}
		if name == "" {
			name = f.Name
		}
		sub, given := obj[name]
		if !given {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Map, reflect.Slice:
			fv.Set(reflect.Zero(f.Type))
		case reflect.Struct:
			clearGivenCollections(fv, sub)
		}
	}
}

// strictPolicy mirrors ScaleGuardPolicy without its decoding methods, so
// that a strict decode can name unknown fields (the methods decode the
// spec with encoding/json, which ignores them). TestStrictDecodeKnowsEveryField
// keeps it in step with ScaleGuardPolicySpec.
//
// +kubebuilder:object:generate=false
type strictPolicy struct {
	APIVersion string                 `json:"apiVersion,omitempty"`
	Kind       string                 `json:"kind,omitempty"`
	Metadata   metav1.ObjectMeta      `json:"metadata,omitempty"`
	Spec       strictSpec             `json:"spec,omitempty"`
	Status     ScaleGuardPolicyStatus `json:"status,omitempty"`
}

// strictSpec is ScaleGuardPolicySpec without its UnmarshalJSON.
//
// +kubebuilder:object:generate=false
type strictSpec struct {
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`
	Settings          `json:",inline"`
}

// DecodePolicy decodes a ScaleGuardPolicy from JSON over the defaults.
// unknown lists the fields the JSON gives that the type does not have
// (the API server drops those; a file read by check should not have
// them). A field of the wrong type or an unparsable value is an error.
func DecodePolicy(data []byte) (p *ScaleGuardPolicy, unknown []string, err error) {
	var shadow strictPolicy
	strictErrs, err := kjson.UnmarshalStrict(data, &shadow)
	if err != nil {
		return nil, nil, describeDecodeError(data, err)
	}
	for _, e := range strictErrs {
		unknown = append(unknown, e.Error())
	}
	p = &ScaleGuardPolicy{}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, unknown, describeDecodeError(data, err)
	}
	return p, unknown, nil
}

// describeDecodeError names the field of a value that does not decode: a
// type error carries it, and a value a type parses itself (a duration, a
// time) is found by decoding the given values one by one.
func describeDecodeError(data []byte, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s: a %s is not a valid %s", te.Field, te.Value, te.Type)
	}
	var obj struct {
		Spec json.RawMessage `json:"spec"`
	}
	if json.Unmarshal(data, &obj) == nil && obj.Spec != nil {
		if where := locate(reflect.TypeOf(ScaleGuardPolicySpec{}), obj.Spec, "spec"); where != "" {
			return errors.New(where)
		}
	}
	return err
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

// locate returns "path: error" for the first value under raw that does
// not decode into its field's type, or "".
func locate(t reflect.Type, raw json.RawMessage, path string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	own := t == reflect.TypeOf(ScaleGuardPolicySpec{})
	if !own && reflect.PointerTo(t).Implements(unmarshaler) {
		if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
			return fmt.Sprintf("%s: %v", path, err)
		}
		return ""
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if f.Anonymous && name == "" {
				if w := locate(f.Type, raw, path); w != "" {
					return w
				}
				continue
			}
			if sub, ok := obj[name]; ok {
				if w := locate(f.Type, sub, path+"."+name); w != "" {
					return w
				}
			}
		}
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return ""
		}
		for i, it := range items {
			if w := locate(t.Elem(), it, fmt.Sprintf("%s[%d]", path, i)); w != "" {
				return w
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		for k, v := range obj {
			if w := locate(t.Elem(), v, path+"."+k); w != "" {
				return w
			}
		}
	}
	return ""
}
