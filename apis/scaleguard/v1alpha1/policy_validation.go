package v1alpha1

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidatePolicy checks a policy and returns every problem as an error on
// its field under spec: the settings (what Settings.Validate checks, with
// ruleExists telling which rule IDs exist), the namespace selector, label
// and annotation names, and the exemptions. The CRD's schema and CEL rules
// refuse what they can say before this runs; this covers the rest.
func ValidatePolicy(p *ScaleGuardPolicy, ruleExists func(id string) bool) field.ErrorList {
	spec := field.NewPath("spec")
	errs := validateSettings(&p.Spec.Settings, spec, ruleExists)
	if sel := p.Spec.NamespaceSelector; sel != nil {
		errs = append(errs, validateSelector(sel, spec.Child("namespaceSelector"))...)
	}
	for i := range p.Spec.Exemptions {
		errs = append(errs, validateExemption(&p.Spec.Exemptions[i], spec.Child("exemptions").Index(i), ruleExists)...)
	}
	return errs
}

// validateSettings turns Settings.Validate's findings into field errors,
// and adds the Kubernetes name checks it does not make.
func validateSettings(s *Settings, spec *field.Path, ruleExists func(string) bool) field.ErrorList {
	var errs field.ErrorList
	// The sections Settings.Validate checks, in its order. Each finding is
	// "path: reason"; the path is relative to the settings.
	var found []string
	ids := make([]string, 0, len(s.Rules))
	for id := range s.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := spec.Child("rules").Key(id)
		if !ruleExists(id) {
			found = append(found, fmt.Sprintf("rules.%s: no such rule", id))
			errs = append(errs, field.NotFound(p, id))
		}
		switch a := s.Rules[id].Action; a {
		case "", Enforce, WarnOnly, Off:
		default:
			found = append(found, fmt.Sprintf("rules.%s.action: %q is not Enforce, Warn or Off", id, a))
			errs = append(errs, field.NotSupported(p.Child("action"), a, []string{string(Enforce), string(WarnOnly), string(Off)}))
		}
	}
	kinds := func(name string, list []KindRef, offset int) {
		for i, k := range list {
			p := spec.Child("targetRef", name).Index(i)
			if k.APIVersion == "" || k.Kind == "" {
				found = append(found, fmt.Sprintf("targetRef kinds[%d]: apiVersion and kind are required", offset+i))
				errs = append(errs, field.Required(p, "apiVersion and kind are required"))
				continue
			}
			if _, err := schema.ParseGroupVersion(k.APIVersion); err != nil {
				errs = append(errs, field.Invalid(p.Child("apiVersion"), k.APIVersion, err.Error()))
			}
		}
	}
	kinds("scalableKinds", s.TargetRef.ScalableKinds, 0)
	kinds("unscalableKinds", s.TargetRef.UnscalableKinds, len(s.TargetRef.ScalableKinds))
	for _, section := range [][]string{s.GPU.validate(), s.PromQL.validate(), s.Conflicts.validate(), s.Limits.validate(), s.Prometheus.validate()} {
		for _, f := range section {
			found = append(found, f)
			path, reason, _ := strings.Cut(f, ": ")
			errs = append(errs, &field.Error{Type: field.ErrorTypeInvalid, Field: spec.String() + "." + path, BadValue: field.OmitValueType{}, Detail: reason})
		}
	}
	// Settings.Validate is the authority on the settings: should it find
	// more than the sections above (a section added to it and not here),
	// its whole message is refused on spec rather than let through.
	if err := s.Validate(ruleExists); err != nil && err.Error() != "invalid settings: "+strings.Join(found, "; ") {
		errs = append(errs, field.Invalid(spec, field.OmitValueType{}, err.Error()))
	}

	gpu := spec.Child("gpu")
	for i, l := range s.GPU.NodeLabels {
		p := gpu.Child("nodeLabels").Index(i)
		if l.Key != "" {
			errs = append(errs, qualifiedName(p.Child("key"), l.Key)...)
		}
		for j, v := range l.Values {
			errs = append(errs, labelValue(p.Child("values").Index(j), v)...)
		}
	}
	for i, k := range s.GPU.TolerationKeys {
		if k != "" {
			errs = append(errs, qualifiedName(gpu.Child("tolerationKeys").Index(i), k)...)
		}
	}
	keys := make([]string, 0, len(s.GPU.NamespaceLabels))
	for k := range s.GPU.NamespaceLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := gpu.Child("namespaceLabels").Key(k)
		if k != "" {
			errs = append(errs, qualifiedName(p, k)...)
		}
		errs = append(errs, labelValue(p, s.GPU.NamespaceLabels[k])...)
	}
	for i, a := range s.Conflicts.GitOpsTrackingAnnotations {
		errs = append(errs, qualifiedName(spec.Child("conflicts", "gitOpsTrackingAnnotations").Index(i), a)...)
	}
	for i, l := range s.Conflicts.GitOpsTrackingLabels {
		errs = append(errs, qualifiedName(spec.Child("conflicts", "gitOpsTrackingLabels").Index(i), l)...)
	}
	return errs
}

func validateExemption(e *Exemption, p *field.Path, ruleExists func(string) bool) field.ErrorList {
	var errs field.ErrorList
	if len(e.Rules) == 0 {
		errs = append(errs, field.Required(p.Child("rules"), "name the rules the objects are exempt from"))
	}
	for i, id := range e.Rules {
		if !ruleExists(id) {
			errs = append(errs, field.NotFound(p.Child("rules").Index(i), id))
		}
	}
	for i, ns := range e.Namespaces {
		for _, msg := range validation.IsDNS1123Label(ns) {
			errs = append(errs, field.Invalid(p.Child("namespaces").Index(i), ns, msg))
		}
	}
	for i, n := range e.Names {
		for _, msg := range validation.IsDNS1123Subdomain(n) {
			errs = append(errs, field.Invalid(p.Child("names").Index(i), n, msg))
		}
	}
	if e.ObjectSelector != nil {
		if len(e.Names) > 0 {
			errs = append(errs, field.Forbidden(p.Child("names"), "give objectSelector or names, not both"))
		}
		errs = append(errs, validateSelector(e.ObjectSelector, p.Child("objectSelector"))...)
	}
	if strings.TrimSpace(e.Reason) == "" {
		errs = append(errs, field.Required(p.Child("reason"), "say why the objects are exempt; warnings quote it"))
	}
	return errs
}

func validateSelector(sel *metav1.LabelSelector, p *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, p)
	if len(errs) == 0 {
		if _, err := metav1.LabelSelectorAsSelector(sel); err != nil {
			errs = append(errs, field.Invalid(p, field.OmitValueType{}, err.Error()))
		}
	}
	return errs
}

func qualifiedName(p *field.Path, name string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func labelValue(p *field.Path, v string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidLabelValue(v) {
		errs = append(errs, field.Invalid(p, v, msg))
	}
	return errs
}
