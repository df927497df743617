package audit

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/scaleguard/scaleguard/policies"
)

// Trigger starts a scan on demand. The ScaleGuardPolicy controller calls
// it on every policy change; calls while a scan runs coalesce into one
// more scan after it.
type Trigger interface {
	Trigger(reason string)
}

// CountSink receives the per-rule counts of each scan. The
// ScaleGuardPolicy controller implements it to write each policy's status
// from the namespaces the policy covers (Counts.Sum).
type CountSink interface {
	RecordCounts(ctx context.Context, c Counts)
}

// ActionCounts counts findings by action.
type ActionCounts struct {
	Deny   int `json:"deny"`
	Warn   int `json:"warn"`
	Mutate int `json:"mutate"`
}

func (a *ActionCounts) add(act policies.Action, n int) {
	switch act {
	case policies.Deny:
		a.Deny += n
	case policies.Warn:
		a.Warn += n
	case policies.Mutate:
		a.Mutate += n
	}
}

// Counts are the findings of one scan by namespace and rule.
type Counts struct {
	// Time is when the scan started.
	Time time.Time
	// Objects counts the objects judged.
	Objects int
	// ByNamespace maps namespace → rule ID → counts.
	ByNamespace map[string]map[string]ActionCounts
}

// CountsOf tallies a scan.
func CountsOf(res *Result) Counts {
	c := Counts{Time: res.Time, Objects: len(res.Verdicts), ByNamespace: map[string]map[string]ActionCounts{}}
	for _, v := range res.Verdicts {
		for _, f := range v.Findings {
			rules := c.ByNamespace[v.Ref.Namespace]
			if rules == nil {
				rules = map[string]ActionCounts{}
				c.ByNamespace[v.Ref.Namespace] = rules
			}
			ac := rules[f.Rule]
			ac.add(f.Action, 1)
			rules[f.Rule] = ac
		}
	}
	return c
}

// Sum adds the counts of the namespaces covers accepts, by rule.
func (c Counts) Sum(covers func(namespace string) bool) map[string]ActionCounts {
	out := map[string]ActionCounts{}
	for ns, rules := range c.ByNamespace {
		if covers != nil && !covers(ns) {
			continue
		}
		for rule, ac := range rules {
			sum := out[rule]
			sum.Deny += ac.Deny
			sum.Warn += ac.Warn
			sum.Mutate += ac.Mutate
			out[rule] = sum
		}
	}
	return out
}

// Metrics of the audit.
var (
	// FindingsGauge is the number of findings of the last scan.
	FindingsGauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "scaleguard_audit_findings",
		Help: "Findings of the last audit scan of stored objects, by rule, action (deny, warn, mutate) and namespace.",
	}, []string{"rule", "action", "namespace"})
	// LastScanGauge is when the last scan finished.
	LastScanGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "scaleguard_audit_last_scan_timestamp_seconds",
		Help: "Unix time at which the last audit scan finished.",
	})
	// ObjectsJudged counts the objects scans judged (it moves during a
	// scan, so a slow scan shows its progress).
	ObjectsJudged = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "scaleguard_audit_objects_judged_total",
		Help: "Objects judged by audit scans.",
	})
	// ScanDuration is how long scans take.
	ScanDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "scaleguard_audit_scan_duration_seconds",
		Help:    "Duration of audit scans, including the waits for admission requests.",
		Buckets: prometheus.ExponentialBuckets(0.01, 4, 8),
	})
)

func init() {
	metrics.Registry.MustRegister(FindingsGauge, LastScanGauge, ObjectsJudged, ScanDuration)
}

// metricKey is one series of FindingsGauge.
type metricKey struct{ rule, action, namespace string }

// setMetrics sets FindingsGauge to a scan's counts and removes the series
// of the previous scan that this one has not, so the gauge holds one
// scan's findings and its series do not accumulate.
func setMetrics(c Counts, previous map[metricKey]bool) map[metricKey]bool {
	now := map[metricKey]bool{}
	for ns, rules := range c.ByNamespace {
		for rule, ac := range rules {
			for act, n := range map[policies.Action]int{policies.Deny: ac.Deny, policies.Warn: ac.Warn, policies.Mutate: ac.Mutate} {
				if n == 0 {
					continue
				}
				k := metricKey{rule, string(act), ns}
				now[k] = true
				FindingsGauge.WithLabelValues(k.rule, k.action, k.namespace).Set(float64(n))
			}
		}
	}
	for k := range previous {
		if !now[k] {
			FindingsGauge.DeleteLabelValues(k.rule, k.action, k.namespace)
		}
	}
	return now
}
