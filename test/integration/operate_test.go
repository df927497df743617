package integration

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// labelValuesQuery is Grafana's label_values(metric, label) variable query.
var labelValuesQuery = regexp.MustCompile(`^label_values\((\w+),\s*(\w+)\)$`)

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// scrape reads a Prometheus text endpoint.
func scrape(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return families
}

func scrapeScaleguard(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return scrape(t, b)
}

func scrapeAPIServer(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return scrape(t, b)
}

// sample finds the value of the series with exactly these labels.
func sample(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := families[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		match := true
		for _, l := range m.Label {
			match = match && want[l.GetName()] == l.GetValue()
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// metricsDriven is set once driveMetrics has run in this process.
var metricsDriven bool

// driveMetrics makes scaleguard and the API server record what every
// metric counts: an admitted, a denied and a dry-run-denied request, a
// keeper pause, and a mutating webhook the API server skips.
func driveMetrics(t *testing.T) {
	t.Helper()
	if metricsDriven {
		return
	}
	metricsDriven = true
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)
	namespace(t, c, "op-metrics")
	createSeen(t, c, example(t, "kthena/10-modelserving.yaml", "op-metrics", nil))
	denied := example(t, "kthena/31-scaledobject-no-kind.yaml", "op-metrics", nil)
	if err := c.Create(ctx, denied.DeepCopy(), client.DryRunAll); err == nil {
		t.Fatal("the dry run was admitted")
	}
	if err := c.Create(ctx, denied.DeepCopy()); err == nil {
		t.Fatal("the create was admitted")
	}

	// A policy of op-metrics relaxes promql-unscoped to Warn; an unscoped
	// ScaledObject stored there is then a warning of the audit, counted
	// by the scan that the policy's next change starts.
	pol := fromYAML(t, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: op-metrics}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: op-metrics}}
  rules:
    promql-unscoped: {action: Warn}
`)
	if err := c.Create(ctx, pol); err != nil {
		t.Fatal(err)
	}
	unscoped := unscopedSO(t, c, "op-metrics", "op-unscoped", "")
	until(t, "the op-metrics policy is in force", 10*time.Second, func() (bool, string) {
		v := dryRun(t, unscoped)
		return !v.denied, v.String()
	})
	createSeen(t, c, unscoped)
	if err := setRules(c, pol, map[string]any{"promql-unscoped": map[string]any{"action": "Warn"}, "promql-metric-name": map[string]any{"action": "Warn"}}); err != nil {
		t.Fatal(err)
	}
	until(t, "the audit counts the stored warning", 90*time.Second, func() (bool, string) {
		v, ok := sample(scrapeScaleguard(t), "scaleguard_audit_findings", map[string]string{"rule": "promql-unscoped", "action": "warn", "namespace": "op-metrics"})
		return ok && v == 1, fmt.Sprint(v, ok)
	})

	// The keeper pauses a ScaledObject whose GPU target arrives after it.
	namespace(t, c, "op-keeper")
	dep, so := runbookObjects(t, "op-keeper")
	if err := c.Create(ctx, so); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the keeper did not pause the ScaledObject", func() bool {
		return getAnnotations(t, c, "op-keeper", so.GetName())[gpu.PausedAnnotation] == "true"
	})

	// A mutating webhook nobody serves, failing open for ConfigMaps of one
	// namespace, makes the API server count a skipped call.
	namespace(t, c, "op-failopen")
	probe := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "op-failopen-probe"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    "probe.op-failopen.test",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{URL: ptr.To("https://127.0.0.1:1/probe")},
			Rules:                   []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}}}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "op-failopen"}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](1),
		}},
	}
	if err := c.Create(ctx, probe); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Delete(ctx, probe); err != nil {
			t.Errorf("deleting the probe webhook: %v", err)
		}
	}()
	eventually(t, 10*time.Second, "the API server never skipped the probe webhook", func() bool {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: "op-failopen"}}
		if err := c.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		_, ok := sample(scrapeAPIServer(t), "apiserver_admission_webhook_fail_open_count", map[string]string{"name": "probe.op-failopen.test", "type": "admit"})
		return ok
	})
}

// TestEveryMetricIsScraped scrapes serve's /metrics after driving every
// metric and checks each one's type, labels and the value it must have.
func TestEveryMetricIsScraped(t *testing.T) {
	driveMetrics(t)
	got := scrapeScaleguard(t)
	for name, want := range map[string]struct {
		typ    dto.MetricType
		labels []string
	}{
		"scaleguard_admission_duration_seconds":               {dto.MetricType_HISTOGRAM, []string{"webhook", "phase"}},
		"scaleguard_admission_requests_total":                 {dto.MetricType_COUNTER, []string{"webhook", "phase", "result"}},
		"scaleguard_denials_total":                            {dto.MetricType_COUNTER, []string{"namespace", "kind", "dry_run"}},
		"scaleguard_findings_total":                           {dto.MetricType_COUNTER, []string{"rule", "action", "kind"}},
		"scaleguard_rule_panics_total":                        {dto.MetricType_COUNTER, []string{"rule"}},
		"scaleguard_keeper_actions_total":                     {dto.MetricType_COUNTER, []string{"action", "result"}},
		"scaleguard_informer_synced":                          {dto.MetricType_GAUGE, []string{"group", "kind"}},
		"scaleguard_watched_kind_served":                      {dto.MetricType_GAUGE, []string{"group", "kind"}},
		"scaleguard_certificate_expiration_timestamp_seconds": {dto.MetricType_GAUGE, nil},
		"scaleguard_audit_findings":                           {dto.MetricType_GAUGE, []string{"rule", "action", "namespace"}},
		"scaleguard_audit_objects_judged_total":               {dto.MetricType_COUNTER, nil},
		"scaleguard_audit_last_scan_timestamp_seconds":        {dto.MetricType_GAUGE, nil},
		"scaleguard_audit_scan_duration_seconds":              {dto.MetricType_HISTOGRAM, nil},
		"scaleguard_policy_refused":                           {dto.MetricType_GAUGE, []string{"policy"}},
		"scaleguard_policy_generation":                        {dto.MetricType_GAUGE, []string{"policy"}},
	} {
		f, ok := got[name]
		if !ok {
			t.Errorf("%s is not exported", name)
			continue
		}
		if f.GetType() != want.typ {
			t.Errorf("%s is a %s, want %s", name, f.GetType(), want.typ)
		}
		for _, m := range f.Metric {
			var names []string
			for _, l := range m.Label {
				names = append(names, l.GetName())
			}
			if strings.Join(sorted(names), ",") != strings.Join(sorted(want.labels), ",") {
				t.Errorf("%s has labels %v, want %v", name, names, want.labels)
				break
			}
		}
	}

	const soValidate = "/validate-keda-sh-v1alpha1-scaledobject"
	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"scaleguard_denials_total", map[string]string{"namespace": "op-metrics", "kind": "ScaledObject", "dry_run": "true"}, 1},
		{"scaleguard_denials_total", map[string]string{"namespace": "op-metrics", "kind": "ScaledObject", "dry_run": "false"}, 1},
		{"scaleguard_admission_requests_total", map[string]string{"webhook": soValidate, "phase": "validate", "result": "denied"}, 2},
		{"scaleguard_admission_requests_total", map[string]string{"webhook": soValidate, "phase": "validate", "result": "allowed"}, 1},
		{"scaleguard_admission_duration_seconds", map[string]string{"webhook": soValidate, "phase": "validate"}, 3},
		{"scaleguard_findings_total", map[string]string{"rule": "target-ref", "action": "deny", "kind": "ScaledObject"}, 2},
		{"scaleguard_keeper_actions_total", map[string]string{"action": "pause", "result": "patched"}, 1},
		{"scaleguard_informer_synced", map[string]string{"group": "keda.sh", "kind": "ScaledObject"}, 1},
		{"scaleguard_watched_kind_served", map[string]string{"group": "workload.serving.volcano.sh", "kind": "ModelServing"}, 1},
		{"scaleguard_audit_findings", map[string]string{"rule": "promql-unscoped", "action": "warn", "namespace": "op-metrics"}, 1},
		{"scaleguard_audit_objects_judged_total", map[string]string{}, 1},
		{"scaleguard_audit_scan_duration_seconds", map[string]string{}, 1},
		{"scaleguard_policy_generation", map[string]string{"policy": "op-metrics"}, 2},
	} {
		v, ok := sample(got, c.name, c.labels)
		if !ok || v < c.min {
			t.Errorf("%s%v = %v (present: %v), want at least %v", c.name, c.labels, v, ok, c.min)
		}
	}
	// The policy is in force as written; the last scan finished after the
	// suite started.
	if v, ok := sample(got, "scaleguard_policy_refused", map[string]string{"policy": "op-metrics"}); !ok || v != 0 {
		t.Errorf("scaleguard_policy_refused{policy=op-metrics} = %v (present: %v), want 0", v, ok)
	}
	if v, ok := sample(got, "scaleguard_audit_last_scan_timestamp_seconds", map[string]string{}); !ok || v < float64(suiteStart.Unix()) {
		t.Errorf("scaleguard_audit_last_scan_timestamp_seconds = %v (present: %v), want after %d", v, ok, suiteStart.Unix())
	}
	// Kinds without a CRD in the test cluster read as not served.
	if v, ok := sample(got, "scaleguard_watched_kind_served", map[string]string{"group": "argoproj.io", "kind": "Rollout"}); !ok || v != 0 {
		t.Errorf("Rollout served = %v (present: %v), want 0: the test cluster has no Argo Rollouts CRD", v, ok)
	}
	if v, ok := sample(got, "scaleguard_rule_panics_total", map[string]string{"rule": "target-ref"}); !ok || v != 0 {
		t.Errorf("scaleguard_rule_panics_total{rule=target-ref} = %v (present: %v), want a 0 series", v, ok)
	}
	// The expiry is the served certificate's.
	b, err := os.ReadFile(filepath.Join(env.WebhookInstallOptions.LocalServingCertDir, certs.CertName))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := sample(got, "scaleguard_certificate_expiration_timestamp_seconds", map[string]string{}); !ok || v != float64(leaf.NotAfter.Unix()) {
		t.Errorf("certificate expiry %v (present: %v), want %d", v, ok, leaf.NotAfter.Unix())
	}
}

// TestDashboardAndAlertsUseExportedMetrics checks that every metric and
// label the Grafana dashboard and the PrometheusRule use, in queries,
// legends and annotations, is exported by scaleguard or by the
// kube-apiserver (whose metrics on its webhooks the alerts read), and that
// every expression parses as a stock Prometheus parses it.
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	driveMetrics(t)
	have := exported{}
	have.add(scrapeAPIServer(t))
	have.add(scrapeScaleguard(t))

	b, err := os.ReadFile(filepath.Join(env.Root, "config", "prometheus", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rule monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(b, &rule); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			n++
			problems, result, err := have.checkExpr(r.Expr.String())
			if err != nil {
				t.Errorf("alert %s: %v", r.Alert, err)
				continue
			}
			for _, text := range r.Annotations {
				for _, m := range alertTemplateLabel.FindAllStringSubmatch(text, -1) {
					if !result[m[1]] {
						problems = append(problems, "the annotations name $labels."+m[1]+", which the expression's result does not carry")
					}
				}
			}
			for _, p := range problems {
				t.Errorf("alert %s: %s", r.Alert, p)
			}
		}
	}

	b, err = os.ReadFile(filepath.Join(env.Root, "config", "grafana", "scaleguard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	variables := strings.NewReplacer("$__rate_interval", "5m", "$namespace", ".*")
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			n++
			problems, result, err := have.checkExpr(variables.Replace(target.Expr))
			if err != nil {
				t.Errorf("panel %q: %v", p.Title, err)
				continue
			}
			for _, m := range legendTemplateLabel.FindAllStringSubmatch(target.LegendFormat, -1) {
				if !result[m[1]] {
					problems = append(problems, "the legend names "+m[1]+", which the query's result does not carry")
				}
			}
			for _, pr := range problems {
				t.Errorf("panel %q: %s", p.Title, pr)
			}
		}
	}
	for _, v := range d.Templating.List {
		q, ok := v.Query.(map[string]any)
		if !ok {
			continue
		}
		m := labelValuesQuery.FindStringSubmatch(q["query"].(string))
		if m == nil {
			t.Errorf("variable %s: %v", v.Name, q["query"])
			continue
		}
		if labels, err := have.series(m[1]); err != nil || !labels[m[2]] {
			t.Errorf("variable %s reads label %s of %s, which is not exported (%v)", v.Name, m[2], m[1], err)
		}
	}
	if n < 20 {
		t.Errorf("only %d expressions checked", n)
	}
}
