package promql

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/scaleguard/scaleguard/policies"
)

// Values a regex matcher must reject to narrow a label to a workload: a
// regex that accepts arbitrary values (".*", ".+", "[^/]+") or the empty
// string (which also selects series without the label) narrows nothing.
var probes = []string{"", "scaleguard-probe", "scaleguard_probe_7", "7", "Z/9.:_ -"}

// narrows reports whether a matcher restricts its label to some values.
func narrows(m *labels.Matcher) bool {
	switch m.Type {
	case labels.MatchEqual:
		return m.Value != ""
	case labels.MatchRegexp:
		for _, p := range probes {
			if m.Matches(p) {
				return false
			}
		}
		return true
	}
	// != and !~ exclude some values and keep every other workload.
	return false
}

// scope is what a selector's matchers say about its scope.
type scope struct {
	profile policies.ScopeProfile
	// ownNamespace: an equality (or literal regex) matcher names the
	// object's namespace.
	ownNamespace bool
	// otherNamespaces are other namespaces the matchers name.
	otherNamespaces []string
	// workload: a workload label is narrowed.
	workload bool
}

func scopeOf(sel selector, ns string, s *policies.PromQLSettings) scope {
	sc := scope{profile: s.ProfileFor(sel.name)}
	for _, m := range sel.vs.LabelMatchers {
		if m == nil {
			continue
		}
		if m.Name == sc.profile.Namespace() {
			switch m.Type {
			case labels.MatchEqual:
				if m.Value == ns {
					sc.ownNamespace = true
				} else if m.Value != "" {
					sc.otherNamespaces = append(sc.otherNamespaces, m.Value)
				}
			case labels.MatchRegexp:
				// Only the literal name counts; a regex listing names
				// reads each of them.
				if m.Value == ns {
					sc.ownNamespace = true
				}
				for _, v := range m.SetMatches() {
					if v != ns && v != "" {
						sc.otherNamespaces = append(sc.otherNamespaces, v)
					}
				}
			}
		}
		for _, l := range sc.profile.WorkloadLabels {
			if m.Name == l && narrows(m) {
				sc.workload = true
			}
		}
	}
	return sc
}

// checkScope yields promql-unscoped and promql-cross-namespace findings,
// once per offending selector (as written).
func checkScope(sels []selector, q Query, s *policies.PromQLSettings) []policies.Finding {
	var out []policies.Finding
	seen := map[string]bool{}
	for _, sel := range sels {
		if seen[sel.text] {
			continue
		}
		seen[sel.text] = true
		sc := scopeOf(sel, q.Namespace, s)
		var add *labels.Matcher
		if !sc.workload {
			add = q.Workload.suggest(sc.profile, sel.name, sel.vs.LabelMatchers)
		}
		cross := sc.profile.RequireNamespace && len(sc.otherNamespaces) > 0
		if cross {
			out = append(out, deny(CrossNamespaceID, q.Field,
				"selector %s reads namespace %s, not this object's namespace %q: a tenant must not scale on another namespace's load; write %s",
				quoted(sel.text), quotedList(sc.otherNamespaces), q.Namespace, code(fixed(sel, sc, q, add))))
		}
		var lacks []string
		needNS := sc.profile.RequireNamespace && !sc.ownNamespace && !cross
		if needNS {
			lacks = append(lacks, fmt.Sprintf("%s=%q", sc.profile.Namespace(), q.Namespace))
		}
		if !sc.workload {
			lacks = append(lacks, workloadLack(sc.profile.WorkloadLabels))
		}
		if len(lacks) == 0 {
			continue
		}
		hint := ""
		if add != nil && add.Value == modelPlaceholder {
			hint = " with the model name clients request"
		}
		out = append(out, deny(UnscopedID, q.Field, "selector %s lacks %s, so it %s; write %s%s",
			quoted(sel.text), strings.Join(lacks, " and "), reads(sc, needNS), code(fixed(sel, sc, q, add)), hint))
	}
	return out
}

// reads says what an unscoped selector counts.
func reads(sc scope, needNS bool) string {
	switch {
	case sc.profile.MetricPrefix != "":
		return fmt.Sprintf("counts every model behind the shared %s", sc.profile.Name)
	case needNS:
		return "reads every matching series in the cluster"
	}
	return "reads every matching workload in the namespace"
}

// fixed renders the selector scoped to this object: the namespace matcher
// set to the object's namespace (when the profile wants one), add appended,
// every other matcher kept as written, modifiers (offset, @) kept.
func fixed(sel selector, sc scope, q Query, add *labels.Matcher) string {
	var ms []string
	name := sel.vs.Name
	if name != "" && !model.LegacyValidation.IsValidMetricName(name) {
		// A UTF-8 name is written quoted inside the braces.
		ms = append(ms, strconv.Quote(name))
		name = ""
	}
	nsLabel := sc.profile.Namespace()
	if sc.profile.RequireNamespace {
		ms = append(ms, (&labels.Matcher{Type: labels.MatchEqual, Name: nsLabel, Value: q.Namespace}).String())
	}
	for _, m := range sel.vs.LabelMatchers {
		if m == nil || (sc.profile.RequireNamespace && m.Name == nsLabel) || (add != nil && m.Name == add.Name) {
			continue
		}
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual && m.Value == sel.vs.Name {
			continue
		}
		ms = append(ms, m.String())
	}
	if add != nil {
		ms = append(ms, add.String())
	}
	// The printer renders the modifiers of a selector with no name and no
	// matchers.
	mods := *sel.vs
	mods.Name, mods.LabelMatchers = "", nil
	return name + "{" + strings.Join(ms, ", ") + "}" + (&mods).String()
}

// workloadLack names the missing workload matcher.
func workloadLack(ls []string) string {
	const show = 4
	switch {
	case len(ls) == 1:
		return "a matcher on " + ls[0]
	case len(ls) <= show:
		return "a workload label (one of " + strings.Join(ls, ", ") + ")"
	}
	return "a workload label (one of " + strings.Join(ls[:show], ", ") + ", …)"
}

func quotedList(vs []string) string {
	vs = append([]string(nil), vs...)
	sort.Strings(vs)
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
