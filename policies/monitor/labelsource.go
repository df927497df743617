package monitor

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/promql"
)

// invalidLabelChar is what prometheus-operator replaces with "_" to make
// a Kubernetes label key a Prometheus label name (sanitizeLabelName).
var invalidLabelChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)

func sanitize(key string) string { return invalidLabelChar.ReplaceAllString(key, "_") }

// alwaysProduced are the target labels every PodMonitor and ServiceMonitor
// endpoint gives its series (instance by Prometheus itself).
var alwaysProduced = []string{"namespace", "pod", "container", "job", "instance"}

// scraper is one monitor that selects the target's pods, with the labels
// its endpoints give their series.
type scraper struct {
	kind, namespace, name string
	// produces are the label names one of its endpoints gives its series
	// beside alwaysProduced.
	produces map[string]bool
	// anything is true when a relabeling may write any label (labelmap, or
	// a target label made of capture groups).
	anything bool
}

// scrapersOf lists the monitors that select the pods of the templates.
func scrapersOf(ts []podTemplate, ns string, view policies.ClusterView) []scraper {
	var out []scraper
	for _, pm := range view.PodMonitors("") {
		names, all := namespaces(pm.Namespace, pm.Spec.NamespaceSelector)
		if (!all && !contains(names, ns)) || !validSelector(&pm.Spec.Selector) {
			continue
		}
		if !anyTemplate(ts, func(t podTemplate) bool { return t.selects(&pm.Spec.Selector) != no }) {
			continue
		}
		s := scraper{kind: "PodMonitor", namespace: pm.Namespace, name: pm.Name, produces: map[string]bool{}}
		for _, l := range pm.Spec.PodTargetLabels {
			s.produces[sanitize(l)] = true
		}
		for _, ep := range pm.Spec.PodMetricsEndpoints {
			if (ep.Port != nil && *ep.Port != "") || (ep.TargetPort != nil && ep.TargetPort.String() != "") {
				s.produces["endpoint"] = true
			}
			s.relabeled(ep.RelabelConfigs, ep.MetricRelabelConfigs)
		}
		out = append(out, s)
	}
	for _, sm := range view.ServiceMonitors("") {
		names, all := namespaces(sm.Namespace, sm.Spec.NamespaceSelector)
		if (!all && !contains(names, ns)) || !validSelector(&sm.Spec.Selector) {
			continue
		}
		selects := false
		for _, svc := range view.Services(ns) {
			if (labelSet{known: svc.Labels}).selects(&sm.Spec.Selector) == yes &&
				anyTemplate(ts, func(t podTemplate) bool { return t.selectsMap(svc.Spec.Selector) != no }) {
				selects = true
				break
			}
		}
		if !selects {
			continue
		}
		s := scraper{kind: "ServiceMonitor", namespace: sm.Namespace, name: sm.Name,
			produces: map[string]bool{"service": true}}
		for _, l := range append(append([]string{}, sm.Spec.PodTargetLabels...), sm.Spec.TargetLabels...) {
			s.produces[sanitize(l)] = true
		}
		for _, ep := range sm.Spec.Endpoints {
			if ep.Port != "" || (ep.TargetPort != nil && ep.TargetPort.String() != "") {
				s.produces["endpoint"] = true
			}
			s.relabeled(ep.RelabelConfigs, ep.MetricRelabelConfigs)
		}
		out = append(out, s)
	}
	return out
}

// relabeled adds the labels relabelings write.
func (s *scraper) relabeled(lists ...[]monitoringv1.RelabelConfig) {
	for _, rcs := range lists {
		for _, rc := range rcs {
			switch strings.ToLower(rc.Action) {
			case "labelmap":
				s.anything = true
			case "", "replace", "lowercase", "uppercase", "hashmod":
				if rc.TargetLabel != "" && !strings.Contains(rc.TargetLabel, "$") {
					s.produces[rc.TargetLabel] = true
				} else if rc.TargetLabel != "" {
					s.anything = true
				}
			}
		}
	}
}

func contains(ls []string, s string) bool {
	for _, l := range ls {
		if l == s {
			return true
		}
	}
	return false
}

// promQL parses queries the way KEDA's Prometheus would accept them, each
// distinct query once per process (promql.ParseCache); queries beyond the
// settings' limits are never parsed (promql-invalid refuses them).
var promQL = promql.NewParseCache(parser.NewParser(parser.Options{EnableExperimentalFunctions: true}), 1024, 16<<10)

