// Package server builds `scaleguard serve`: a controller-runtime manager
// with the admission webhooks, the informer-backed ClusterView, metrics and
// health endpoints.
package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/keeper"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// Options configure serve.
type Options struct {
	// CertDir holds tls.crt and tls.key for the webhook server.
	CertDir string
	// Host and Port the webhook server listens on.
	Host string
	Port int
	// MetricsAddr serves /metrics ("0" disables it).
	MetricsAddr string
	// ProbeAddr serves /healthz and /readyz ("0" disables them).
	ProbeAddr string
	// Settings apply in namespaces no ScaleGuardPolicy covers; nil means
	// the defaults.
	Settings *policies.Settings
	// Registry holds the rules; nil means policies.Default.
	Registry *policies.Registry
	// GracefulShutdown bounds how long in-flight requests may finish.
	GracefulShutdown time.Duration

	// PauseKeeper runs the pause keeper, the controller that re-pauses
	// GPU-tier ScaledObjects (see package keeper). serve enables it.
	PauseKeeper bool
	// PolicyStatus runs the controller that writes the status of
	// ScaleGuardPolicies (clusterpolicy.StatusController). serve enables it.
	PolicyStatus bool
	// LeaderElection makes the pause keeper and the policy status
	// controller run in one replica at a time, elected through a Lease; the
	// webhooks serve in every replica.
	LeaderElection bool
	// LeaderElectionNamespace holds the Lease; empty means the namespace
	// scaleguard runs in (in a cluster).
	LeaderElectionNamespace string
	// LeaderElectionID names the Lease; DefaultLeaderElectionID when empty.
	LeaderElectionID string

	// ClaimTTL bounds how long a ScaledObject or HPA this process admitted
	// for CREATE counts against other creates while the informer cache has
	// not delivered it yet; 0 means DefaultClaimTTL, negative disables
	// claims. BENCHMARKS.md measures what claims catch.
	ClaimTTL time.Duration
	// ReadThrough judges CREATEs against lists read from the API server
	// rather than the cache. Off by default: BENCHMARKS.md measures its
	// cost and finds nothing it catches that the cache and claims miss.
	ReadThrough bool

	// MaxInFlight caps the reviews judged at once; beyond it a review
	// waits a second for a slot, then is refused with 429 Too Many
	// Requests. 0 means webhooks.DefaultMaxInFlight.
	MaxInFlight int
	// SettingsSource, when set, yields the settings of every request and
	// audit scan instead of the cluster's ScaleGuardPolicies over Settings
	// (a source that changes without a restart).
	SettingsSource webhooks.SettingsSource
	// Audit runs the audit (package audit): a leader-elected scan of every
	// stored guarded object at start, every AuditInterval and on demand
	// (Server.Audit.Trigger). serve enables it.
	Audit bool
	// AuditInterval is the audit's period; audit.DefaultInterval when zero.
	AuditInterval time.Duration
	// AuditSink receives the per-rule counts of each scan; nil sends them
	// nowhere (metrics and reports still have them).
	AuditSink audit.CountSink

	// CacheTransform replaces clusterview.Transform as the informer
	// cache's transform; nil means clusterview.Transform. The memory
	// benchmark (test/integration/bench) measures the cache with and
	// without it.
	CacheTransform toolscache.TransformFunc
	// InstallOptions are how serve runs in a cluster (install.go).
	InstallOptions
}

// ExcludedNamespaces are never judged by the webhooks (their configurations'
// namespaceSelector in config/webhook, generated from this list) nor
// touched by the pause keeper or the audit; by default, unless
// InstallOptions.ExcludedNamespaces says otherwise. Namespaces labelled
// apis.IgnoreLabel: "true" are left alone too.
var ExcludedNamespaces = []string{DefaultNamespace, "kube-system"}

// The pause keeper, the audit and the certificate rotator run in one
// replica at a time, elected through a Lease in scaleguard's namespace;
// the election records an Event there when a replica takes the Lease.
//
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=scaleguard-system,resources=leases,verbs=get;create;update
// +kubebuilder:rbac:groups="",namespace=scaleguard-system,resources=events,verbs=create

// DefaultLeaderElectionID is the name of the pause keeper's Lease.
const DefaultLeaderElectionID = "scaleguard-pause-keeper"

// DefaultClaimTTL is the longest a claim lives when the cache never
// delivers its object (the API server refused it after admission).
const DefaultClaimTTL = 5 * time.Second

