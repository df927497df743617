package webhooks_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// logLines collects what the webhooks log at the default level.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]any
}

func (l *logLines) add(obj string) {
	var m map[string]any
	if err := json.Unmarshal([]byte(obj), &m); err != nil {
		m = map[string]any{"unparsed": obj}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, m)
}

func (l *logLines) take() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.lines
	l.lines = nil
	return out
}

func newLoggedServer(t *testing.T, view webhooks.View, lines *logLines) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	webhooks.Register(webhooks.MuxRegistrar{ServeMux: mux}, webhooks.Deps{
		Engine:   policies.NewEngine(policies.Default),
		View:     view,
		Settings: webhooks.StaticSettings{S: policies.DefaultSettings()},
		// Verbosity 0 is serve's default level.
		Log:      funcr.NewJSON(lines.add, funcr.Options{Verbosity: 0}),
		SyncWait: 50_000_000, // 50ms
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// reviewBy is a request of a named user, optionally a server-side dry run.
func reviewBy(user string, dryRun bool, op admissionv1.Operation, obj string) []byte {
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "uid-1", Kind: soKind, Operation: op, Namespace: "serving", Name: "s",
			UserInfo: authenticationv1.UserInfo{Username: user},
			DryRun:   &dryRun,
			Object:   runtime.RawExtension{Raw: []byte(obj)},
		},
	}
	b, err := json.Marshal(ar)
	if err != nil {
		panic(err)
	}
	return b
}

const cleanSO = `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s","namespace":"serving"},
"spec":{"scaleTargetRef":{"name":"web"},"triggers":[{"type":"cpu","metricType":"Utilization","metadata":{"value":"50"}}]}}`

func TestOneLogLinePerDenialAndNoneForAdmittedRequests(t *testing.T) {
	var lines logLines
	srv := newLoggedServer(t, syncedView{gpuView()}, &lines)
	const sa = "system:serviceaccount:argocd:argocd-application-controller"

	for name, tc := range map[string]struct {
		path string
		body []byte
		want []map[string]any
	}{
		"clean object admitted": {soPath, reviewBy(sa, false, admissionv1.Create, cleanSO), nil},
		"pause injected":        {soMutatePath, reviewBy(sa, false, admissionv1.Create, unpausedGPU), nil},
		"admitted with a warning on the validating side": {soPath, reviewBy(sa, false, admissionv1.Create,
			`{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s","namespace":"serving"},
"spec":{"scaleTargetRef":{"name":"absent"},"triggers":[{"type":"cpu","metricType":"Utilization","metadata":{"value":"50"}}]}}`), nil},
		"denied dry run": {soPath, reviewBy(sa, true, admissionv1.Create, badTarget), []map[string]any{{
			"msg": "denied", "webhook": soPath, "kind": "ScaledObject", "namespace": "serving", "name": "s",
			"operation": "CREATE", "user": sa, "dryRun": true,
			"rules": []any{"target-ref"}, "fields": []any{"spec.scaleTargetRef.apiVersion"},
		}}},
		"denied write": {soPath, reviewBy("alice", false, admissionv1.Update, badTarget), []map[string]any{{
			"msg": "denied", "webhook": soPath, "kind": "ScaledObject", "namespace": "serving", "name": "s",
			"operation": "UPDATE", "user": "alice", "dryRun": false,
			"rules": []any{"target-ref"}, "fields": []any{"spec.scaleTargetRef.apiVersion"},
		}}},
	} {
		t.Run(name, func(t *testing.T) {
			lines.take()
			admit(t, srv, tc.path, tc.body)
			got := lines.take()
			if len(got) != len(tc.want) {
				t.Fatalf("%d lines at the default level, want %d: %v", len(got), len(tc.want), got)
			}
			for i, want := range tc.want {
				for k, v := range want {
					if !jsonEqual(got[i][k], v) {
						t.Errorf("line %d: %s = %v, want %v (line %v)", i, k, got[i][k], v, got[i])
					}
				}
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestAdmissionMetricsCountEachResult(t *testing.T) {
	srv := newServer(t, syncedView{gpuView()})
	unsynced := newServer(t, neverSynced{gpuView()})
	counter := func(path, phase, result string) float64 {
		return testutil.ToFloat64(webhooks.AdmissionRequestsTotal.WithLabelValues(path, phase, result))
	}
	denials := func(dry string) float64 {
		return testutil.ToFloat64(webhooks.DenialsTotal.WithLabelValues("serving", "ScaledObject", dry))
	}

	for name, tc := range map[string]struct {
		srv         *httptest.Server
		path, phase string
		body        []byte
		result      string
		dryDenials  float64
		realDenials float64
	}{
		"allowed":               {srv, soPath, "validate", reviewBy("u", false, admissionv1.Create, cleanSO), webhooks.ResultAllowed, 0, 0},
		"mutated is allowed":    {srv, soMutatePath, "mutate", reviewBy("u", false, admissionv1.Create, unpausedGPU), webhooks.ResultAllowed, 0, 0},
		"denied":                {srv, soPath, "validate", reviewBy("u", false, admissionv1.Create, badTarget), webhooks.ResultDenied, 0, 1},
		"denied dry run":        {srv, soPath, "validate", reviewBy("u", true, admissionv1.Create, badTarget), webhooks.ResultDenied, 1, 0},
		"view not synced":       {unsynced, soPath, "validate", reviewBy("u", false, admissionv1.Create, cleanSO), webhooks.ResultError, 0, 0},
		"mutating fails open":   {unsynced, soMutatePath, "mutate", reviewBy("u", false, admissionv1.Create, unpausedGPU), webhooks.ResultError, 0, 0},
		"object does not parse": {srv, soPath, "validate", reviewBy("u", false, admissionv1.Create, `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","spec":{"minReplicaCount":"x"}}`), webhooks.ResultError, 0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			before := counter(tc.path, tc.phase, tc.result)
			dry, real := denials("true"), denials("false")
			samples := histogramCount(t, tc.path, tc.phase)
			admit(t, tc.srv, tc.path, tc.body)
			if got := counter(tc.path, tc.phase, tc.result) - before; got != 1 {
				t.Errorf("%s{%s} grew by %v, want 1", tc.path, tc.result, got)
			}
			if got := denials("true") - dry; got != tc.dryDenials {
				t.Errorf("dry-run denials grew by %v, want %v", got, tc.dryDenials)
			}
			if got := denials("false") - real; got != tc.realDenials {
				t.Errorf("denials grew by %v, want %v", got, tc.realDenials)
			}
			if got := histogramCount(t, tc.path, tc.phase) - samples; got != 1 {
				t.Errorf("latency histogram of %s %s got %d observations, want 1", tc.path, tc.phase, got)
			}
		})
	}
}

// histogramCount is the number of observations of one latency series.
func histogramCount(t *testing.T, path, phase string) uint64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "scaleguard_admission_duration_seconds" {
			continue
		}
		for _, m := range f.Metric {
			labels := map[string]string{}
			for _, l := range m.Label {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["webhook"] == path && labels["phase"] == phase {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}
