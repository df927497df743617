package audit

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/policies"
)

const unscoped = "promql-unscoped"

func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Config, client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scan triggers a scan, as the policy controller does on a policy change,
// and waits for a scan that started after the trigger.
func scan(t *testing.T) audit.Counts {
	t.Helper()
	asked := time.Now()
	srv.Audit.Trigger("test")
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if sink.n() > 0 {
			if c := sink.last(); !c.Time.Before(asked) {
				return c
			}
		}
		time.Sleep(50 * time.Millisecond)
		srv.Audit.Trigger("test")
	}
	t.Fatal("no scan finished within 90s of the trigger")
	return audit.Counts{}
}

// workload stores a Deployment and a ScaledObject on it with query.
func workload(t *testing.T, c client.Client, ns, name, query string) *kedav1alpha1.ScaledObject {
	t.Helper()
	ctx := context.Background()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	one := int32(1)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "vllm", Image: "vllm/vllm-openai:v0.11.0"}}},
			},
		},
	}
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	waitSeen(t, appsv1.SchemeGroupVersion.WithKind("Deployment"), dep)
	zero := int32(0)
	so := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kedav1alpha1.ScaledObjectSpec{
			ScaleTargetRef:  &kedav1alpha1.ScaleTarget{Name: name},
			MinReplicaCount: &zero,
			Triggers: []kedav1alpha1.ScaleTriggers{{Type: "prometheus", Metadata: map[string]string{
				"serverAddress": "http://prometheus-operated.monitoring.svc:9090",
				"query":         query,
				"threshold":     "5",
			}}},
		},
	}
	if err := c.Create(ctx, so); err != nil {
		t.Fatalf("creating %s/%s: %v", ns, name, err)
	}
	waitSeen(t, apis.ScaledObject, so)
	return so
}

// waitSeen waits until the informer cache holds obj as written.
func waitSeen(t *testing.T, gvk schema.GroupVersionKind, obj client.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !srv.View.WaitSeen(ctx, gvk, obj.GetNamespace(), obj.GetName(), obj.GetResourceVersion()) {
		t.Fatalf("the cache never saw %s %s/%s", gvk, obj.GetNamespace(), obj.GetName())
	}
}

// report returns the audit's report of a kind in ns, nil when there is none.
func report(t *testing.T, c client.Client, kind string, ns string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	switch kind {
	case "Report":
		u.SetGroupVersionKind(audit.OpenReportsReport)
	default:
		u.SetGroupVersionKind(audit.PolicyReport)
	}
	err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: audit.ReportName}, u)
	if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("reading %s %s/%s: %v", kind, ns, audit.ReportName, err)
	}
	return u
}

// results lists a report's results as "policy result kind/name".
func results(u *unstructured.Unstructured) []string {
	if u == nil {
		return nil
	}
	rs, _, _ := unstructured.NestedSlice(u.Object, "results")
	var out []string
	for _, r := range rs {
		m := r.(map[string]any)
		res, _, _ := unstructured.NestedSlice(m, "resources")
		name := ""
		if len(res) > 0 {
			name, _, _ = unstructured.NestedString(res[0].(map[string]any), "name")
		}
		out = append(out, m["policy"].(string)+" "+m["result"].(string)+" "+name)
	}
	return out
}