// Server is a configured, not yet started, serve.
type Server struct {
	Manager manager.Manager
	View    *clusterview.Cache
	// Audit is the audit runnable when Options.Audit is set: its Trigger
	// starts a scan on demand.
	Audit *audit.Auditor
	// Certificate is the serving certificate: its readiness, its source.
	Certificate *certs.Serving
	// Policies are the cluster's ScaleGuardPolicies, as the webhooks, the
	// pause keeper and the audit read them.
	Policies *clusterpolicy.Store
	// Webhooks is the webhook server scaleguard's handlers are mounted on
	// (not the manager's default one, which GetWebhookServer would create).
	Webhooks webhook.Server

	drain *drain
}

// WaitSeen waits until what serve reads holds an object just written: the
// cache view, or the policies for a ScaleGuardPolicy.
func (s *Server) WaitSeen(ctx context.Context, gvk schema.GroupVersionKind, namespace, name, resourceVersion string) bool {
	if gvk == clusterpolicy.GVK {
		return s.Policies.WaitSeen(ctx, name, resourceVersion)
	}
	return s.View.WaitSeen(ctx, gvk, namespace, name, resourceVersion)
}

// Drain starts a graceful exit: /readyz fails at once, so that the replica
// leaves the Service's endpoints, while the webhooks keep answering (each
// response closes its connection). Stopping the manager afterwards then
// finishes the requests in flight.
func (s *Server) Drain() { s.drain.on.Store(true) }

// StopWebhooks stops the webhook server and waits up to timeout for it to
// answer the requests in flight; stop the manager after it, so that those
// requests never read a stopped cache. It reports whether they finished.
func (s *Server) StopWebhooks(timeout time.Duration) bool { return s.drain.stopWebhooks(timeout) }

