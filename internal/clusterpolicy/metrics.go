package clusterpolicy

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// RefusedPolicies is 1 for a policy whose newest generation does not parse
// or validate (its last good generation, if any, stays in force), 0 for a
// policy in force as written.
var RefusedPolicies = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "scaleguard_policy_refused",
	Help: "1 when the newest generation of a ScaleGuardPolicy is refused and its last good generation (if any) stays in force, 0 when it is in force as written.",
}, []string{"policy"})

func init() {
	metrics.Registry.MustRegister(RefusedPolicies)
}
