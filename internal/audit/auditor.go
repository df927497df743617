package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// DefaultInterval is the period of serve's audit.
const DefaultInterval = 10 * time.Minute

// Auditor is serve's audit: a leader-elected runnable that scans at start,
// every Interval and on Trigger.
type Auditor struct {
	// Scanner judges.
	Scanner *Scanner
	// Source lists the stored guarded objects (the informer cache).
	Source Source
	// View is the cluster the rules see; scans wait for it to sync.
	View webhooks.View
	// Settings are read at the start of each scan (the same source as the
	// webhooks').
	Settings webhooks.SettingsSource
	// LiveCheck, when set, makes the live check of a scan use the
	// Prometheus address of that scan's settings (prometheus.address);
	// Scanner.Live is replaced at each scan.
	LiveCheck func(address string) *LiveCheck
	// Reports writes the reports; nil writes none.
	Reports *ReportWriter
	// Recorder records Events on objects whose verdict changed; nil records
	// none.
	Recorder events.EventRecorder
	// Sink receives the counts of each scan; nil sends them nowhere.
	Sink CountSink
	// Interval is the period; DefaultInterval when zero.
	Interval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log logr.Logger

	triggerOnce sync.Once
	trigger     chan string
	// before is the verdict of each object at the last scan (nil until a
	// first scan or reports set a baseline).
	before map[types.UID]string
	// series are the FindingsGauge series the last scan set.
	series map[metricKey]bool
	// prometheusDown remembers that Prometheus was unreachable, so that is
	// logged once, not at every scan.
	prometheusDown bool
}

var _ Trigger = &Auditor{}

// NeedLeaderElection is true: one replica audits and writes reports.
func (a *Auditor) NeedLeaderElection() bool { return true }

// Trigger asks for a scan soon. It never blocks: a trigger while one is
// pending is the same scan.
func (a *Auditor) Trigger(reason string) {
	select {
	case a.triggers() <- reason:
	default:
	}
}

func (a *Auditor) triggers() chan string {
	a.triggerOnce.Do(func() { a.trigger = make(chan string, 1) })
	return a.trigger
}

// Start scans until ctx ends. A failed scan is logged and retried at the
// next period or trigger; it never stops the manager.
func (a *Auditor) Start(ctx context.Context) error {
	interval := a.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	trig := a.triggers()
	if !a.View.WaitForSync(ctx) {
		return nil
	}
	// A trigger from before the first scan (a policy change seen while
	// another replica led, or while the caches synced) is that scan.
	select {
	case <-trig:
	default:
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	reason := "start"
	for {
		if err := a.ScanOnce(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error(err, "audit scan failed", "reason", reason)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			reason = "period"
		case reason = <-trig:
		}
	}
}

// ScanOnce runs one scan and publishes it: reports, metrics, Events and
// counts. The scan's memory is released when it returns; what is kept
// between scans is one verdict key per object and one gauge series per
// (rule, action, namespace).
func (a *Auditor) ScanOnce(ctx context.Context) error {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	start := now()
	settings := a.Settings.Settings()
	if a.LiveCheck != nil {
		a.Scanner.Live = nil
		if addr := settings.Prometheus.Address; addr != "" {
			a.Scanner.Live = a.LiveCheck(addr)
		}
	}
	res, err := a.Scanner.Scan(ctx, a.Source, a.View, settings, start)
	if err != nil {
		return err
	}
	a.logNotes(res)

	counts := CountsOf(res)
	a.series = setMetrics(counts, a.series)

	var errs []error
	if a.Reports != nil {
		if a.before == nil {
			a.before = a.seed(ctx)
		}
		kind, err := a.Reports.Write(ctx, BuildReports(res))
		if err != nil {
			errs = append(errs, fmt.Errorf("writing reports: %w", err))
		}
		a.Log.V(1).Info("reports written", "kind", kind.Kind)
	}
	if a.Recorder != nil && a.before != nil {
		if n := recordChanges(a.Recorder, res, a.before); n > 0 {
			a.Log.Info("audit verdicts changed", "objects", n)
		}
	}
	a.before = verdicts(res)
	if a.Sink != nil {
		a.Sink.RecordCounts(ctx, counts)
	}

	LastScanGauge.Set(float64(now().Unix()))
	ScanDuration.Observe(now().Sub(start).Seconds())
	a.Log.Info("audit scan done", "objects", len(res.Verdicts), "denied", denied(res), "took", now().Sub(start).Round(time.Millisecond))
	return errors.Join(errs...)
}

// seed reads the previous verdicts from the audit's existing reports, or
// returns nil when there are none to read (no report kind served), so the
// first scan sets the baseline without Events.
func (a *Auditor) seed(ctx context.Context) map[types.UID]string {
	kind, served := a.Reports.Served()
	if len(served) == 0 {
		return nil
	}
	existing, err := a.Reports.existing(ctx, kind)
	if err != nil {
		a.Log.Error(err, "reading the previous reports; the first scan records no Events")
		return nil
	}
	reports := make([]*unstructured.Unstructured, 0, len(existing))
	for _, r := range existing {
		reports = append(reports, r)
	}
	return verdictsFromReports(reports)
}

func (a *Auditor) logNotes(res *Result) {
	down := false
	for _, n := range res.Notes {
		if n.Ref == nil {
			down = true
			if !a.prometheusDown {
				a.Log.Info(n.Message)
			}
		}
	}
	if a.prometheusDown && !down && a.Scanner.Live != nil {
		a.Log.Info("the live query check reaches Prometheus again")
	}
	a.prometheusDown = down
}

func denied(res *Result) int {
	n := 0
	for _, v := range res.Verdicts {
		for _, f := range v.Findings {
			if f.Action == policies.Deny {
				n++
				break
			}
		}
	}
	return n
}