func has(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// metricLine returns the line of /metrics that starts with prefix.
func metricLine(t *testing.T, prefix string) string {
	t.Helper()
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func installCRDs(t *testing.T, paths ...string) {
	t.Helper()
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
}

// openReportsCRD is OpenReports' Report CRD from its Go module.
func openReportsCRD(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openreports/reports-api")
	cmd.Dir = env.Root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("locating the reports-api module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "openreports.io_reports.yaml")
}

func events(t *testing.T, c client.Client, ns, name string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name && e.Regarding.Kind == "ScaledObject" {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

// TestAuditReportsWhatIsStored walks one cluster through the audit's life:
// objects admitted while promql-unscoped was off are counted once it is
// on (no report CRD installed yet), then reported as PolicyReports, then as
// OpenReports Reports; fixing or deleting them removes their results.
func TestAuditReportsWhatIsStored(t *testing.T) {
	c := newClient(t)
	ctx := context.Background()
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{unscoped: {Action: policies.Off}}
	settings.p.Store(off)

	chat := workload(t, c, "audit-demo", "chat", `sum(vllm:num_requests_waiting)`)
	workload(t, c, "audit-gone", "old", `sum(vllm:num_requests_running)`)

	t.Run("rule off: nothing to count", func(t *testing.T) {
		counts := scan(t)
		if n := counts.Sum(nil)[unscoped]; n.Deny != 0 {
			t.Errorf("%s counted while off: %+v", unscoped, n)
		}
	})

	settings.p.Store(policies.DefaultSettings())
	t.Run("rule on, no report CRD: counted in the sink and the metric", func(t *testing.T) {
		counts := scan(t)
		for _, ns := range []string{"audit-demo", "audit-gone"} {
			if n := counts.ByNamespace[ns][unscoped]; n.Deny != 1 {
				t.Errorf("%s in %s: %+v, want 1 deny", unscoped, ns, n)
			}
		}
		want := `scaleguard_audit_findings{action="deny",namespace="audit-demo",rule="promql-unscoped"} 1`
		if got := metricLine(t, `scaleguard_audit_findings{action="deny",namespace="audit-demo",rule="promql-unscoped"}`); got != want {
			t.Errorf("metric line %q, want %q", got, want)
		}
		if r := report(t, c, "PolicyReport", "audit-demo"); r != nil {
			t.Errorf("a report without its CRD: %v", r)
		}
		ev := events(t, c, "audit-demo", "chat")
		if len(ev) != 1 || !strings.HasPrefix(ev[0], audit.ReasonFindings+": ") || !strings.Contains(ev[0], "[promql-unscoped] spec.triggers[0].metadata.query") {
			t.Errorf("want one %s Event on chat naming the rule, got %q", audit.ReasonFindings, ev)
		}
	})

	t.Run("an unchanged verdict records no Event", func(t *testing.T) {
		scan(t)
		if ev := events(t, c, "audit-demo", "chat"); len(ev) != 1 {
			t.Errorf("events on chat after an unchanged scan: %q", ev)
		}
	})

	t.Run("PolicyReport served: results there", func(t *testing.T) {
		installCRDs(t, filepath.Join(env.Root, "test", "crds", "reports", "wgpolicyk8s.io_policyreports.yaml"))
		scan(t)
		got := results(report(t, c, "PolicyReport", "audit-demo"))
		if !has(got, "promql-unscoped fail chat") {
			t.Errorf("PolicyReport audit-demo results %q lack the denial of chat", got)
		}
	})

	t.Run("OpenReports served: Reports, and the PolicyReports removed", func(t *testing.T) {
		installCRDs(t, openReportsCRD(t))
		scan(t)
		r := report(t, c, "Report", "audit-demo")
		if got := results(r); !has(got, "promql-unscoped fail chat") {
			t.Fatalf("Report audit-demo results %q lack the denial of chat", got)
		}
		if src, _, _ := unstructured.NestedString(r.Object, "source"); src != "scaleguard" {
			t.Errorf("report source %q", src)
		}
		if fail, _, _ := unstructured.NestedInt64(r.Object, "summary", "fail"); fail < 1 {
			t.Errorf("summary.fail %d", fail)
		}
		for _, ns := range []string{"audit-demo", "audit-gone"} {
			if p := report(t, c, "PolicyReport", ns); p != nil {
				t.Errorf("stale PolicyReport in %s", ns)
			}
		}
	})

	t.Run("fixed and deleted objects leave the reports", func(t *testing.T) {
		var fresh kedav1alpha1.ScaledObject
		if err := c.Get(ctx, client.ObjectKeyFromObject(chat), &fresh); err != nil {
			t.Fatal(err)
		}
		fresh.Spec.Triggers[0].Metadata["query"] = `sum(vllm:num_requests_waiting{namespace="audit-demo", pod=~"chat-.*"})`
		if err := c.Update(ctx, &fresh); err != nil {
			t.Fatalf("fixing chat: %v", err)
		}
		waitSeen(t, apis.ScaledObject, &fresh)
		old := &kedav1alpha1.ScaledObject{ObjectMeta: metav1.ObjectMeta{Namespace: "audit-gone", Name: "old"}}
		if err := c.Delete(ctx, old); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for len(srv.View.ScaledObjects("audit-gone")) > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		counts := scan(t)
		if n := counts.Sum(nil)[unscoped]; n.Deny != 0 {
			t.Errorf("%s still counted: %+v", unscoped, n)
		}
		if got := results(report(t, c, "Report", "audit-demo")); has(got, "promql-unscoped fail chat") {
			t.Errorf("the fixed object is still reported: %q", got)
		}
		if r := report(t, c, "Report", "audit-gone"); r != nil {
			t.Errorf("the report of a namespace without findings was kept: %q", results(r))
		}
		if line := metricLine(t, `scaleguard_audit_findings{action="deny",namespace="audit-gone"`); line != "" {
			t.Errorf("a gauge series of the last scan but one is still served: %s", line)
		}
		ev := events(t, c, "audit-demo", "chat")
		if len(ev) != 2 {
			t.Errorf("want a second Event on chat after the fix, got %q", ev)
		}
	})

	t.Run("Prometheus unreachable: the scan still completes", func(t *testing.T) {
		s := policies.DefaultSettings()
		s.Prometheus.Address = "http://127.0.0.1:1"
		settings.p.Store(s)
		defer settings.p.Store(policies.DefaultSettings())
		counts := scan(t)
		if counts.Objects == 0 {
			t.Error("the scan judged nothing")
		}
	})
}
