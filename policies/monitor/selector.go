package monitor

import (
	"fmt"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// match is whether a selector selects a set of pods.
type match int

// Outcomes of a match, ordered: a conjunction is its smallest term.
const (
	// no: the selector cannot select them.
	no match = iota
	// maybe: it does if a label whose value scaleguard cannot know has the
	// value asked for.
	maybe
	// yes: it selects them.
	yes
)

// labelSet is what scaleguard knows of the labels of a set of pods (or of
// a Service).
type labelSet struct {
	// known are labels every such pod carries, with their values.
	known map[string]string
	// varying are keys every such pod carries with a value scaleguard
	// cannot know (set per pod by its controller).
	varying map[string]bool
	// never are values a varying key is known not to take (a
	// LeaderWorkerSet worker's index is never "0", its leader's).
	never map[string]string
	// open is true when the pods may carry further labels scaleguard cannot
	// see.
	open bool
}

// has reports whether the set carries key: yes, no or maybe.
func (ls labelSet) has(key string) match {
	if _, ok := ls.known[key]; ok || ls.varying[key] {
		return yes
	}
	if ls.open {
		return maybe
	}
	return no
}

// keys lists every key the set is known to carry, sorted.
func (ls labelSet) keys() []string {
	var out []string
	for k := range ls.known {
		out = append(out, k)
	}
	for k := range ls.varying {
		if _, dup := ls.known[k]; !dup {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// valueIn judges a requirement that key's value is one of values.
func (ls labelSet) valueIn(key string, values []string) match {
	if v, ok := ls.known[key]; ok {
		for _, want := range values {
			if v == want {
				return yes
			}
		}
		return no
	}
	if ls.varying[key] {
		for _, want := range values {
			if ls.never[key] != want {
				return maybe
			}
		}
		return no
	}
	if ls.open {
		return maybe
	}
	return no
}

// selects judges a valid label selector against the set, the way
// metav1.LabelSelectorAsSelector reads it (prometheus-operator's relabeling
// selection agrees for valid selectors). Callers check validity once
// (validSelector): an invalid selector selects nothing, since
// prometheus-operator rejects the monitor.
func (ls labelSet) selects(sel *metav1.LabelSelector) match {
	if sel == nil {
		return yes
	}
	out := yes
	for k, v := range sel.MatchLabels {
		out = min(out, ls.valueIn(k, []string{v}))
	}
	for _, e := range sel.MatchExpressions {
		var m match
		switch e.Operator {
		case metav1.LabelSelectorOpIn:
			m = ls.valueIn(e.Key, e.Values)
		case metav1.LabelSelectorOpNotIn:
			m = yes - ls.valueIn(e.Key, e.Values)
		case metav1.LabelSelectorOpExists:
			m = ls.has(e.Key)
		case metav1.LabelSelectorOpDoesNotExist:
			m = yes - ls.has(e.Key)
		default:
			m = no
		}
		out = min(out, m)
	}
	return out
}

// selectsMap judges a Service's selector (equality on every key; an empty
// one selects no pods: the Service's endpoints are managed by hand).
func (ls labelSet) selectsMap(sel map[string]string) match {
	if len(sel) == 0 {
		return no
	}
	return ls.selects(&metav1.LabelSelector{MatchLabels: sel})
}

// validSelector reports whether a monitor's selector is a valid label
// selector.
func validSelector(sel *metav1.LabelSelector) bool { return len(selectorErrors(sel, nil)) == 0 }

// selectorProblem is one reason a label selector is invalid.
type selectorProblem struct {
	field *field.Path
	msg   string
}

// selectorErrors lists why a selector is not a valid label selector, each
// with the field path under base (nil when only the verdict matters).
func selectorErrors(sel *metav1.LabelSelector, base *field.Path) []selectorProblem {
	var out []selectorProblem
	keys := make([]string, 0, len(sel.MatchLabels))
	for k := range sel.MatchLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := sel.MatchLabels[k]
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			out = append(out, selectorProblem{base.Child("matchLabels").Key(k), fmt.Sprintf("key %q is not a valid label key (%s)", k, errs[0])})
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			out = append(out, selectorProblem{base.Child("matchLabels").Key(k), fmt.Sprintf("value %q is not a valid label value%s", v, template(v))})
		}
	}
	for i, e := range sel.MatchExpressions {
		at := base.Child("matchExpressions").Index(i)
		if errs := validation.IsQualifiedName(e.Key); len(errs) > 0 {
			out = append(out, selectorProblem{at.Child("key"), fmt.Sprintf("%q is not a valid label key%s", e.Key, template(e.Key))})
		}
		switch e.Operator {
		case metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn:
			if len(e.Values) == 0 {
				out = append(out, selectorProblem{at.Child("values"), fmt.Sprintf("is empty, and operator %s needs at least one value", e.Operator)})
			}
		case metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist:
			if len(e.Values) > 0 {
				out = append(out, selectorProblem{at.Child("values"), fmt.Sprintf("must be empty with operator %s", e.Operator)})
			}
		default:
			out = append(out, selectorProblem{at.Child("operator"), fmt.Sprintf("%q is not In, NotIn, Exists or DoesNotExist", e.Operator)})
		}
		for j, v := range e.Values {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				out = append(out, selectorProblem{at.Child("values").Index(j), fmt.Sprintf("%q is not a valid label value%s", v, template(v))})
			}
		}
	}
	return out
}

// template names the likely cause of an invalid name: a Helm or Go
// template left unrendered.
func template(s string) string {
	if strings.Contains(s, "{{") || strings.Contains(s, "}}") || strings.Contains(s, "${") {
		return " (an unrendered template?)"
	}
	return ""
}

// namespaces says where a monitor discovers targets, the way
// prometheus-operator reads namespaceSelector: every namespace with any:
// true, else the names listed, else the monitor's own namespace. Names that
// are not valid namespace names are left out (they match nothing).
func namespaces(own string, sel monitoringv1.NamespaceSelector) (names []string, all bool) {
	if sel.Any {
		return nil, true
	}
	if len(sel.MatchNames) == 0 {
		return []string{own}, false
	}
	seen := map[string]bool{}
	for _, n := range sel.MatchNames {
		if len(validation.IsDNS1123Label(n)) == 0 && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names, false
}

// describeNamespaces renders where a monitor looks, for messages.
func describeNamespaces(names []string, all bool) string {
	switch {
	case all:
		return "any namespace"
	case len(names) == 0:
		return "no valid namespace"
	case len(names) == 1:
		return fmt.Sprintf("namespace %q", names[0])
	}
	return "namespaces " + quotedList(names)
}

// describeSelector renders a label selector the way kubectl prints one.
func describeSelector(sel *metav1.LabelSelector) string {
	if s, err := metav1.LabelSelectorAsSelector(sel); err == nil {
		if str := s.String(); str != "" {
			return str
		}
		return "everything"
	}
	return fmt.Sprintf("%v", sel)
}

// quotedList renders names as "a", "b" and "c", at most six of them.
func quotedList(names []string) string {
	const most = 6
	var q []string
	for i, n := range names {
		if i == most {
			q = append(q, fmt.Sprintf("%d more", len(names)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " and " + q[len(q)-1]
}
