// Package integration runs scaleguard's webhooks behind a real
// kube-apiserver and etcd. The API server calls them over TLS through the
// shipped config/webhook configurations; tests assert what the API server
// returned to the client.
package integration

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/controlplane"
	"github.com/scaleguard/scaleguard/internal/server"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// leaseNamespace holds the pause keeper's Lease.
const leaseNamespace = "scaleguard-system"

var (
	// view is the running server's view, to wait for objects it must see.
	view *clusterview.Cache
	// waitSeen waits for objects serve must see, ScaleGuardPolicies included.
	waitSeen  controlplane.Seen
	env       *controlplane.Env
	probeAddr string
	metrics   string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.Level(zapLevel()))))
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
	// The pause keeper is elected through a Lease in scaleguard's own
	// namespace, as in a cluster.
	c, err := client.New(env.Config, client.Options{Scheme: apis.Scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: leaseNamespace}}); err != nil {
		fmt.Fprintln(os.Stderr, "lease namespace:", err)
		return 1
	}
	probeAddr, metrics = mustLoopbackAddr(), mustLoopbackAddr()
	wio := env.WebhookInstallOptions
	srv, err := server.New(ctx, env.Config, server.Options{
		CertDir:                 wio.LocalServingCertDir,
		Host:                    wio.LocalServingHost,
		Port:                    wio.LocalServingPort,
		MetricsAddr:             metrics,
		ProbeAddr:               probeAddr,
		PauseKeeper:             true,
		PolicyStatus:            true,
		LeaderElection:          true,
		LeaderElectionNamespace: leaseNamespace,
	}, ctrl.Log.WithName("serve"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		return 1
	}
	view, waitSeen = srv.View, srv.WaitSeen
	var runErr error
	finished := make(chan struct{})
	go func() { runErr = srv.Manager.Start(ctx); close(finished) }()
	if err := controlplane.WaitReady(ctx, "http://"+probeAddr+"/readyz", 60*time.Second, finished); err != nil {
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

func zapLevel() int8 {
	if v, err := strconv.Atoi(os.Getenv("SCALEGUARD_TEST_LOG_LEVEL")); err == nil {
		return int8(-v)
	}
	return 1 // warnings and errors only
}

func mustLoopbackAddr() string {
	a, err := controlplane.LoopbackAddr()
	if err != nil {
		panic(err)
	}
	return a
}

// adminConfig returns a copy of the admin config that records warnings.
func adminConfig(warnings *[]string) *rest.Config {
	cfg := rest.CopyConfig(env.Config)
	cfg.WarningHandler = warningRecorder{warnings}
	return cfg
}

type warningRecorder struct{ out *[]string }

func (w warningRecorder) HandleWarningHeader(code int, agent, text string) {
	*w.out = append(*w.out, text)
}
