package keeper

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Results of a keeper patch, the values of the result label.
const (
	// ResultPatched: the ScaledObject is paused.
	ResultPatched = "patched"
	// ResultConflict: the object changed or went away since the cache saw
	// it; the watch event of that change brings it back.
	ResultConflict = "conflict"
	// ResultFailed: the API server refused the patch (retried with backoff).
	ResultFailed = "failed"
)

// ActionsTotal counts the keeper's patches.
var ActionsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "scaleguard_keeper_actions_total",
	Help: "Patches of the pause keeper, by action (pause: the target appeared on a GPU tier; repause: an un-pause expired) and result (patched, conflict, failed).",
}, []string{"action", "result"})

func init() {
	metrics.Registry.MustRegister(ActionsTotal)
	// Every series starts at zero, so that an alert on failures sees it.
	for _, a := range []string{"pause", "repause"} {
		for _, r := range []string{ResultPatched, ResultConflict, ResultFailed} {
			ActionsTotal.WithLabelValues(a, r)
		}
	}
}