// checkLabelSource is promql-label-source: a ScaledObject's query filters
// on a label that a monitor would give the target's series, but none of
// the monitors selecting the target's pods does.
func checkLabelSource(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
	ref, ok := policies.KEDATarget(so)
	if !ok || ref.Name == "" {
		return nil
	}
	ref.Namespace = in.Namespace()
	ts, ok := templatesOf(in.View, ref)
	if !ok {
		return nil
	}
	scrapers := scrapersOf(ts, ref.Namespace, in.View)
	if len(scrapers) == 0 {
		return nil
	}
	for _, s := range scrapers {
		if s.anything {
			return nil
		}
	}
	// Labels a monitor could give these series: pod labels (podTargetLabels),
	// Service labels (targetLabels), service and endpoint.
	fromPod := map[string]string{}
	for _, t := range ts {
		for _, k := range t.keys() {
			if _, dup := fromPod[sanitize(k)]; !dup {
				fromPod[sanitize(k)] = k
			}
		}
	}
	var out []policies.Finding
	for i, trig := range so.Spec.Triggers {
		if trig.Type != "prometheus" {
			continue
		}
		query := strings.TrimSpace(trig.Metadata["query"])
		if !promql.WithinBounds(query, in.Settings.Limits) {
			continue // promql-invalid refuses it unparsed
		}
		expr, err := promQL.Parse(query)
		if err != nil {
			continue // promql-invalid says so
		}
		path := field.NewPath("spec", "triggers").Index(i).Child("metadata", "query")
		reported := map[string]bool{}
		for _, vs := range vectorSelectors(expr) {
			metric := selectorName(vs)
			// A metric of a shared component (a router, an exporter) comes
			// from that component's pods, not the target's.
			if metric == "" || in.Settings.PromQL.ProfileFor(metric).MetricPrefix != "" {
				continue
			}
			for _, m := range vs.LabelMatchers {
				l := m.Name
				if l == labels.MetricName || reported[l] || contains(alwaysProduced, l) || m.Matches("") {
					continue
				}
				podKey, isPod := fromPod[l]
				if !isPod && l != "service" && l != "endpoint" {
					continue // the metric's own label, as far as scaleguard knows
				}
				if producedBy(scrapers, l) {
					continue
				}
				reported[l] = true
				out = append(out, policies.Warnf(path, "`%s` filters on %s, which none of the monitors scraping the pods of %s (%s) gives its series, so the query matches nothing and the autoscaler reads no value; %s",
					written(query, vs), l, fmt.Sprintf("%s %q", ref.Kind, ref.Name), scraperList(scrapers), labelFix(l, podKey, isPod, scrapers)))
			}
		}
	}
	return out
}

func producedBy(ss []scraper, l string) bool {
	for _, s := range ss {
		if s.produces[l] {
			return true
		}
	}
	return false
}

func scraperList(ss []scraper) string {
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%s %q", s.kind, s.name))
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// labelFix says what to add so that a monitor produces l.
func labelFix(l, podKey string, isPod bool, ss []scraper) string {
	first := ss[0]
	switch {
	case isPod:
		return fmt.Sprintf("add podTargetLabels: [%s] to %s %q (or a relabeling with targetLabel: %s), or filter on pod instead",
			podKey, first.kind, first.name, l)
	case l == "service":
		return "only a ServiceMonitor gives series a service label: filter on pod or namespace, or scrape the pods through a ServiceMonitor"
	default: // endpoint
		return "an endpoint that selects its port by portNumber gives no endpoint label: filter on pod, or select the port by name (port)"
	}
}

// vectorSelectors lists every vector selector of expr.
func vectorSelectors(expr parser.Expr) []*parser.VectorSelector {
	var out []*parser.VectorSelector
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && !vs.BypassEmptyMatcherCheck {
			out = append(out, vs)
		}
		return nil
	})
	return out
}

// written is a selector as the query spells it.
func written(query string, vs *parser.VectorSelector) string {
	r := vs.PositionRange()
	if start, end := int(r.Start), int(r.End); start >= 0 && end <= len(query) && start < end {
		return query[start:end]
	}
	return vs.String()
}

// selectorName is a selector's literal metric name, "" when a regex
// gives it.
func selectorName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}
