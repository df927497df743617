// Package install runs scaleguard as a cluster runs it, against a real
// kube-apiserver and etcd: with the webhook stopped, with the certificate
// it manages itself rotating under load, replicas draining behind a
// balancer, a CRD installed while it runs, and as its own service account
// with exactly the RBAC it ships. It has its own control plane: its tests
// install their own webhook configurations (pointed at a URL, not a
// Service) and CRDs during the run.
package install

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/scaleguard/scaleguard/internal/controlplane"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

var env *controlplane.Env

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.Level(logLevel()))))
	root, err := controlplane.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	all, err := controlplane.CRDPaths(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// KEDA's CRDs, scaleguard's own (installed with it) and the
	// PolicyReport CRD from the start; KServe, Kthena, the HTTP add-on and
	// prometheus-operator's monitors are installed by
	// TestCRDInstalledLaterIsWatchedWithoutARestart.
	var crds []string
	for _, p := range all {
		if atStart(root, p) {
			crds = append(crds, p)
		}
	}
	crds = append(crds, filepath.Join(root, "test", "crds", "reports", "wgpolicyk8s.io_policyreports.yaml"))
	env, err = controlplane.Start(controlplane.Options{Root: root, CRDs: crds, NoWebhooks: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "control plane:", err)
		return 1
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
	}
	return code
}

// lateCRDs are the CRDs TestCRDInstalledLaterIsWatchedWithoutARestart
// installs while serve runs.
func lateCRDs(t *testing.T) []string {
	t.Helper()
	all, err := controlplane.CRDPaths(env.Root)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range all {
		if !atStart(env.Root, p) {
			out = append(out, p)
		}
	}
	return out
}

// atStart reports whether a CRD path of controlplane.CRDPaths is installed
// with the control plane: KEDA's and scaleguard's own.
func atStart(root, p string) bool {
	return strings.Contains(filepath.Base(p), "keda.sh_") || p == filepath.Join(root, "config", "crd", "bases")
}

func logLevel() int8 {
	if v, err := strconv.Atoi(os.Getenv("SCALEGUARD_TEST_LOG_LEVEL")); err == nil {
		return int8(-v)
	}
	return 2 // errors only
}
