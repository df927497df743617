// Package controlplane starts a local Kubernetes control plane (a real
// kube-apiserver and etcd, through controller-runtime's envtest) with the
// CRDs scaleguard guards and its webhook configurations installed from
// config/webhook. The integration tests and `scaleguard dev` share it.
package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/scaleguard/scaleguard/apis"
)

// Module is scaleguard's Go module path, used to find the repository root.
const Module = "github.com/scaleguard/scaleguard"

// Versions of the third-party CRDs installed.
const (
	kedaModule               = "github.com/kedacore/keda/v2"
	prometheusOperatorModule = "github.com/prometheus-operator/prometheus-operator"
	// PrometheusOperatorCRDVersion is the prometheus-operator release whose
	// example CRDs are installed (its root module is served at this version).
	PrometheusOperatorCRDVersion = "v0.85.0"
)

// Options configure Start.
type Options struct {
	// Root is the repository root; found from the working directory when empty.
	Root string
	// Attach sends the control plane's own output to this process's.
	Attach bool
	// ServiceIPRange replaces envtest's Service CIDR (a /24, 254 Services)
	// for clusters that hold more Services (the benchmarks').
	ServiceIPRange string
	// CRDs, when not nil, replaces the CRD paths CRDPaths lists.
	CRDs []string
	// NoWebhooks leaves config/webhook uninstalled: the caller installs
	// webhook configurations of its own.
	NoWebhooks bool
}

// Env is a running control plane.
type Env struct {
	*envtest.Environment
	// Config is an admin client config.
	Config *rest.Config
	// Root is the repository root.
	Root string
}

// Start builds (when needed) and starts kube-apiserver and etcd, installs
// KEDA's CRDs from its Go module, prometheus-operator's PodMonitor and
// ServiceMonitor CRDs, the minimal KServe and Kthena CRDs of test/crds,
// scaleguard's own ScaleGuardPolicy CRD from config/crd, and
// the webhook configurations of config/webhook pointed at a local port with
// a freshly generated CA. The webhook server itself is the caller's to start
// on Env.WebhookInstallOptions' host, port and cert dir.
func Start(o Options) (*Env, error) {
	root := o.Root
	if root == "" {
		var err error
		if root, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	assets, err := Assets(root)
	if err != nil {
		return nil, err
	}
	crds := o.CRDs
	if crds == nil {
		if crds, err = CRDPaths(root); err != nil {
			return nil, err
		}
	}
	webhookPaths := []string{filepath.Join(root, "config", "webhook")}
	if o.NoWebhooks {
		webhookPaths = nil
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		ErrorIfCRDPathMissing: true,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths:              crds,
			ErrorIfPathMissing: true,
			Scheme:             apis.Scheme,
		},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths:            webhookPaths,
			LocalServingHost: "127.0.0.1",
		},
		AttachControlPlaneOutput: o.Attach,
		Scheme:                   apis.Scheme,
	}
	if o.ServiceIPRange != "" {
		env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", o.ServiceIPRange)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting the control plane (binaries in %s): %w", assets, err)
	}
	return &Env{Environment: env, Config: cfg, Root: root}, nil
}

// RepoRoot walks up from the working directory to scaleguard's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(bytes.TrimSpace(b), []byte("module "+Module+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside the scaleguard repository (no go.mod of module %s above the working directory)", Module)
		}
		dir = parent
	}
}

// Assets returns the directory of kube-apiserver and etcd: hack/envtest-assets.sh
// prints KUBEBUILDER_ASSETS when set, and otherwise builds both binaries
// into bin/k8s from the Go module proxy (minutes the first time, then reused).
func Assets(root string) (string, error) {
	script := filepath.Join(root, "hack", "envtest-assets.sh")
	cmd := exec.Command("bash", script)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("%s printed no directory", script)
	}
	return dir, nil
}

// CRDPaths lists the CRD files to install: KEDA's ScaledObject and
// TriggerAuthentication CRDs from its module directory, prometheus-operator's
// monitor CRDs from its module at PrometheusOperatorCRDVersion, and the
// minimal KServe and Kthena CRDs in test/crds, and the generated
// ScaleGuardPolicy CRD in config/crd/bases. Nothing is copied into the
// repository; the Go command fetches the modules into its cache.
func CRDPaths(root string) ([]string, error) {
	kedaDir, err := goCmd(root, "list", "-m", "-f", "{{.Dir}}", kedaModule)
	if err != nil {
		return nil, fmt.Errorf("locating the KEDA module: %w", err)
	}
	if kedaDir == "" {
		if _, err := goCmd(root, "mod", "download", kedaModule); err != nil {
			return nil, fmt.Errorf("downloading the KEDA module: %w", err)
		}
		if kedaDir, err = goCmd(root, "list", "-m", "-f", "{{.Dir}}", kedaModule); err != nil || kedaDir == "" {
			return nil, fmt.Errorf("locating the KEDA module after download: %v", err)
		}
	}
	dl, err := goCmd(root, "mod", "download", "-json", prometheusOperatorModule+"@"+PrometheusOperatorCRDVersion)
	if err != nil {
		return nil, fmt.Errorf("downloading prometheus-operator %s: %w", PrometheusOperatorCRDVersion, err)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(dl), &mod); err != nil || mod.Dir == "" {
		return nil, fmt.Errorf("downloading prometheus-operator %s: %s %v", PrometheusOperatorCRDVersion, mod.Error, err)
	}
	kedaCRDs := filepath.Join(kedaDir, "config", "crd", "bases")
	poCRDs := filepath.Join(mod.Dir, "example", "prometheus-operator-crd")
	paths := []string{
		filepath.Join(kedaCRDs, "keda.sh_scaledobjects.yaml"),
		filepath.Join(kedaCRDs, "keda.sh_triggerauthentications.yaml"),
		filepath.Join(kedaCRDs, "keda.sh_clustertriggerauthentications.yaml"),
		filepath.Join(poCRDs, "monitoring.coreos.com_podmonitors.yaml"),
		filepath.Join(poCRDs, "monitoring.coreos.com_servicemonitors.yaml"),
		filepath.Join(root, "test", "crds"),
		filepath.Join(root, "config", "crd", "bases"),
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("CRD path: %w", err)
		}
	}
	return paths, nil
}

func goCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.Is(err, exec.ErrNotFound) {
			return "", errors.New("the go command is not installed; it locates the KEDA and prometheus-operator CRDs")
		}
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go %s: %s", strings.Join(args, " "), strings.TrimSpace(stderr.String()))
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
