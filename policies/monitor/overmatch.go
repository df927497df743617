package monitor

import (
	"fmt"
	"sort"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// checkOvermatch is monitor-selector-overmatch: a ServiceMonitor whose
// endpoints select Service ports by name, and whose selector also matches
// Services without any of those ports. Prometheus discovers the extra
// Services' endpoints only to drop them; with a label that every Service
// with the port carries and none without it, the selector is narrowed to
// it, otherwise the extra Services are named.
func checkOvermatch(sm *monitoringv1.ServiceMonitor, in *policies.Input) []policies.Finding {
	var ports []string
	for _, ep := range sm.Spec.Endpoints {
		if ep.Port == "" {
			// An endpoint selecting by container port (or not at all) may
			// scrape any of the Services.
			return nil
		}
		ports = append(ports, ep.Port)
	}
	if len(ports) == 0 {
		return nil
	}
	t := resolveServiceMonitor(sm, in)
	if anyHandManaged(t.services) {
		return nil
	}
	var with, without []*corev1.Service
	for _, svc := range t.services {
		if servesAny(svc, ports) {
			with = append(with, svc)
		} else {
			without = append(without, svc)
		}
	}
	if len(with) == 0 || len(without) == 0 {
		// Nothing selected has the port: monitor-port's finding.
		return nil
	}
	path := field.NewPath("spec", "selector")
	var extra []string
	for _, s := range without {
		extra = append(extra, namespaced(s, in.Namespace()))
	}
	verb, their := "have", "their"
	if len(extra) == 1 {
		verb, their = "has", "its"
	}
	found := fmt.Sprintf("%s also matches %s, which %s no port %s, so Prometheus discovers %s endpoints only to drop them",
		describeSelector(&sm.Spec.Selector), servicesList(extra), verb, orList(ports), their)
	key, value, ok := distinguishing(with, without, sm.Spec.Selector.MatchLabels)
	if !ok {
		var kept []string
		for _, s := range with {
			kept = append(kept, namespaced(s, in.Namespace()))
		}
		return []policies.Finding{policies.Warnf(path,
			"%s, and no label tells them from %s; give the Service that serves metrics a label of its own and select it", found, servicesList(kept))}
	}
	var op jsonpatch.Operation
	if sm.Spec.Selector.MatchLabels == nil {
		op = jsonpatch.NewOperation("add", "/spec/selector/matchLabels", map[string]string{key: value})
	} else {
		op = jsonpatch.NewOperation("add", "/spec/selector/matchLabels/"+pointerEscape(key), value)
	}
	return []policies.Finding{policies.Mutatef(path.Child("matchLabels"), []jsonpatch.Operation{op},
		"%s; narrowed with %s: %s, which every Service with the port carries and none without it", found, key, value)}
}

// servesAny reports whether a Service has a port whose name one of the
// endpoints' port patterns matches.
func servesAny(svc *corev1.Service, ports []string) bool {
	for _, name := range ports {
		matches := nameMatcher(name)
		for _, p := range svc.Spec.Ports {
			if p.Name != "" && matches(p.Name) {
				return true
			}
		}
	}
	return false
}

// distinguishing finds a label every Service of with carries with one
// value, and no Service of without carries with that value; the first by
// key. A key the selector already matches on cannot tell them apart.
func distinguishing(with, without []*corev1.Service, matchLabels map[string]string) (string, string, bool) {
	keys := make([]string, 0, len(with[0].Labels))
	for k := range with[0].Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
next:
	for _, k := range keys {
		if _, used := matchLabels[k]; used {
			continue
		}
		v := with[0].Labels[k]
		for _, s := range with[1:] {
			if got, ok := s.Labels[k]; !ok || got != v {
				continue next
			}
		}
		for _, s := range without {
			if s.Labels[k] == v {
				continue next
			}
		}
		return k, v, true
	}
	return "", "", false
}

// pointerEscape escapes a JSON pointer token (RFC 6901).
func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// namespaced names a Service, with its namespace when it is not own.
func namespaced(s *corev1.Service, own string) string {
	if s.Namespace == own {
		return s.Name
	}
	return s.Namespace + "/" + s.Name
}

func servicesList(names []string) string {
	if len(names) == 1 {
		return "Service " + quotedList(names)
	}
	return "Services " + quotedList(names)
}

// orList renders names as "a" or "b".
func orList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, " or ")
}
