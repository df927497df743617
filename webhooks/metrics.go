package webhooks

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

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

// AdmissionDuration is how long scaleguard took to answer a decoded
// admission request: the wait for the view at start-up, the cache reads and
// the rules. controller_runtime_webhook_latency_seconds adds the HTTP
// exchange around it.
var AdmissionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name: "scaleguard_admission_duration_seconds",
	Help: "Time scaleguard took to answer an admission request, by webhook (endpoint path) and phase (mutate, validate).",
	// Dense below the 100 ms a webhook should stay under, up to the 5 s
	// timeout of the shipped webhook configurations.
	Buckets: []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .25, .5, 1, 2.5, 5},
}, []string{"webhook", "phase"})

// Results of an admission request, the values of the result label.
const (
	// ResultAllowed: admitted (possibly with warnings or a patch).
	ResultAllowed = "allowed"
	// ResultDenied: refused by a rule.
	ResultDenied = "denied"
	// ResultError: not judged (view not synced, undecodable object, a rule
	// that crashed); the validating side refuses, the mutating side admits
	// unmutated, as their failure policies say.
	ResultError = "error"
	// ResultAbandoned: the caller had gone (the API server's timeout passed)
	// before the answer was ready.
	ResultAbandoned = "abandoned"
)

// AdmissionRequestsTotal counts admission requests by their result.
var AdmissionRequestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "scaleguard_admission_requests_total",
	Help: "Admission requests scaleguard answered, by webhook (endpoint path), phase (mutate, validate) and result (allowed, denied, error, abandoned).",
}, []string{"webhook", "phase", "result"})

// DenialsTotal counts denied requests per namespace: dry runs (Argo CD's
// Server-Side Diff, kubectl --dry-run=server) apart from real writes, since
// a diff repeats on every refresh.
var DenialsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "scaleguard_denials_total",
	Help: "Admission requests scaleguard denied, by namespace, kind and dry_run (true for server-side dry runs).",
}, []string{"namespace", "kind", "dry_run"})

func init() {
	metrics.Registry.MustRegister(FindingsTotal, RulePanicsTotal, AdmissionDuration, AdmissionRequestsTotal, DenialsTotal)
}

func countFindings(kind string, findings []policies.Finding) {
	for _, f := range findings {
		FindingsTotal.WithLabelValues(f.Rule, string(f.Action), kind).Inc()
	}
}

// observe wraps an endpoint's reviewer to time and count its answers. The
// endpoint's series start at zero, so that rates and alerts see them
// before the first request.
func observe(e Endpoint, next reviewer) reviewer {
	for _, r := range []string{ResultAllowed, ResultDenied, ResultError, ResultAbandoned} {
		AdmissionRequestsTotal.WithLabelValues(e.Path, string(e.Phase), r)
	}
	AdmissionDuration.WithLabelValues(e.Path, string(e.Phase))
	return observed{next: next, endpoint: e}
}

// observed times and counts the answers of an endpoint's reviewer.
type observed struct {
	next     reviewer
	endpoint Endpoint
}

func (o observed) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	resp := o.next.Handle(ctx, req)
	AdmissionDuration.WithLabelValues(o.endpoint.Path, string(o.endpoint.Phase)).Observe(time.Since(start).Seconds())
	result := resultOf(ctx, resp)
	AdmissionRequestsTotal.WithLabelValues(o.endpoint.Path, string(o.endpoint.Phase), result).Inc()
	if result == ResultDenied {
		DenialsTotal.WithLabelValues(req.Namespace, o.endpoint.Kind.GVK.Kind, strconv.FormatBool(req.DryRun != nil && *req.DryRun)).Inc()
	}
	return resp
}

// notMutatedPrefix starts the warning of a mutating endpoint that failed
// open (Handler.fail).
const notMutatedPrefix = "[scaleguard] not mutated: "

func resultOf(ctx context.Context, resp admission.Response) string {
	if err := ctx.Err(); err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ResultAbandoned
	}
	if resp.Allowed {
		for _, w := range resp.Warnings {
			if strings.HasPrefix(w, notMutatedPrefix) {
				return ResultError
			}
		}
		return ResultAllowed
	}
	// A rule's denial is an Invalid status (422) listing the causes; every
	// other refusal is the request failing to be judged.
	if resp.Result != nil && resp.Result.Code == http.StatusUnprocessableEntity {
		return ResultDenied
	}
	return ResultError
}
