package install

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// render builds a kustomization of config/.
func render(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join(env.Root, dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
	return out
}

// serviceAccountGrants applies the service account, roles and bindings of
// config/default and returns what they grant scaleguard's service account.
func serviceAccountGrants(t *testing.T, c client.Client) []grant {
	t.Helper()
	ctx := context.Background()
	roles := map[string][]rbacv1.PolicyRule{}
	var bound []rbacv1.RoleRef
	var boundNS []string
	for _, u := range render(t, "config/default") {
		switch u.GetKind() {
		case "ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding":
		default:
			continue
		}
		if err := c.Create(ctx, u.DeepCopy()); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		switch u.GetKind() {
		case "ClusterRole", "Role":
			var r rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
				t.Fatal(err)
			}
			roles[u.GetKind()+"/"+u.GetNamespace()+"/"+u.GetName()] = r.Rules
		case "ClusterRoleBinding", "RoleBinding":
			var b rbacv1.RoleBinding
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
				t.Fatal(err)
			}
			for _, s := range b.Subjects {
				if s.Kind == "ServiceAccount" && s.Name == "scaleguard" && s.Namespace == scaleguardNamespace {
					bound = append(bound, b.RoleRef)
					boundNS = append(boundNS, u.GetNamespace())
				}
			}
		}
	}
	var out []grant
	for i, ref := range bound {
		key := ref.Kind + "/" + boundNS[i] + "/" + ref.Name
		if ref.Kind == "ClusterRole" {
			key = "ClusterRole//" + ref.Name
		}
		rules, ok := roles[key]
		if !ok {
			t.Fatalf("a binding names %s, which config/default does not define", key)
		}
		out = append(out, grants(ref.Kind+" "+ref.Name, boundNS[i], rules)...)
	}
	return out
}

// mutableSettings are settings an administrator changes while serve runs.
type mutableSettings struct {
	p atomic.Pointer[policies.Settings]
}

func (m *mutableSettings) Settings() *policies.Settings { return m.p.Load() }

// countSink counts the audit's scans.
type countSink struct {
	mu sync.Mutex
	n  int
}

func (s *countSink) RecordCounts(context.Context, audit.Counts) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
}

func (s *countSink) scans() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// TestServeNeedsExactlyItsRBAC applies the service account, roles and
// bindings config/default ships, runs serve impersonating that service
// account (certificate self-managed, pause keeper, audit with its live
// query check, policy status, authenticated metrics), and drives every feature that
// needs a permission. Every request serve makes is recorded as the API
// server authorizes it: a request refused is a permission missing, a
// permission no request used is one too many. Both fail the test.
func TestServeNeedsExactlyItsRBAC(t *testing.T) {
	c := adminClient(t)
	ctx := context.Background()
	ensureNamespace(t, c, scaleguardNamespace, nil)
	for _, ns := range []string{"rbac-keeper", "rbac-a", "rbac-b"} {
		ensureNamespace(t, c, ns, nil)
	}
	// Every kind serve may read is served, so that every grant can be used.
	crds := append(lateCRDs(t), filepath.Join(env.Root, "test", "integration", "install", "testdata", "crds"))
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	emptySecret(t, c)
	gs := serviceAccountGrants(t, c)

	rec := &accessRecorder{}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + scaleguardNamespace + ":scaleguard",
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + scaleguardNamespace, "system:authenticated"},
	}
	cfg.Wrap(rec.wrap)

	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"1"]}]}}`)
	}))
	defer prom.Close()
	on := policies.DefaultSettings()
	on.Prometheus.Address = prom.URL
	settings := &mutableSettings{}
	settings.p.Store(on)

	port := freePort(t)
	installConfigurations(t, fmt.Sprintf("https://localhost:%d", port), nil)
	sink := &countSink{}
	metricsAddr := loopback(t)
	r := startReplica(t, cfg, server.Options{
		CertDir: t.TempDir(), Host: "127.0.0.1", Port: port, MetricsAddr: metricsAddr,
		SettingsSource: settings,
		PauseKeeper:    true, Audit: true, PolicyStatus: true, AuditInterval: time.Hour, AuditSink: sink,
		LeaderElection: true, LeaderElectionID: "scaleguard-rbac",
		InstallOptions: server.InstallOptions{
			Certificates: certs.SelfManagedMode, ExtraDNSNames: []string{"localhost"},
			SecureMetrics: true, KindsPollInterval: time.Second,
		},
	})
	// A refusal is reported even when a step below fails on it.
	completed := false
	defer func() {
		r.stop(t)
		refused, unused := auditAccess(rec.all(), gs)
		for _, a := range refused {
			t.Errorf("serve was refused %s: a permission is missing from its markers", a)
		}
		if completed {
			for _, g := range unused {
				t.Errorf("granted but never used: %s", g)
			}
		}
		t.Logf("%d requests recorded against %d grants", len(rec.all()), len(gs))
	}()
	r.waitReady(t, 90*time.Second)
	eventually(t, 30*time.Second, "the audit's first scan", func() bool { return sink.scans() >= 1 })
	scan := func() {
		t.Helper()
		n := sink.scans()
		r.srv.Audit.Trigger("test")
		eventually(t, 30*time.Second, "an audit scan", func() bool { return sink.scans() > n })
	}
	create := func(doc string) *unstructured.Unstructured {
		t.Helper()
		u := fromYAML(t, doc)
		if err := c.Create(ctx, u); err != nil {
			t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
		}
		return u
	}

	// The policy status controller writes a policy's status.
	pol := create(`
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: rbac-policy}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: rbac-a}}
  rules: {trigger-metadata: {action: Warn}}
