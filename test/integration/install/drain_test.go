package install

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// process is `scaleguard serve` run as a cluster runs it: its own
// process, stopped with SIGTERM.
type process struct {
	cmd   *exec.Cmd
	port  int
	probe string
	out   bytes.Buffer
	// done is closed when the process exited, with err its Wait's.
	done chan struct{}
	err  error
}

func (p *process) replica() *replica { return &replica{port: p.port, probe: p.probe} }

func buildScaleguard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "scaleguard")
	build := exec.Command("go", "build", "-o", bin, "./cmd/scaleguard")
	build.Dir = env.Root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func startProcess(t *testing.T, bin, kubeconfig, certDir string, args ...string) *process {
	t.Helper()
	p := &process{port: freePort(t), probe: loopback(t), done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve",
		"--cert-mode=files", "--cert-dir=" + certDir,
		"--host=127.0.0.1", fmt.Sprintf("--port=%d", p.port),
		"--health-probe-bind-address=" + p.probe, "--metrics-bind-address=0",
		"--namespace=" + scaleguardNamespace, "--leader-elect=false", "--pause-keeper=false", "--audit-interval=0",
		"--zap-log-level=info",
	}, args...)...)
	p.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("serve on %d:\n%s", p.port, p.out.String())
		}
	})
	return p
}

// TestSIGTERMUnderLoadFailsNothing runs two serve processes behind a
// balancer that, like a Service, sends new connections to ready replicas
// only, and stops one with SIGTERM while four clients write through the
// API server as fast as they can. The stopped replica is not ready at
// once while it still serves, answers what still reaches it, finishes
// what is in flight and exits 0; no request fails and no mutation is
// skipped.
func TestSIGTERMUnderLoadFailsNothing(t *testing.T) {
	bin := buildScaleguard(t)
	c := adminClient(t)
	ensureNamespace(t, c, scaleguardNamespace, nil)
	ensureNamespace(t, c, "drain", nil)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	ca := newAuthority(t)
	certDir := t.TempDir()
	ca.issue(t, certDir, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	lb := newBalancer(t)
	installConfigurations(t, fmt.Sprintf("https://127.0.0.1:%d", lb.port()), ca.pem)

	a := startProcess(t, bin, kubeconfig, certDir, "--shutdown-delay=2s")
	b := startProcess(t, bin, kubeconfig, certDir, "--shutdown-delay=2s")
	backendA := lb.add("a", a.replica())
	lb.add("b", b.replica())
	a.replica().waitReady(t, 60*time.Second)
	b.replica().waitReady(t, 60*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	openBefore := failOpen(t)
	type result struct {
		ok     int64
		failed []error
	}
	res := make(chan result, 1)
	go func() {
		ok, failed := load(ctx, 4, dryRunScaledObject(t, c, "drain"))
		res <- result{ok, failed}
	}()
	time.Sleep(3 * time.Second)
	before := backendA.conns.Load()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Not ready at once, while the webhook server still serves.
	eventually(t, time.Second, "the replica is not ready within a second of SIGTERM", func() bool {
		resp, err := http.Get("http://" + a.probe + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusInternalServerError
	})
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", a.port), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reachability only
	if err != nil {
		t.Errorf("the webhook server stopped serving when it left readiness: %v", err)
	} else {
		conn.Close()
	}
	select {
	case <-a.done:
		if a.err != nil {
			t.Errorf("serve exited with %v after SIGTERM", a.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not exit within 30s of SIGTERM")
	}
	time.Sleep(2 * time.Second)
	cancel()
	r := <-res
	lost := failOpen(t) - openBefore
	t.Logf("%d requests admitted, %d failed, %v mutations skipped; replica a took %d connections before SIGTERM, %d in all",
		r.ok, len(r.failed), lost, before, backendA.conns.Load())
	for i, err := range r.failed {
		if i < 5 {
			t.Errorf("request failed: %v", err)
		}
	}
	if len(r.failed) > 0 || lost > 0 {
		t.Fatalf("%d requests failed and %v mutations were skipped across the SIGTERM", len(r.failed), lost)
	}
	if before == 0 || r.ok < 50 {
		t.Errorf("the load did not reach the stopped replica (%d connections) or did not load (%d requests)", before, r.ok)
	}
}
