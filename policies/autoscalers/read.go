package autoscalers

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
)

// For returns the catalogue entry of a group and kind.
func For(gk schema.GroupKind) (*Autoscaler, bool) {
	for i := range Catalogue {
		if Catalogue[i].GVK.GroupKind() == gk {
			return &Catalogue[i], true
		}
	}
	return nil, false
}

// Of returns the catalogue entry of an object, when it is an unstructured
// object of a catalogued kind.
func Of(obj client.Object) (*unstructured.Unstructured, *Autoscaler, bool) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil, nil, false
	}
	a, ok := For(u.GroupVersionKind().GroupKind())
	return u, a, ok
}

// Value is the text of the field at path: a string as is, a boolean or
// number in its JSON text, "" when the field is absent or null. A map or
// list reads as "{}" or "[]" (present, with no single value).
func Value(obj *unstructured.Unstructured, path []string) string {
	var cur any = obj.Object
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		if cur, ok = m[p]; !ok {
			return ""
		}
	}
	switch v := cur.(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]any:
		return "{}"
	case []any:
		return "[]"
	}
	return fmt.Sprint(cur)
}

// Holds reports whether the condition holds for obj.
func (c Condition) Holds(obj *unstructured.Unstructured) bool {
	v := Value(obj, c.Path)
	in := false
	for _, want := range c.In {
		if v == want {
			in = true
			break
		}
	}
	return in != c.Not
}

// ModeOf is the mode obj is in: the first whose conditions all hold.
func (a *Autoscaler) ModeOf(obj *unstructured.Unstructured) (*Mode, bool) {
	for i := range a.Modes {
		m := &a.Modes[i]
		all := true
		for _, c := range m.When {
			if !c.Holds(obj) {
				all = false
				break
			}
		}
		if all {
			return m, true
		}
	}
	return nil, false
}

// Describe renders the mode for messages, its field references filled in.
func (m *Mode) Describe(obj *unstructured.Unstructured) string {
	return expand(m.Name, obj, false)
}

// GeneratedName is the name of the HPA or ScaledObject the mode creates,
// "" when it is not known ahead.
func (m *Mode) GeneratedName(obj *unstructured.Unstructured) string {
	if m.Generated == "" {
		return ""
	}
	return expand(m.Generated, obj, false)
}

// FixFor is the mode's fix for obj.
func (m *Mode) FixFor(obj *unstructured.Unstructured) string {
	return strings.ReplaceAll(m.Fix, "{name}", fmt.Sprintf("%q", obj.GetName()))
}

// FieldPath is the mode's field as a path for findings.
func (m *Mode) FieldPath() *field.Path {
	return pathOf(m.Field)
}

// pathOf renders a field path; a segment holding a dot or slash (an
// annotation key) is a map key.
func pathOf(segments []string) *field.Path {
	var p *field.Path
	for i, s := range segments {
		switch {
		case i == 0:
			p = field.NewPath(s)
		case strings.ContainsAny(s, "./"):
			p = p.Key(s)
		default:
			p = p.Child(s)
		}
	}
	return p
}

// placeholder is {name} or {a.b.c} in a name or description.
var placeholder = regexp.MustCompile(`\{[a-zA-Z][a-zA-Z0-9.]*\}`)

// expand fills in the placeholders of s; quoted, their values are quoted
// for a regular expression. ok is false when a placeholder's field is
// absent.
func expand(s string, obj *unstructured.Unstructured, quote bool) string {
	out, _ := expandOK(s, obj, quote)
	return out
}

func expandOK(s string, obj *unstructured.Unstructured, quote bool) (string, bool) {
	ok := true
	out := placeholder.ReplaceAllStringFunc(s, func(ph string) string {
		name := ph[1 : len(ph)-1]
		v := obj.GetName()
		if name != "name" {
			v = Value(obj, strings.Split(name, "."))
		}
		if v == "" {
			ok = false
		}
		if quote {
			return regexp.QuoteMeta(v)
		}
		return v
	})
	return out, ok
}

// Targets is what an object of a catalogued kind scales.
type Targets struct {
	// Group and Kind of the workloads.
	Group, Kind string
	// APIVersion of the workloads, for messages.
	APIVersion string
	// Namespace of the workloads: the object's.
	Namespace string
	// Fixed are the workload names when they are known.
	Fixed []string
	// patterns match the names of revision workloads.
	patterns []namePattern
	// Path is the field that names the target (for findings), nil when
	// the object itself or its generated workload is the target.
	Path *field.Path
	// Self: the object is its own target.
	Self bool
}