// New builds the manager, the cache view and the webhooks.
func New(ctx context.Context, cfg *rest.Config, o Options, log logr.Logger) (*Server, error) {
	o.InstallOptions.defaults()
	reg := o.Registry
	if reg == nil {
		reg = policies.Default
	}
	settings := o.Settings
	if settings == nil {
		settings = policies.DefaultSettings()
	}
	if err := policies.ValidateSettings(settings, reg); err != nil {
		return nil, err
	}
	shutdown := o.GracefulShutdown
	if shutdown == 0 {
		shutdown = 15 * time.Second
	}
	electionID := o.LeaderElectionID
	if electionID == "" {
		electionID = DefaultLeaderElectionID
	}

	transform := o.CacheTransform
	if transform == nil {
		transform = clusterview.Transform
	}
	mgr, err := manager.New(cfg, manager.Options{
		Scheme: apis.Scheme,
		Logger: log,
		Cache: cache.Options{
			DefaultTransform:            transform,
			ReaderFailOnMissingInformer: true,
		},
		Metrics:                 metricsOptions(o),
		HealthProbeBindAddress:  o.ProbeAddr,
		GracefulShutdownTimeout: &shutdown,
		LeaderElection:          o.LeaderElection && (o.PauseKeeper || o.Audit || o.PolicyStatus),
		LeaderElectionID:        electionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// A replica that stops hands the Lease over at once.
		LeaderElectionReleaseOnCancel: true,
		Controller:                    config.Controller{SkipNameValidation: &o.SkipControllerNameValidation},
	})
	if err != nil {
		return nil, fmt.Errorf("building the manager: %w", err)
	}
	srv := &Server{drain: newDrain()}
	webhookServer, serving, err := setupWebhookServer(mgr, o, srv.drain, log)
	if err != nil {
		return nil, err
	}
	srv.Webhooks = webhookServer
	srv.Certificate = serving

	view, err := clusterview.NewCache(ctx, mgr.GetCache(), mgr.GetRESTMapper(), mgr.GetClient().GroupVersionKindFor, log.WithName("view"))
	if err != nil {
		return nil, err
	}
	if err := view.WatchPodMonitorSchema(ctx, cfg, mgr.Add); err != nil {
		return nil, err
	}
	claimTTL := o.ClaimTTL
	if claimTTL == 0 {
		claimTTL = DefaultClaimTTL
	}
	if claimTTL > 0 {
		if err := view.EnableClaims(ctx, claimTTL); err != nil {
			return nil, err
		}
		// A denial resting on the claim of a create the API server
		// refused after admitting it asks the API server (the one API
		// call on the request path, and only then).
		view.CheckClaimsWith(mgr.GetAPIReader())
	}
	if o.ReadThrough {
		view.EnableReadThrough(mgr.GetAPIReader())
	}
	registerCollectors(view.Collector(), certs.ExpiryCollector(o.CertDir))
	store, err := clusterpolicy.NewStore(ctx, mgr.GetCache(), mgr.GetRESTMapper(), reg, settings, view.Namespace, log.WithName("policy"))
	if err != nil {
		return nil, err
	}
	engine := policies.NewEngine(reg)
	engine.OnPanic = func(rule string, r any, stack []byte) {
		webhooks.RulePanicsTotal.WithLabelValues(rule).Inc()
		log.Error(fmt.Errorf("%v", r), "rule panicked on an object", "rule", rule, "stack", string(stack))
	}
	for _, r := range reg.Rules() {
		// Each rule's series starts at zero, so that an alert sees it.
		webhooks.RulePanicsTotal.WithLabelValues(r.ID)
	}
	// The cluster's ScaleGuardPolicies, over settings where none applies.
	var source webhooks.SettingsSource = store
	if o.SettingsSource != nil {
		source = o.SettingsSource
	}
	// The audit's scans wait for the requests counted through gate.
	gate := &audit.Gate{}
	webhooks.Register(gatedRegistrar{drainRegistrar{webhookServer, srv.drain}, gate}, webhooks.Deps{
		Engine:   engine,
		View:     view,
		Settings: source,
		Log:      log.WithName("webhook"),
		// The webhook server is controller-runtime's: it bounds a
		// request's headers (32s) and idle connections (90s); the
		// handlers bound the body and the judgement by the review's
		// deadline, and the reviews judged at once by MaxInFlight.
		MaxInFlight: o.MaxInFlight,
	})

	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	// ScaleGuardPolicy is scaleguard's own CRD, installed with it: when it
	// comes after serve, serve exits and its restart watches it (the
	// policies' store and status controller are built at start).
	var restartOn []schema.GroupVersionKind
	if !store.Served() {
		restartOn = append(restartOn, clusterpolicy.GVK)
	}
	if err := mgr.Add(&kindsWatcher{discovery: disc, view: view, restartOn: restartOn, every: o.KindsPollInterval, log: log.WithName("kinds")}); err != nil {
		return nil, err
	}
	// The audit's counts go to o.AuditSink and, when it runs, to the
	// policy status controller, which writes them in each policy's status.
	sinks := countSinks{}
	if o.AuditSink != nil {
		sinks = append(sinks, o.AuditSink)
	}
	if store.Served() && o.PolicyStatus {
		sc := &clusterpolicy.StatusController{Client: mgr.GetClient(), Store: store, Registry: reg, Log: log.WithName("policy-status")}
		if err := sc.SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("setting up the policy status controller: %w", err)
		}
		sinks = append(sinks, sc)
	}

	if o.PauseKeeper {
		if err := setupKeeper(mgr, view, source, o.ExcludedNamespaces, log); err != nil {
			return nil, err
		}
	}

	srv.Manager, srv.View, srv.Policies = mgr, view, store
	if o.Audit {
		if srv.Audit, err = setupAudit(mgr, view, engine, source, gate, sinks.sink(), o, log); err != nil {
			return nil, err
		}
		if o.SettingsSource == nil {
			// A change of the policies in force rescans, once a burst of
			// changes is over; status-only updates do not.
			scan := &audit.Debounced{Next: srv.Audit}
			store.OnChange(func() { scan.Trigger("policy change") })
		}
	}

	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("certificate", serving.Check); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("shutdown", srv.drain.Check); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("caches", func(r *http.Request) error {
		c, cancel := context.WithTimeout(r.Context(), 200*time.Millisecond)
		defer cancel()
		if !view.WaitForSync(c) {
			return errors.New("informer caches not synced")
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return srv, nil
}

// registerCollectors registers scrape-time collectors with the manager's
// metrics registry, replacing those of an earlier server in this process.
func registerCollectors(cs ...prometheus.Collector) {
	for _, c := range cs {
		ctrlmetrics.Registry.Unregister(c)
		ctrlmetrics.Registry.MustRegister(c)
	}
}

// setupKeeper adds the pause keeper to the manager, now or once the
// cluster serves ScaledObjects.
func setupKeeper(mgr manager.Manager, view *clusterview.Cache, source webhooks.SettingsSource, excluded []string, log logr.Logger) error {
	k := &keeper.Keeper{
		Client:   mgr.GetClient(),
		View:     view,
		Settings: source.Settings,
		Recorder: mgr.GetEventRecorder("scaleguard"),
		Log:      log.WithName("keeper"),
		Excluded: excluded,
	}
	if ns, ok := source.(webhooks.NamespacedSettings); ok {
		k.SettingsFor = ns.SettingsFor
	}
	return followKeeper(mgr, view, k, log)
}
