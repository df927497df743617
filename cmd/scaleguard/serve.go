package main

import (
	"sync/atomic"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/webhooks"
)

func newServeCommand() *cobra.Command {
	o := server.Options{PauseKeeper: true, PolicyStatus: true}
	var shutdownDelay time.Duration
	memoryLimitRatio := DefaultMemoryLimitRatio
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the admission webhook server",
		Example: `  # in the cluster (config/manager/deployment.yaml): a self-managed certificate
  scaleguard serve

  # outside a cluster, against the current kubeconfig, with a certificate of your own
  scaleguard serve --cert-mode files --cert-dir ./certs --leader-elect=false`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := ctrl.Log.WithName("serve")
			var srv atomic.Pointer[server.Server]
			ctx := drainOnSignal(func() {
				if s := srv.Load(); s != nil {
					s.Drain()
				}
			}, func() {
				if s := srv.Load(); s != nil && !s.StopWebhooks(o.GracefulShutdown) {
					log.Info("requests still in flight after the graceful shutdown timeout", "timeout", o.GracefulShutdown)
				}
			}, shutdownDelay, log)
			if err := checkMemoryLimitRatio(memoryLimitRatio); err != nil {
				return err
			}
			memoryLimit, err := setMemoryLimit(ctx, memoryLimitRatio, memlimit.FromCgroup, log.WithName("memory-limit"))
			if err != nil {
				log.Error(err, "the container's memory limit could not be read: the Go runtime keeps no soft memory limit")
			}
			cfg, err := ctrl.GetConfig()
			if err != nil {
				return err
			}
			o.Audit = o.AuditInterval > 0
			s, err := server.New(ctx, cfg, o, log)
			if err != nil {
				return err
			}
			srv.Store(s)
			log.Info("starting", "port", o.Port, "certificates", o.Certificates, "certDir", o.CertDir, "namespace", o.Namespace,
				"metrics", o.MetricsAddr, "secureMetrics", o.SecureMetrics, "probes", o.ProbeAddr,
				"pauseKeeper", o.PauseKeeper, "audit", o.AuditInterval, "leaderElection", o.LeaderElection,
				"goMemoryLimit", describeMemoryLimit(memoryLimit))
			return s.Manager.Start(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.CertDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory of tls.crt and tls.key, reloaded when they change (written by serve itself in the modes self-managed and cert-manager: it must be writable)")
	f.StringVar(&o.Host, "host", "", "address the webhook server binds (all interfaces when empty)")
	f.IntVar(&o.Port, "port", 9443, "port the webhook server listens on")
	f.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8443", "address of the /metrics endpoint (0 disables it)")
	f.StringVar(&o.ProbeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (0 disables them)")
	f.DurationVar(&o.ClaimTTL, "create-claim-ttl", server.DefaultClaimTTL, "longest a just-admitted ScaledObject or HPA counts against concurrent creates before the cache holds it (negative disables)")
	f.BoolVar(&o.ReadThrough, "create-read-through", false, "judge CREATEs against lists read from the API server instead of the informer cache (see BENCHMARKS.md for its cost)")
	f.IntVar(&o.MaxInFlight, "max-concurrent-reviews", webhooks.DefaultMaxInFlight, "reviews judged at once; beyond it a review waits a second for a slot, then is refused with 429 Too Many Requests")
	f.DurationVar(&o.GracefulShutdown, "graceful-shutdown-timeout", 15*time.Second, "how long in-flight requests may finish on shutdown")
	f.BoolVar(&o.PauseKeeper, "pause-keeper", true, "run the pause keeper: re-pause GPU-tier ScaledObjects whose scaleguard.io/unpause-until passed, and pause those whose GPU target appeared after them")
	f.BoolVar(&o.PolicyStatus, "policy-status", true, "write the status of ScaleGuardPolicies (generation in force, namespaces covered, Ready, Conflicting, the audit's findings there)")
	f.DurationVar(&o.AuditInterval, "audit-interval", audit.DefaultInterval, "period of the audit, which judges every stored guarded object and writes reports, metrics and Events (0 disables it)")
	f.BoolVar(&o.LeaderElection, "leader-elect", true, "run the pause keeper, the audit, the policy status writer and the certificate rotator in one replica at a time, elected through a Lease (the webhooks serve in every replica)")
	f.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the Lease (default: the namespace scaleguard runs in; required outside a cluster)")
	f.StringVar(&o.LeaderElectionID, "leader-election-id", server.DefaultLeaderElectionID, "name of the Lease")
	f.Float64Var(&memoryLimitRatio, "memory-limit-ratio", DefaultMemoryLimitRatio, "share of the container's memory limit (read from its cgroup, again every minute) given to the Go runtime as its soft limit, so that it collects harder as the cache nears the limit rather than being OOM-killed; 0 sets none, and GOMEMLIMIT, when set, wins")
	addInstallFlags(f, &o.InstallOptions, &shutdownDelay)
	return cmd
}