// TargetsOf resolves what obj scales. ok is false when it names nothing
// (a reference without kind or name).
func (a *Autoscaler) TargetsOf(obj *unstructured.Unstructured) (Targets, bool) {
	ns := obj.GetNamespace()
	if ns == "" {
		ns = "default"
	}
	t := a.Target
	switch {
	case t.Self:
		gvk := obj.GroupVersionKind()
		return Targets{Group: gvk.Group, Kind: gvk.Kind, APIVersion: gvk.GroupVersion().String(), Namespace: ns, Fixed: []string{obj.GetName()}, Self: true}, obj.GetName() != ""
	case len(t.Ref) > 0:
		ref, ok := refAt(obj, t.Ref)
		if !ok {
			return Targets{}, false
		}
		apiVersion, kind, name := str(ref["apiVersion"]), str(ref["kind"]), str(ref["name"])
		if kind == "" || name == "" {
			return Targets{}, false
		}
		group := apiVersion
		if gv, err := schema.ParseGroupVersion(apiVersion); err == nil {
			group = gv.Group
		}
		return Targets{Group: group, Kind: kind, APIVersion: apiVersion, Namespace: ns, Fixed: []string{name}, Path: pathOf(t.Ref)}, true
	}
	gv, _ := schema.ParseGroupVersion(t.APIVersion)
	out := Targets{Group: gv.Group, Kind: t.Kind, APIVersion: t.APIVersion, Namespace: ns}
	for _, n := range t.Names {
		if t.Revisions {
			tm, ok := templates[n]
			if !ok {
				continue
			}
			p := namePattern{re: tm.re, lead: tm.lead}
			p.values = make([]string, len(tm.fields))
			for i, f := range tm.fields {
				p.values[i] = obj.GetName()
				if f != nil {
					p.values[i] = Value(obj, f)
				}
			}
			if !slices.Contains(p.values, "") {
				out.patterns = append(out.patterns, p)
			}
			continue
		}
		if name, ok := expandOK(n, obj, false); ok {
			out.Fixed = append(out.Fixed, name)
		}
	}
	return out, len(out.Fixed)+len(out.patterns) > 0
}

// Matches reports whether ref is one of the targets.
func (t Targets) Matches(ref policies.WorkloadRef) bool {
	if ref.Group != t.Group || ref.Kind != t.Kind || ref.Namespace != t.Namespace {
		return false
	}
	for _, n := range t.Fixed {
		if n == ref.Name {
			return true
		}
	}
	for _, p := range t.patterns {
		if p.matches(ref.Name) {
			return true
		}
	}
	return false
}

// nameTemplate is a name of Target.Names compiled once: its placeholders
// become capture groups, compared with the object's values on a match,
// so that judging an object compiles nothing.
type nameTemplate struct {
	re *regexp.Regexp
	// fields are the placeholders' paths, nil for {name}.
	fields [][]string
	// lead is the literal character after the placeholder the template
	// opens with (0 if none): a matching name starts with the
	// placeholder's value and it (index.go).
	lead byte
}

// namePattern is a template with one object's values.
type namePattern struct {
	re     *regexp.Regexp
	values []string
	lead   byte
}

func (p namePattern) matches(name string) bool {
	m := p.re.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	for i, v := range p.values {
		if m[i+1] != v {
			return false
		}
	}
	return true
}

// templates are the compiled names of the catalogue's revision targets.
var templates = func() map[string]nameTemplate {
	out := map[string]nameTemplate{}
	for _, a := range Catalogue {
		if !a.Target.Revisions {
			continue
		}
		for _, n := range a.Target.Names {
			tm := nameTemplate{lead: leadOf(n)}
			re := placeholder.ReplaceAllStringFunc(n, func(ph string) string {
				var path []string
				if f := ph[1 : len(ph)-1]; f != "name" {
					path = strings.Split(f, ".")
				}
				tm.fields = append(tm.fields, path)
				return "(.+)"
			})
			tm.re = regexp.MustCompile("^(?:" + re + ")$")
			out[n] = tm
		}
	}
	return out
}()

