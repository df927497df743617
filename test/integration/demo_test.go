package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoRunsAndStopsOnInterrupt runs `scaleguard dev` as `make demo`
// does: its own control plane, the examples applied, a kubeconfig written,
// then a clean teardown on SIGINT.
func TestDemoRunsAndStopsOnInterrupt(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "scaleguard")
	build := exec.Command("go", "build", "-o", bin, "./cmd/scaleguard")
	build.Dir = env.Root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cmd := exec.Command(bin, "dev", "--examples", "examples", "--kubeconfig-out", kubeconfig)
	cmd.Dir = env.Root
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out []string
	deadline := time.After(3 * time.Minute)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("dev exited early:\n%s", strings.Join(out, "\n"))
			}
			out = append(out, l)
			if strings.HasPrefix(l, "press Ctrl-C") {
				break wait
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("dev never became ready:\n%s", strings.Join(out, "\n"))
		}
	}
	text := strings.Join(out, "\n")
	for _, want := range []string{
		"DENIED   ScaledObject kthena-demo/my-modelserving   (examples/kthena/32-scaledobject-no-apiversion.yaml:1)",
		"reason:  spec.scaleTargetRef.apiVersion: Forbidden: [target-ref]",
		"warning: [gpu-idle-cost] spec.minReplicaCount",
		// The policy of examples/policy turns a denial into a warning.
		"DENIED   InferenceService kserve-demo/huggingface-fbopt   (examples/kserve/10-inferenceservice-docs.yaml:1)",
		"CREATED  ScaleGuardPolicy policy-demo   (examples/policy/10-scaleguardpolicy.yaml:1)",
		"CREATED  InferenceService policy-demo/huggingface-fbopt   (examples/policy/20-inferenceservice-docs.yaml:1)",
		"warning: [promql-unscoped] spec.predictor.autoScaling.metrics[0].external.metric.query: selector `vllm:num_requests_running` lacks namespace=\"policy-demo\"",
		"kubeconfig: " + kubeconfig,
		bin + " audit --kubeconfig " + kubeconfig,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if b, err := os.ReadFile(kubeconfig); err != nil || !strings.Contains(string(b), "clusters:") {
		t.Errorf("kubeconfig not written: %v", err)
	}
	auditDemo(t, bin, kubeconfig)

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		for l := range lines {
			out = append(out, l)
		}
		exited <- cmd.Wait()
	}()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("dev exited with %v after SIGINT:\n%s", err, strings.Join(out, "\n"))
		}
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("dev did not stop within 90s of SIGINT")
	}
	if !strings.Contains(strings.Join(out, "\n"), "stopping the control plane") {
		t.Error("no teardown message")
	}
}

// auditDemo runs the `scaleguard audit` line the demo prints: it judges
// what the demo stored and prints those findings in check's format.
func auditDemo(t *testing.T, bin, kubeconfig string) {
	t.Helper()
	cmd := exec.Command(bin, "audit", "--kubeconfig", kubeconfig, "-o", "json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("audit of the demo: %v\nstderr: %s", err, stderr.String())
	}
	var rep struct {
		Findings []struct{ Kind, Namespace, Name, Rule, Action, Field, Message string }
		Summary  struct{ Objects, Denied, Warned, Mutated int }
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("audit -o json: %v\n%s", err, out)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Kind == "ScaledObject" && f.Namespace == "serving" && f.Name == "raw-vllm" && f.Rule == "gpu-idle-cost" &&
			f.Action == "warn" && f.Field == "spec.minReplicaCount" && strings.Contains(f.Message, "GPU-hours a month") {
			found = true
		}
		if f.Action == "deny" {
			t.Errorf("the demo stored an object the audit denies: %+v", f)
		}
	}
	if !found || rep.Summary.Objects == 0 || rep.Summary.Warned == 0 {
		t.Errorf("audit of the demo lacks the raw-vllm idle-cost warning: %s", out)
	}

	// The same findings as SARIF, for code-scanning views.
	cmd = exec.Command(bin, "audit", "--kubeconfig", kubeconfig, "-o", "sarif")
	stderr.Reset()
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("audit -o sarif of the demo: %v\nstderr: %s", err, stderr.String())
	}
	var sarif struct {
		Version string
		Runs    []struct {
			Results []struct {
				RuleID string
				Level  string
			}
		}
	}
	if err := json.Unmarshal(out, &sarif); err != nil {
		t.Fatalf("audit -o sarif: %v\n%s", err, out)
	}
	idle := false
	for _, run := range sarif.Runs {
		for _, r := range run.Results {
			idle = idle || (r.RuleID == "gpu-idle-cost" && r.Level == "warning")
		}
	}
	if sarif.Version != "2.1.0" || !idle {
		t.Errorf("audit -o sarif lacks version 2.1.0 or the idle-cost warning: %s", out)
	}
}
