package webhooks_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// FuzzAdmissionReview posts arbitrary bodies to every endpoint through the
// HTTP handler, seeded with reviews of the examples: it never panics and
// never answers 5xx; a body that is a well-formed admission.k8s.io/v1
// review (a request with a uid) gets a review back with a verdict for that
// uid, anything else a 4xx Status.
func FuzzAdmissionReview(f *testing.F) {
	paths, err := filepath.Glob("../examples/*/*.yaml")
	if err != nil || len(paths) == 0 {
		f.Fatalf("examples: %v", err)
	}
	objs, err := manifests.Read(paths, nil)
	if err != nil {
		f.Fatal(err)
	}
	view := clusterview.NewManifests()
	for _, o := range objs {
		if obj, err := apis.Decode(o.GVK, o.JSON); err == nil {
			view.Add(obj)
		}
	}
	endpoints := webhooks.Endpoints()
	handlers := make([]http.Handler, len(endpoints))
	for i, e := range endpoints {
		handlers[i] = webhooks.NewHTTPHandler(e, webhooks.Deps{
			Engine:   policies.NewEngine(policies.Default),
			View:     syncedView{view},
			Settings: webhooks.StaticSettings{S: policies.DefaultSettings()},
			Log:      logr.Discard(),
		})
	}
	for _, o := range objs {
		if !apis.IsGuarded(o.GVK) {
			continue
		}
		for i, e := range endpoints {
			if e.Kind.GVK != o.GVK {
				continue
			}
			// A CREATE to the mutating endpoint, an UPDATE to the validating.
			ar := admissionv1.AdmissionReview{
				TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
				Request: &admissionv1.AdmissionRequest{
					UID: "u", Kind: metav1.GroupVersionKind(o.GVK), Operation: admissionv1.Create, Namespace: o.Namespace, Name: o.Name,
					Object: runtime.RawExtension{Raw: o.JSON},
				},
			}
			if e.Phase == webhooks.Validating {
				ar.Request.Operation = admissionv1.Update
				ar.Request.OldObject = runtime.RawExtension{Raw: o.JSON}
			}
			b, _ := json.Marshal(ar)
			f.Add(uint8(i), b)
		}
	}
	f.Add(uint8(0), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u"}}`))
	f.Add(uint8(1), []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"keda.sh","version":"v1alpha1","kind":"ScaledObject"},"operation":"CREATE","object":{"kind":"Deployment","apiVersion":"apps/v1"}}}`))
	f.Add(uint8(2), []byte(`{}`))

	f.Fuzz(func(t *testing.T, endpoint uint8, body []byte) {
		i := int(endpoint) % len(handlers)
		req := httptest.NewRequest(http.MethodPost, endpoints[i].Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handlers[i].ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
		var in admissionv1.AdmissionReview
		wellFormed := json.Unmarshal(body, &in) == nil && in.APIVersion == "admission.k8s.io/v1" && in.Kind == "AdmissionReview" &&
			in.Request != nil && in.Request.UID != ""
		if !wellFormed {
			if rec.Code == http.StatusOK {
				// The handler accepted what this check refused: only a body
				// that decodes the same way for both may pass.
				var out admissionv1.AdmissionReview
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil {
					t.Fatalf("200 without a review for %q: %s", body, rec.Body.Bytes())
				}
				return
			}
			var st metav1.Status
			if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code < 400 || int(st.Code) != rec.Code {
				t.Fatalf("status %d for %q without a Status: %s", rec.Code, body, rec.Body.Bytes())
			}
			return
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("a well-formed review got %d: %s", rec.Code, rec.Body.Bytes())
		}
		var out admissionv1.AdmissionReview
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Response == nil || out.Response.UID != in.Request.UID {
			t.Fatalf("no verdict for uid %q: %s", in.Request.UID, rec.Body.Bytes())
		}
		if r := out.Response; !r.Allowed && (r.Result == nil || r.Result.Code >= 500 && r.Result.Code != 503 && r.Result.Code != 504) {
			t.Fatalf("refused without a reason, or with an internal error: %+v", r.Result)
		}
	})
}