// Refs are the fixed targets as workload references (none for revision
// workloads, which are found by Matches).
func (t Targets) Refs() []policies.WorkloadRef {
	out := make([]policies.WorkloadRef, len(t.Fixed))
	for i, n := range t.Fixed {
		out[i] = policies.WorkloadRef{Group: t.Group, Kind: t.Kind, Namespace: t.Namespace, Name: n}
	}
	return out
}

// Patterned reports whether some targets are found only by Matches.
func (t Targets) Patterned() bool { return len(t.patterns) > 0 }

// Describe renders the targets for messages.
func (t Targets) Describe() string {
	if len(t.patterns) > 0 {
		return fmt.Sprintf("the %s %s of each of its revisions", t.APIVersion, t.Kind)
	}
	if t.Self {
		return "itself (its /scale subresource)"
	}
	return fmt.Sprintf("the workload %q (%s %s)", t.Fixed[0], t.APIVersion, t.Kind)
}

// Generates reports whether obj (an HPA or ScaledObject, of kind
// generatedKind) is the one the autoscaler a in mode m creates: its
// controller owner reference names a itself, or the kind the mode's
// objects are owned through.
func (a *Autoscaler) Generates(owner *unstructured.Unstructured, m *Mode, obj client.Object) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil {
		return false
	}
	group := ref.APIVersion
	if gv, err := schema.ParseGroupVersion(ref.APIVersion); err == nil {
		group = gv.Group
	}
	if m.Via != nil {
		return group == m.Via.Group && ref.Kind == m.Via.Kind
	}
	return group == a.GVK.Group && ref.Kind == a.GVK.Kind && ref.Name == owner.GetName()
}

// GeneratedByAny reports whether obj's controller owner is of a
// catalogued kind, or of a kind a mode's objects are owned through.
func GeneratedByAny(obj client.Object) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false
	}
	for _, a := range Catalogue {
		if a.GVK.Group == gv.Group && a.GVK.Kind == ref.Kind {
			return true
		}
		for _, m := range a.Modes {
			if m.Via != nil && m.Via.Group == gv.Group && m.Via.Kind == ref.Kind {
				return true
			}
		}
	}
	return false
}

// FieldPaths lists every field of a's objects the catalogue reads besides
// metadata: what serve's cache keeps of them.
func (a *Autoscaler) FieldPaths() [][]string {
	var out [][]string
	if len(a.Target.Ref) > 0 {
		out = append(out, a.Target.Ref)
	}
	for _, n := range a.Target.Names {
		for _, ph := range placeholder.FindAllString(n, -1) {
			if name := ph[1 : len(ph)-1]; name != "name" {
				out = append(out, strings.Split(name, "."))
			}
		}
	}
	for _, m := range a.Modes {
		out = append(out, m.Field)
		for _, ph := range placeholder.FindAllString(m.Name, -1) {
			out = append(out, strings.Split(ph[1:len(ph)-1], "."))
		}
		for _, c := range m.When {
			out = append(out, c.Path)
		}
	}
	return out
}

// Kinds lists the catalogued kinds.
func Kinds() []schema.GroupVersionKind {
	out := make([]schema.GroupVersionKind, len(Catalogue))
	for i, a := range Catalogue {
		out[i] = a.GVK
	}
	return out
}

// GeneratesWorkload reports whether an autoscaler of the view creates the
// workload ref (a NIMService's Deployment, a Knative revision's), and
// names it: the workload appears when that controller reconciles.
func GeneratesWorkload(view policies.ClusterView, ref policies.WorkloadRef) (string, bool) {
	for i := range Catalogue {
		a := &Catalogue[i]
		if a.Target.Kind == "" {
			continue
		}
		for _, u := range a.Candidates(view, ref) {
			if t, ok := a.TargetsOf(u); ok && t.Matches(ref) {
				return fmt.Sprintf("%s %q", a.GVK.Kind, u.GetName()), true
			}
		}
	}
	return "", false
}

// refAt is the map at path (a reference), without copying.
func refAt(obj *unstructured.Unstructured, path []string) (map[string]any, bool) {
	var cur any = obj.Object
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur = m[p]
	}
	m, ok := cur.(map[string]any)
	return m, ok
}

// str is a string value, "" for anything else.
func str(v any) string {
	s, _ := v.(string)
	return s
}
