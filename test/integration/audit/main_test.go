// Package audit runs serve's audit against a real kube-apiserver and etcd:
// objects admitted while a rule was off are reported once it is switched
// on, fixing an object removes its result, and without the report CRDs the
// scan still counts in its sink and its metric. It has its own control
// plane because it installs the report CRDs during the run and switches
// the webhooks' settings.
package audit

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/internal/controlplane"
	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

const leaseNamespace = "scaleguard-system"

var (
	env      *controlplane.Env
	srv      *server.Server
	settings = &mutableSettings{}
	sink     = &countSink{}
	metrics  string
)

// mutableSettings is a SettingsSource an administrator changes while
// serve runs, as a ScaleGuardPolicy does.
type mutableSettings struct {
	p atomic.Pointer[policies.Settings]
}

func (m *mutableSettings) Settings() *policies.Settings { return m.p.Load() }

// countSink keeps the counts of every scan.
type countSink struct {
	mu    sync.Mutex
	scans []audit.Counts
}

func (s *countSink) RecordCounts(_ context.Context, c audit.Counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scans = append(s.scans, c)
}

func (s *countSink) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.scans)
}

func (s *countSink) last() audit.Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scans[len(s.scans)-1]
}

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	var err error
	env, err = controlplane.Start(controlplane.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "control plane:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New(env.Config, client.Options{Scheme: apis.Scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNamespace}}); err != nil {
		fmt.Fprintln(os.Stderr, "lease namespace:", err)
		return 1
	}
	settings.p.Store(policies.DefaultSettings())
	probe, err := controlplane.LoopbackAddr()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if metrics, err = controlplane.LoopbackAddr(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	wio := env.WebhookInstallOptions
	srv, err = server.New(ctx, env.Config, server.Options{
		CertDir: wio.LocalServingCertDir, Host: wio.LocalServingHost, Port: wio.LocalServingPort,
		MetricsAddr: metrics, ProbeAddr: probe,
		LeaderElection: true, LeaderElectionNamespace: leaseNamespace,
		SettingsSource: settings,
		Audit:          true,
		// Scans run at start and when a test triggers them.
		AuditInterval: time.Hour,
		AuditSink:     sink,
	}, ctrl.Log.WithName("serve"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		return 1
	}
	var runErr error
	finished := make(chan struct{})
	go func() { runErr = srv.Manager.Start(ctx); close(finished) }()
	if err := controlplane.WaitReady(ctx, "http://"+probe+"/readyz", 60*time.Second, finished); err != nil {
		fmt.Fprintln(os.Stderr, "server never became ready:", err)
		return 1
	}
	code := m.Run()
	cancel()
	select {
	case <-finished:
		if runErr != nil {
			fmt.Fprintln(os.Stderr, "server stopped with:", runErr)
		}
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "server did not stop within 30s")
		return 1
	}
	return code
}
