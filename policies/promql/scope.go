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
	// ownLabel is the namespace label an equality (or literal regex)
	// matcher sets to the object's namespace, "" when none does.
	ownLabel string
	// otherNamespaces are other namespaces the matchers name.
	otherNamespaces []string
	// workload: a workload label is narrowed.
	workload bool
	// family is the label family (exported_* or not) of the first profile
	// label written that has one; nil when none is written.
	family *bool
	// scopedBy says what else pins the selector to the object's namespace
	// when no namespace matcher does: a tenancy proxy, or a label whose
	// value starts with the namespace (dynamo_namespace). "" when nothing.
	scopedBy string
	// unknown are labels narrowed by matchers that scaleguard cannot
	// place: neither the profile nor the metric's exporter lists them.
	unknown []string
}

func scopeOf(sel selector, q Query, s *policies.PromQLSettings) scope {
	ns := q.Namespace
	sc := scope{profile: s.ProfileFor(sel.name)}
	if q.TenantLabel != "" && has(sc.profile.Namespaces(), q.TenantLabel) {
		sc.scopedBy = fmt.Sprintf("the tenancy proxy at serverAddress, which reads only namespace %q", ns)
	}
	for _, m := range sel.vs.LabelMatchers {
		if m == nil {
			continue
		}
		if m.Type == labels.MatchEqual && has(sc.profile.NamespacedLabels, m.Name) && strings.HasPrefix(m.Value, ns+"-") {
			sc.scopedBy = fmt.Sprintf("%s=%q, which names something in namespace %q", m.Name, m.Value, ns)
		}
		isNS := has(sc.profile.Namespaces(), m.Name)
		isWorkload := has(sc.profile.WorkloadLabels, m.Name) || (!isNS && emitterLabel(sel.name, m.Name))
		if !isNS && !isWorkload && m.Name != labels.MetricName && narrows(m) && !placed(m.Name, sel.name, sc.profile) {
			sc.unknown = append(sc.unknown, m.Name)
		}
		if (isNS || isWorkload) && sc.family == nil && inFamily(m.Name, sc.profile) {
			f := exported(m.Name)
			sc.family = &f
		}
		if isNS {
			switch m.Type {
			case labels.MatchEqual:
				if m.Value == ns {
					sc.ownLabel = m.Name
				} else if m.Value != "" {
					sc.otherNamespaces = append(sc.otherNamespaces, m.Value)
				}
			case labels.MatchRegexp:
				// Only the literal name counts; a regex listing names
				// reads each of them.
				if m.Value == ns {
					sc.ownLabel = m.Name
				}
				for _, v := range m.SetMatches() {
					if v != ns && v != "" {
						sc.otherNamespaces = append(sc.otherNamespaces, v)
					}
				}
			}
		}
		if isWorkload && narrows(m) {
			sc.workload = true
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
		sc := scopeOf(sel, q, s)
		cross := sc.profile.RequireNamespace && len(sc.otherNamespaces) > 0
		needNS := sc.profile.RequireNamespace && sc.ownLabel == "" && sc.scopedBy == "" && !cross
		if !cross && !needNS && sc.workload {
			continue
		}
		fam := sc.preferred()
		fix := fixIn(sel, sc, q, fam)
		if !cross && !needNS && len(sc.unknown) > 0 {
			// Pinned to the namespace and narrowed by a label scaleguard
			// cannot place: it may well name one workload.
			out = append(out, unknownLabels(sel, sc, q, fix))
			continue
		}
		unknown := sc.profile.IsDefault() && !catalogued(sel.name)
		tail := fix.notes(sc, q)
		if unknown {
			tail = " if its series come from the workload's own pods" + tail
		}
		if bothFamilies(sc.profile) {
			alt := fixIn(sel, sc, q, !fam)
			tail += fmt.Sprintf(", or %s %s", code(alt.text), familyCondition(!fam))
		}
		if unknown {
			// Neither the catalogue nor a profile says which labels carry
			// the workload: namespace and pod may be an exporter's own.
			tail += "; if an exporter reports the workload in labels of its own (such as exported_namespace), " +
				"an administrator adds a scope profile for the metric to the settings' promql.profiles"
		}
		if cross {
			out = append(out, deny(CrossNamespaceID, q.Field,
				"selector %s reads namespace %s, not %s %q: a tenant must not scale on another namespace's load; write %s%s",
				quoted(sel.text), quotedList(sc.otherNamespaces), q.namespaceOwner(), q.Namespace, code(fix.text), tail))
		}
		var lacks []string
		if needNS {
			lacks = append(lacks, fmt.Sprintf("%s=%q", fix.namespace, q.Namespace))
		}
		if !sc.workload && len(sc.unknown) == 0 {
			lacks = append(lacks, workloadLack(sc.profile.WorkloadLabels))
		}
		if len(lacks) == 0 {
			continue
		}
		out = append(out, deny(UnscopedID, q.Field, "selector %s lacks %s, so it %s; write %s%s",
			quoted(sel.text), strings.Join(lacks, " and "), reads(sc, needNS), code(fix.text), tail))
	}
	return out
}

// reads says what an unscoped selector counts.
func reads(sc scope, needNS bool) string {
	switch {
	case !sc.profile.RequireNamespace:
		return fmt.Sprintf("counts every model behind the shared %s", sc.profile.Name)
	case needNS:
		return "reads every matching series in the cluster"
	}
	return "reads every matching workload in the namespace"
}

// catalogued reports whether the catalogue knows the exporter of a metric
// (an inference engine or the Kthena router), whose series carry the
// namespace and pod of the workload they describe.
func catalogued(name string) bool {
	return name != "" && (claimant(name) != nil || judgeName(name, nil).exporter != nil)
}

// fix is a selector rewritten to satisfy its profile.
type fix struct {
	text string
	// namespace is the namespace label the fix sets.
	namespace string
	// add is the workload matcher the fix adds, nil when none.
	add *labels.Matcher
	// droppedPod: the selector's pod matcher was left out, since the
	// metric's pod label is a router's own.
	droppedPod bool
}

// notes are the remarks a fix needs: where a placeholder comes from, and
// the relabeled label a ModelServing's pods can carry instead.
func (f fix) notes(sc scope, q Query) string {
	n := f.addNotes(sc, q)
	if f.droppedPod {
		n += " (without the pod matcher: these series come from a router, whose own pod is their pod label)"
	}
	return n
}

func (f fix) addNotes(sc scope, q Query) string {
	switch {
	case f.add == nil:
		return ""
	case f.add.Value == modelPlaceholder:
		return " with the model name clients request"
	case f.add.Value == serverPlaceholder:
		return " with the URL the router sends this workload's requests to (http://<engine Service or pod IP>:<port>; a regex on the Service name selects every pod behind it)"
	case f.add.Value == poolPlaceholder:
		return " with the name of the InferencePool that serves this workload"
	case strings.HasSuffix(f.add.Value, graphPlaceholder):
		return " with the name of the DynamoGraphDeployment this service belongs to"
	case podSpellings[f.add.Name] && q.Workload.ModelServing != "" && has(sc.profile.WorkloadLabels, modelServingLabel):
		return fmt.Sprintf(" (or %s=%q where a PodMonitor copies the pod label modelserving.volcano.sh/name with podTargetLabels)",
			modelServingLabel, q.Workload.ModelServing)
	}
	return ""
}

// fixIn renders the selector scoped to this object in one label family
// (exported_* or not): the namespace matcher set to the object's namespace
// (when the profile wants one, replacing every namespace matcher), the
// workload matcher added, every other matcher kept as written (respelled
// into the profile's labels), modifiers (offset, @) kept.
func fixIn(sel selector, sc scope, q Query, fam bool) fix {
	p := sc.profile
	f := fix{namespace: firstIn(p.Namespaces(), fam, p)}
	if sc.ownLabel != "" {
		f.namespace = counterpart(sc.ownLabel, fam, p)
	}
	written := make([]*labels.Matcher, 0, len(sel.vs.LabelMatchers))
	for _, m := range sel.vs.LabelMatchers {
		if m == nil || (m.Name == labels.MetricName && m.Type == labels.MatchEqual && m.Value == sel.vs.Name) {
			continue
		}
		name := respell(m.Name, fam, p)
		if podSpellings[name] && routerMetric(sel.name) && !has(p.WorkloadLabels, name) {
			// A router's series carry the router's pod name: a matcher on
			// the workload's pods selects none of them.
			f.droppedPod = true
			continue
		}
		written = append(written, &labels.Matcher{Type: m.Type, Name: name, Value: m.Value})
	}
	if !sc.workload {
		f.add = q.Workload.suggest(p, sel.name, q.Namespace, written, fam)
	}
	var ms []string
	name := sel.vs.Name
	if name != "" && !model.LegacyValidation.IsValidMetricName(name) {
		// A UTF-8 name is written quoted inside the braces.
		ms = append(ms, strconv.Quote(name))
		name = ""
	}
	if p.RequireNamespace {
		ms = append(ms, eq(f.namespace, q.Namespace).String())
	}
	for _, m := range written {
		if (p.RequireNamespace && has(p.Namespaces(), m.Name)) || (f.add != nil && m.Name == f.add.Name) {
			continue
		}
		ms = append(ms, m.String())
	}
	if f.add != nil {
		ms = append(ms, f.add.String())
	}
	// The printer renders the modifiers of a selector with no name and no
	// matchers.
	mods := *sel.vs
	mods.Name, mods.LabelMatchers = "", nil
	f.text = name + "{" + strings.Join(ms, ", ") + "}" + (&mods).String()
	return f
}

func has(ls []string, l string) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
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
