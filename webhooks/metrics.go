package webhooks

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/scaleguard/scaleguard/policies"
)

// FindingsTotal counts findings returned to the API server.
var FindingsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "scaleguard_findings_total",
	Help: "Findings scaleguard returned on admission, by rule, action (deny, warn, mutate) and kind.",
}, []string{"rule", "action", "kind"})

// RulePanicsTotal counts rules that crashed on an object (the object was
// refused by a deny rule's crash on the validating side, warned otherwise).
var RulePanicsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "scaleguard_rule_panics_total",
	Help: "Rules that crashed while judging an object, by rule.",
}, []string{"rule"})

func init() {
	metrics.Registry.MustRegister(FindingsTotal, RulePanicsTotal)
}

func countFindings(kind string, findings []policies.Finding) {
	for _, f := range findings {
		FindingsTotal.WithLabelValues(f.Rule, string(f.Action), kind).Inc()
	}
}
