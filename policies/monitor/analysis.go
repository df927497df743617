package monitor

import (
	"cmp"
	"slices"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/policies"
)

// podTargets is what a PodMonitor selects: the pod templates its selector
// selects (or may select) in the namespaces it looks in.
type podTargets struct {
	names     []string
	all       bool
	templates []podTemplate
}

// podTargetsKey and serviceTargetsKey memoise the resolution of the
// monitor under judgement for every rule of the family.
type (
	podTargetsKey     struct{}
	serviceTargetsKey struct{}
)

// resolvePodMonitor resolves what pm selects through the view.
func resolvePodMonitor(pm *monitoringv1.PodMonitor, in *policies.Input) podTargets {
	return in.Memo(podTargetsKey{}, func() any {
		var t podTargets
		t.names, t.all = namespaces(in.Namespace(), pm.Spec.NamespaceSelector)
		if !validSelector(&pm.Spec.Selector) {
			return t
		}
		keep := func(tmpl podTemplate) {
			if tmpl.selects(&pm.Spec.Selector) != no {
				t.templates = append(t.templates, tmpl)
			}
		}
		if t.all {
			eachCandidate(in.View, "", &pm.Spec.Selector, keep)
		}
		for _, ns := range t.names {
			eachCandidate(in.View, ns, &pm.Spec.Selector, keep)
		}
		return t
	}).(podTargets)
}

// serviceTargets is what a ServiceMonitor selects: Services, and the pod
// templates behind each.
type serviceTargets struct {
	names    []string
	all      bool
	services []*corev1.Service
	// pods are the templates each Service's selector selects (or may).
	pods map[*corev1.Service][]podTemplate
}

// resolveServiceMonitor resolves what sm selects through the view.
func resolveServiceMonitor(sm *monitoringv1.ServiceMonitor, in *policies.Input) serviceTargets {
	return in.Memo(serviceTargetsKey{}, func() any {
		t := serviceTargets{pods: map[*corev1.Service][]podTemplate{}}
		t.names, t.all = namespaces(in.Namespace(), sm.Spec.NamespaceSelector)
		if !validSelector(&sm.Spec.Selector) {
			return t
		}
		scopes := t.names
		if t.all {
			scopes = []string{""}
		}
		// Without a template-label index, each namespace's templates are
		// built once and matched against each Service's selector.
		_, indexed := in.View.(policies.TemplateLabelIndex)
		byNamespace := map[string][]podTemplate{}
		for _, ns := range scopes {
			for _, svc := range in.View.Services(ns) {
				if (labelSet{known: svc.Labels}).selects(&sm.Spec.Selector) != yes {
					continue
				}
				t.services = append(t.services, svc)
				if len(svc.Spec.Selector) == 0 {
					continue
				}
				sel := &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}
				keep := func(tmpl podTemplate) {
					if tmpl.selects(sel) != no {
						t.pods[svc] = append(t.pods[svc], tmpl)
					}
				}
				if indexed {
					eachCandidate(in.View, svc.Namespace, sel, keep)
					continue
				}
				tmpls, ok := byNamespace[svc.Namespace]
				if !ok {
					tmpls = templatesIn(in.View, svc.Namespace)
					byNamespace[svc.Namespace] = tmpls
				}
				for _, tmpl := range tmpls {
					keep(tmpl)
				}
			}
		}
		// In a stable order, for messages: a cache lists its objects in none.
		slices.SortFunc(t.services, func(a, b *corev1.Service) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
		})
		return t
	}).(serviceTargets)
}
