package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
	"github.com/scaleguard/scaleguard/webhooks"
)

type syncedView struct{ *clusterview.Manifests }

func (syncedView) WaitForSync(context.Context) bool { return true }

type neverSynced struct{ *clusterview.Manifests }

func (neverSynced) WaitForSync(ctx context.Context) bool { <-ctx.Done(); return false }

func newServer(t *testing.T, view webhooks.View) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	webhooks.Register(webhooks.MuxRegistrar{ServeMux: mux}, webhooks.Deps{
		Engine:   policies.NewEngine(policies.Default),
		View:     view,
		Settings: webhooks.StaticSettings{S: policies.DefaultSettings()},
		Log:      logr.Discard(),
		SyncWait: 50_000_000, // 50ms
	})
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const soPath = "/validate-keda-sh-v1alpha1-scaledobject"

func review(kind metav1.GroupVersionKind, op admissionv1.Operation, obj string) []byte {
	ar := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: "uid-1", Kind: kind, Operation: op, Namespace: "serving", Name: "s",
			Object: runtime.RawExtension{Raw: []byte(obj)},
		},
	}
	if obj == "" {
		ar.Request.Object.Raw = nil
	}
	b, err := json.Marshal(ar)
	if err != nil {
		panic(err)
	}
	return b
}

var soKind = metav1.GroupVersionKind{Group: "keda.sh", Version: "v1alpha1", Kind: "ScaledObject"}

const badTarget = `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s","namespace":"serving"},
"spec":{"scaleTargetRef":{"kind":"ModelServing","name":"llm"},"triggers":[{"type":"cpu","metadata":{"value":"50"}}]}}`

func post(t *testing.T, srv *httptest.Server, path, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestMalformedRequestsGet4xxWithAReason(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	huge := bytes.Repeat([]byte("x"), webhooks.MaxRequestBytes+10)
	cases := map[string]struct {
		contentType string
		body        []byte
		code        int
		reason      string
	}{
		"not JSON":             {"application/json", []byte("{not json"), 400, "malformed AdmissionReview"},
		"empty body":           {"application/json", nil, 400, "empty body"},
		"no request":           {"application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`), 400, "no request"},
		"no uid":               {"application/json", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"ScaledObject"}}}`), 400, "request.uid is empty"},
		"wrong review version": {"application/json", []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u"}}`), 400, "expected an admission.k8s.io/v1 AdmissionReview"},
		"not a review":         {"application/json", []byte(`{"apiVersion":"v1","kind":"Pod"}`), 400, "expected an admission.k8s.io/v1 AdmissionReview"},
		"wrong content type":   {"text/plain", review(soKind, admissionv1.Create, badTarget), 415, "content type \"text/plain\" not supported"},
		"no content type":      {"", review(soKind, admissionv1.Create, badTarget), 415, "not supported"},
		"huge body":            {"application/json", huge, 413, "larger than"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp, body := post(t, srv, soPath, tc.contentType, bytes.NewReader(tc.body))
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.code, body)
			}
			var st metav1.Status
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("body is not a Status: %v: %s", err, body)
			}
			if int(st.Code) != tc.code || !strings.Contains(st.Message, tc.reason) {
				t.Fatalf("status %+v, want code %d and %q", st, tc.code, tc.reason)
			}
		})
	}
	t.Run("GET", func(t *testing.T) {
		resp, err := srv.Client().Get(srv.URL + soPath)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}

func admit(t *testing.T, srv *httptest.Server, path string, body []byte) *admissionv1.AdmissionResponse {
	t.Helper()
	resp, b := post(t, srv, path, "application/json", bytes.NewReader(body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" || out.Response == nil || out.Response.UID != "uid-1" {
		t.Fatalf("response review = %s", b)
	}
	return out.Response
}

func TestWrongKindIsRefusedWithTheReason(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	pod := metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}
	r := admit(t, srv, soPath, review(pod, admissionv1.Create, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}`))
	if r.Allowed || r.Result == nil || r.Result.Code != 400 || !strings.Contains(r.Result.Message, "judges keda.sh/v1alpha1 ScaledObject, not v1 Pod") {
		t.Fatalf("response %+v", r.Result)
	}
}

func TestObjectThatDoesNotDecodeIsABadRequest(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	for name, obj := range map[string]string{
		"wrong field type": `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s"},"spec":{"minReplicaCount":"x"}}`,
		"no object":        ``,
	} {
		t.Run(name, func(t *testing.T) {
			r := admit(t, srv, soPath, review(soKind, admissionv1.Create, obj))
			if r.Allowed || r.Result == nil || r.Result.Code != 400 {
				t.Fatalf("response %+v", r.Result)
			}
		})
	}
}

func TestDenialCarriesRuleFieldAndFix(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	r := admit(t, srv, soPath, review(soKind, admissionv1.Create, badTarget))
	if r.Allowed || r.Result == nil || r.Result.Code != 422 || r.Result.Reason != metav1.StatusReasonInvalid {
		t.Fatalf("result %+v", r.Result)
	}
	causes := r.Result.Details.Causes
	if len(causes) != 1 || causes[0].Field != "spec.scaleTargetRef.apiVersion" || causes[0].Type != metav1.CauseTypeForbidden ||
		!strings.Contains(causes[0].Message, "[target-ref]") || !strings.Contains(causes[0].Message, "apiVersion: workload.serving.volcano.sh/v1alpha1") {
		t.Fatalf("causes %+v", causes)
	}
}

func TestWarningsAndUntouchedOperations(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	absent := strings.Replace(badTarget, `"kind":"ModelServing",`, ``, 1)
	r := admit(t, srv, soPath, review(soKind, admissionv1.Create, absent))
	targetRefWarnings := 0
	for _, w := range r.Warnings {
		if strings.HasPrefix(w, "[target-ref] spec.scaleTargetRef.name: ") {
			targetRefWarnings++
		}
	}
	if !r.Allowed || targetRefWarnings != 1 {
		t.Fatalf("want allowed with one target-ref warning: %+v", r)
	}
	for _, op := range []admissionv1.Operation{admissionv1.Delete, admissionv1.Connect} {
		r := admit(t, srv, soPath, review(soKind, op, badTarget))
		if !r.Allowed {
			t.Errorf("%s must not be judged: %+v", op, r.Result)
		}
	}
	sub := review(soKind, admissionv1.Update, badTarget)
	var ar admissionv1.AdmissionReview
	_ = json.Unmarshal(sub, &ar)
	ar.Request.SubResource = "status"
	sub, _ = json.Marshal(ar)
	if r := admit(t, srv, soPath, sub); !r.Allowed {
		t.Errorf("subresources must not be judged: %+v", r.Result)
	}
}

func TestUnsyncedViewFailsTheRequestInsteadOfGuessing(t *testing.T) {
	srv := newServer(t, neverSynced{clusterview.NewManifests()})
	r := admit(t, srv, soPath, review(soKind, admissionv1.Create, badTarget))
	if r.Allowed || r.Result == nil || r.Result.Code != 503 || !strings.Contains(r.Result.Message, "not synced") {
		t.Fatalf("result %+v", r.Result)
	}
}

func TestUnknownPathIs404(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	resp, _ := post(t, srv, "/validate-v1-pod", "application/json", bytes.NewReader(review(soKind, admissionv1.Create, badTarget)))
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