`)
	eventually(t, 30*time.Second, "the policy's status written", func() bool {
		got := pol.DeepCopy()
		if c.Get(ctx, client.ObjectKeyFromObject(pol), got) != nil {
			return false
		}
		g, _, _ := unstructured.NestedInt64(got.Object, "status", "observedGeneration")
		return g == got.GetGeneration()
	})
	defer func() { _ = c.Delete(ctx, pol) }()

	// The pause keeper patches a ScaledObject twice, recording two Events
	// of one reason: the second is a series, patched.
	create(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: rbac-keeper}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      containers:
        - {name: vllm, image: vllm/vllm-openai, resources: {limits: {nvidia.com/gpu: "1"}}}
`)
	so := fromYAML(t, `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: rbac-keeper}
spec:
  scaleTargetRef: {name: llm}
  minReplicaCount: 0
  cooldownPeriod: 900
  triggers:
    - type: cpu
      metricType: Utilization
      metadata: {value: "60"}
`)
	for i := range 2 {
		until := time.Now().Add(3 * time.Second).Truncate(time.Second).Add(time.Second).UTC().Format(time.RFC3339)
		eventually(t, 20*time.Second, "un-pausing the GPU ScaledObject", func() bool {
			cur := so.DeepCopy()
			if i > 0 {
				if err := c.Get(ctx, client.ObjectKeyFromObject(so), cur); err != nil {
					return false
				}
			}
			cur.SetAnnotations(map[string]string{gpu.PausedAnnotation: "false", gpu.UnpauseUntilAnnotation: until})
			if i == 0 {
				return c.Create(ctx, cur) == nil
			}
			return c.Update(ctx, cur) == nil
		})
		eventually(t, 30*time.Second, "the keeper re-pauses", func() bool {
			got := so.DeepCopy()
			return c.Get(ctx, client.ObjectKeyFromObject(so), got) == nil && got.GetAnnotations()[gpu.PausedAnnotation] == "true"
		})
	}

	// The audit: PolicyReports created, updated and deleted; then Reports,
	// once OpenReports' CRD is installed. Each finding is a warning: a
	// ScaledObject whose target does not exist yet.
	warned := func(ns, name, authKind string) string {
		return fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: %s, namespace: %s}
