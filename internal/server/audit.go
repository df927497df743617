package server

import (
	"context"
	"net/http"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// gatedRegistrar registers webhook handlers whose requests the audit's
// Gate counts.
type gatedRegistrar struct {
	next webhooks.Registrar
	gate *audit.Gate
}

func (r gatedRegistrar) Register(path string, h http.Handler) { r.next.Register(path, r.gate.Wrap(h)) }

// countSinks hands a scan's counts to each of its sinks.
type countSinks []audit.CountSink

func (s countSinks) RecordCounts(ctx context.Context, c audit.Counts) {
	for _, sink := range s {
		sink.RecordCounts(ctx, c)
	}
}

// sink is nil when there is none, else s.
func (s countSinks) sink() audit.CountSink {
	if len(s) == 0 {
		return nil
	}
	return s
}

// setupAudit adds the audit runnable: it reads stored objects from the
// informer cache, the settings from the webhooks' source, writes reports
// through the manager's client, and records Events.
func setupAudit(mgr manager.Manager, view *clusterview.Cache, engine *policies.Engine, settings webhooks.SettingsSource,
	gate *audit.Gate, sink audit.CountSink, o Options, log logr.Logger) (*audit.Auditor, error) {
	a := &audit.Auditor{
		Scanner: &audit.Scanner{Engine: engine, Excluded: o.ExcludedNamespaces, Gate: gate},
		Source:  audit.CacheSource{Reader: mgr.GetCache(), Served: view.IsServed},
		View:    view,
		// Settings are the webhooks' own: a scan judges as admission would.
		Settings: settings,
		LiveCheck: func(address string) *audit.LiveCheck {
			// TriggerAuthentications and their Secrets are read from the
			// API server when a trigger names one: they are not cached.
			return &audit.LiveCheck{Address: address, Auth: mgr.GetAPIReader()}
		},
		Reports:  &audit.ReportWriter{Client: mgr.GetClient(), Mapper: mgr.GetRESTMapper(), Log: log.WithName("reports")},
		Recorder: mgr.GetEventRecorder("scaleguard-audit"),
		Sink:     sink,
		Interval: o.AuditInterval,
		Log:      log.WithName("audit"),
	}
	if ns, ok := settings.(webhooks.NamespacedSettings); ok {
		a.Scanner.SettingsFor = ns.SettingsFor
	}
	return a, mgr.Add(a)
}
