package install

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

const lateScaledObject = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s, namespace: late-crd}
spec:
  scaleTargetRef: %s
  minReplicaCount: 0
  maxReplicaCount: 4
  cooldownPeriod: 900
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus.monitoring.svc:9090
        query: sum(vllm:num_requests_waiting{namespace="late-crd", pod=~"llm-[0-9]+-.*"})
        threshold: "5"
`

// TestCRDInstalledLaterIsWatchedWithoutARestart starts serve in a cluster
// without Kthena, KServe or prometheus-operator, then installs their CRDs:
// serve watches the new kinds within its poll interval, never exits, and
// judges with them: the pause keeper pauses a ScaledObject admitted before
// its ModelServing target existed once the target appears on a GPU tier,
// and target-ref refuses a ScaledObject that names that ModelServing
// without its kind.
func TestCRDInstalledLaterIsWatchedWithoutARestart(t *testing.T) {
	c := adminClient(t)
	ensureNamespace(t, c, scaleguardNamespace, nil)
	ensureNamespace(t, c, "late-crd", nil)
	// Another test of this package may have installed them.
	late := envtest.CRDInstallOptions{Paths: lateCRDs(t), ErrorIfPathMissing: true}
	if err := envtest.UninstallCRDs(env.Config, late); err != nil {
		t.Fatal(err)
	}
	ca := newAuthority(t)
	port := freePort(t)
	installConfigurations(t, fmt.Sprintf("https://127.0.0.1:%d", port), ca.pem)
	dir := t.TempDir()
	ca.issue(t, dir, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	r := startReplica(t, env.Config, server.Options{
		CertDir: dir, Host: "127.0.0.1", Port: port,
		PauseKeeper: true, LeaderElection: true, LeaderElectionID: "scaleguard-late-crd",
		InstallOptions: server.InstallOptions{Certificates: certs.FilesMode, KindsPollInterval: 200 * time.Millisecond},
	})
	r.waitReady(t, 60*time.Second)
	view := r.srv.View
	if view.IsServed(apis.ModelServing) || view.IsServed(apis.InferenceService) {
		t.Fatal("the cluster serves Kthena or KServe before their CRDs are installed")
	}
	ctx := context.Background()
	msRef := "{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}"
	if err := c.Create(ctx, fromYAML(t, fmt.Sprintf(lateScaledObject, "llm", msRef))); err != nil {
		t.Fatalf("the ScaledObject admitted before Kthena's CRD: %v", err)
	}

	if _, err := envtest.InstallCRDs(env.Config, late); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "serve watches ModelServing, InferenceService and PodMonitor, synced", func() bool {
		return view.IsServed(apis.ModelServing) && view.IsServed(apis.InferenceService) && view.IsServed(apis.PodMonitor) && len(view.Syncing()) == 0
	})

	// The keeper follows the new kind: a GPU ModelServing appears.
	ms := fromYAML(t, `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata: {name: llm, namespace: late-crd}
spec:
  replicas: 1
  template:
    roles:
      - name: decode
        replicas: 1
        entryTemplate:
          metadata: {labels: {app: llm}}
          spec:
            containers:
              - name: vllm
                image: vllm/vllm-openai:v0.11.0
                resources: {limits: {nvidia.com/gpu: "1"}}
`)
	if err := c.Create(ctx, ms); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the keeper pauses the ScaledObject once its GPU ModelServing appears", func() bool {
		so := &kedav1alpha1.ScaledObject{}
		return c.Get(ctx, client.ObjectKey{Namespace: "late-crd", Name: "llm"}, so) == nil && so.Annotations[gpu.PausedAnnotation] == "true"
	})

	// The webhooks read the new kind: a ScaledObject naming the ModelServing
	// without its kind is refused by target-ref.
	var err error
	eventually(t, 10*time.Second, "target-ref refuses a ScaledObject naming the ModelServing without its kind", func() bool {
		err = c.Create(ctx, fromYAML(t, fmt.Sprintf(lateScaledObject, "no-kind", "{name: llm}")), client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), "[target-ref]") && strings.Contains(err.Error(), `ModelServing "llm"`)
	})
	select {
	case <-r.finished:
		t.Fatalf("serve exited: %v", r.err)
	default:
	}
}