spec:
  scaleTargetRef: {name: %s-target}
  triggers:
    - type: prometheus
      authenticationRef: {name: %s-auth, kind: %s}
      metadata:
        serverAddress: http://prometheus.monitoring.svc:9090
        query: sum(vllm:num_requests_waiting{namespace="%s", pod=~"%s-target-.*"})
        threshold: "5"
`, name, ns, name, name, authKind, ns, name)
	}
	create(`{apiVersion: keda.sh/v1alpha1, kind: TriggerAuthentication, metadata: {name: a1-auth, namespace: rbac-a}, spec: {podIdentity: {provider: azure-workload}}}`)
	create(`{apiVersion: keda.sh/v1alpha1, kind: ClusterTriggerAuthentication, metadata: {name: b1-auth}, spec: {podIdentity: {provider: azure-workload}}}`)
	a1 := fromYAML(t, warned("rbac-a", "a1", "TriggerAuthentication"))
	// One more warning, trigger-metadata's: a key KEDA ignores.
	trig := a1.Object["spec"].(map[string]any)["triggers"].([]any)[0].(map[string]any)
	trig["metadata"].(map[string]any)["unknownKey"] = "x"
	if err := c.Create(ctx, a1); err != nil {
		t.Fatal(err)
	}
	b1 := create(warned("rbac-b", "b1", "ClusterTriggerAuthentication"))
	scan() // PolicyReports of rbac-a and rbac-b created, an Event on a1
	// a1's verdict changes while a1 does not: a second Event of the same
	// reason on the same object is a series, patched.
	off := policies.DefaultSettings()
	off.Prometheus.Address = prom.URL
	off.Rules = map[string]policies.RuleOverride{"trigger-metadata": {Action: policies.Off}}
	settings.p.Store(off)
	scan()
	create(warned("rbac-a", "a2", "TriggerAuthentication")) // rbac-a's changes,
	if err := c.Delete(ctx, b1); err != nil {               // rbac-b's goes
		t.Fatal(err)
	}
	scan()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openreports/reports-api").Output()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: []string{filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "openreports.io_reports.yaml")}}); err != nil {
		t.Fatal(err)
	}
	scan() // a Report of rbac-a created, its PolicyReport deleted
	create(warned("rbac-a", "a3", "TriggerAuthentication"))
	scan() // updated
	for _, n := range []string{"a1", "a2", "a3"} {
		if err := c.Delete(ctx, fromYAML(t, warned("rbac-a", n, "TriggerAuthentication"))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "the cache drops rbac-a's ScaledObjects", func() bool { return len(r.srv.View.ScaledObjects("rbac-a")) == 0 })
	scan() // deleted

	// /metrics: refused without a token, and to a service account not
	// allowed to get it; served to one bound to scaleguard-metrics-reader.
	scrape := func(token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "https://"+metricsAddr+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the metrics certificate is generated per replica
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	reader, nobody := serviceAccountToken(t, c, "scraper", "scaleguard-metrics-reader"), serviceAccountToken(t, c, "nobody", "")
	for _, tc := range []struct {
		who   string
		token string
		want  int
	}{{"no token", "", http.StatusUnauthorized}, {"not allowed", nobody, http.StatusForbidden}, {"metrics reader", reader, http.StatusOK}} {
		if got := scrape(tc.token); got != tc.want {
			t.Errorf("/metrics for %s: %d, want %d", tc.who, got, tc.want)
		}
	}

	completed = true
}

// serviceAccountToken creates a service account (bound to clusterRole when
// given) and returns a token of it.
func serviceAccountToken(t *testing.T, c client.Client, name, clusterRole string) string {
	t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: scaleguardNamespace}}
	if err := c.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if clusterRole != "" {
		b := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name + "-" + clusterRole},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterRole},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: scaleguardNamespace}}}
		if err := c.Create(ctx, b); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(scaleguardNamespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}
