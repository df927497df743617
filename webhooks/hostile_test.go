package webhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// serverWith serves every endpoint with deps (an empty synced view, the
// default settings and a silent log unless set), over TLS, HTTP/2 when h2.
func serverWith(t *testing.T, deps webhooks.Deps, h2 bool) *httptest.Server {
	t.Helper()
	if deps.Engine == nil {
		deps.Engine = policies.NewEngine(policies.Default)
	}
	if deps.View == nil {
		deps.View = syncedView{clusterview.NewManifests()}
	}
	if deps.Settings == nil {
		deps.Settings = webhooks.StaticSettings{S: policies.DefaultSettings()}
	}
	deps.Log = logr.Discard()
	mux := http.NewServeMux()
	webhooks.Register(webhooks.MuxRegistrar{ServeMux: mux}, deps)
	srv := httptest.NewUnstartedServer(mux)
	srv.EnableHTTP2 = h2
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestObjectOfAnotherKindIsRefused(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	deployment := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"s","namespace":"serving"},"spec":{"replicas":1}}`
	for _, path := range []string{soPath, soMutatePath} {
		t.Run(path, func(t *testing.T) {
			r := admit(t, srv, path, review(soKind, admissionv1.Create, deployment))
			if r.Allowed || r.Result == nil || r.Result.Code != 400 ||
				!strings.Contains(r.Result.Message, `request.kind is keda.sh/v1alpha1 ScaledObject but the object is apiVersion "apps/v1" kind "Deployment"`) {
				t.Fatalf("allowed=%v result %+v", r.Allowed, r.Result)
			}
		})
	}
	t.Run("another version", func(t *testing.T) {
		obj := strings.Replace(badTarget, `"keda.sh/v1alpha1"`, `"keda.sh/v1beta1"`, 1)
		if r := admit(t, srv, soPath, review(soKind, admissionv1.Create, obj)); r.Allowed || r.Result.Code != 400 {
			t.Fatalf("allowed=%v result %+v", r.Allowed, r.Result)
		}
	})
	t.Run("old object of another kind", func(t *testing.T) {
		var ar admissionv1.AdmissionReview
		_ = json.Unmarshal(review(soKind, admissionv1.Update, badTarget), &ar)
		ar.Request.OldObject.Raw = []byte(deployment)
		body, _ := json.Marshal(ar)
		if r := admit(t, srv, soPath, body); r.Allowed || r.Result.Code != 400 || !strings.Contains(r.Result.Message, "the oldObject is") {
			t.Fatalf("allowed=%v result %+v", r.Allowed, r.Result)
		}
	})
	t.Run("old object that does not decode, read for a denial", func(t *testing.T) {
		// The stored object is decoded when a rule reads it: here, to tell
		// whether it had the new object's denial already.
		var ar admissionv1.AdmissionReview
		_ = json.Unmarshal(review(soKind, admissionv1.Update, badTarget), &ar)
		ar.Request.OldObject.Raw = []byte(strings.Replace(badTarget, `"spec":{`, `"spec":{"minReplicaCount":"many",`, 1))
		body, _ := json.Marshal(ar)
		if r := admit(t, srv, soPath, body); r.Allowed || r.Result.Code != 400 || !strings.Contains(r.Result.Message, "old object:") {
			t.Fatalf("allowed=%v result %+v", r.Allowed, r.Result)
		}
	})
	t.Run("an object naming no kind is judged as the request's", func(t *testing.T) {
		obj := strings.Replace(badTarget, `"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject",`, ``, 1)
		if r := admit(t, srv, soPath, review(soKind, admissionv1.Create, obj)); r.Allowed || !strings.Contains(r.Result.Message, "[target-ref]") {
			t.Fatalf("allowed=%v result %+v", r.Allowed, r.Result)
		}
	})
}

// TestAManyTriggerObjectGetsASmallAnswer sends one ScaledObject with 5,000
// unscoped prometheus triggers: the denial stays small enough to reach its
// reader and names the rule.
func TestAManyTriggerObjectGetsASmallAnswer(t *testing.T) {
	srv := newServer(t, syncedView{clusterview.NewManifests()})
	var triggers []string
	for range 5000 {
		triggers = append(triggers, `{"type":"prometheus","metadata":{"serverAddress":"http://prometheus:9090","threshold":"5","query":"sum(vllm:num_requests_waiting)"}}`)
	}
	obj := `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s","namespace":"serving"},` +
		`"spec":{"scaleTargetRef":{"name":"llm"},"triggers":[` + strings.Join(triggers, ",") + `]}}`
	resp, body := post(t, srv, soPath, "application/json", bytes.NewReader(review(soKind, admissionv1.Create, obj)))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %.300s", resp.StatusCode, body)
	}
	t.Logf("a %d KB object got a %d KB answer", len(obj)>>10, len(body)>>10)
	if len(body) > 64<<10 {
		t.Errorf("answer of %d bytes, want under 64 KB", len(body))
	}
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	r := out.Response
	if r.Allowed || r.Result == nil || !strings.Contains(r.Result.Message, "spec.triggers[0].metadata.query: Forbidden: [promql-unscoped] selector") ||
		!strings.Contains(r.Result.Message, "spec.triggers[20].metadata.query: Forbidden: [promql-unscoped] 4980 more denials of this rule, from this field on, not listed") {
		t.Fatalf("result …%s", r.Result.Message[len(r.Result.Message)-600:])
	}
}

// slowRule denies after looping until the request's deadline; running
// counts the calls in progress. It is a mutate rule that may deny, so both
// phases run it.
type slowRule struct{ running, calls atomic.Int32 }

func (s *slowRule) registry(t *testing.T) *policies.Registry {
	reg := policies.NewRegistry()
	if err := reg.Register(policies.Rule{
		ID: "slow", Kinds: []schema.GroupVersionKind{apis.ScaledObject}, Action: policies.Mutate, MayDeny: true, Summary: "loops until the deadline",
		Check: func(in *policies.Input) []policies.Finding {
			s.calls.Add(1)
			s.running.Add(1)
			defer s.running.Add(-1)
			for !in.Expired() {
				time.Sleep(time.Millisecond)
			}
			return []policies.Finding{policies.Denyf(nil, "late")}
		},
	}); err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestJudgementOutOfTime: a judgement still running at the review's
// deadline (its timeout less a margin) stops, and the answer says the
// verdict could not be reached: a denial on the validating side, no patch
// on the mutating side. Nothing is left running.
func TestJudgementOutOfTime(t *testing.T) {
	slow := &slowRule{}
	srv := serverWith(t, webhooks.Deps{Engine: policies.NewEngine(slow.registry(t))}, false)
	for _, c := range []struct {
		path    string
		timeout string
		budget  string
	}{
		{soPath + "?timeout=1s", "1s", "800ms"},
		{soMutatePath + "?timeout=1s", "1s", "800ms"},
		{soPath + "?timeout=2s", "2s", "1.6s"},
	} {
		t.Run(c.path, func(t *testing.T) {
			start := time.Now()
			r := admit(t, srv, c.path, review(soKind, admissionv1.Create, unpausedGPU))
			took := time.Since(start)
			if strings.HasPrefix(c.path, soMutatePath) {
				if !r.Allowed || len(r.Patch) != 0 || len(r.Warnings) != 1 ||
					r.Warnings[0] != "[scaleguard] not mutated: no verdict within "+c.budget+" (the webhook's timeout less a margin for the answer)" {
					t.Fatalf("mutating answer %+v", r)
				}
			} else if r.Allowed || r.Result.Code != http.StatusGatewayTimeout || r.Result.Reason != metav1.StatusReasonTimeout ||
				!strings.Contains(r.Result.Message, "the verdict could not be reached within "+c.budget+" (the webhook's timeout less a margin for the answer), so the object is refused unjudged") {
				t.Fatalf("validating answer %+v", r.Result)
			}
			timeout, _ := time.ParseDuration(c.timeout)
			if took > timeout {
				t.Errorf("answered after %v, past the %v timeout", took, timeout)
			}
			if slow.running.Load() != 0 {
				t.Error("the rule is still running after the answer")
			}
		})
	}
	if slow.calls.Load() != 3 {
		t.Errorf("the rule ran %d times, want 3", slow.calls.Load())
	}
}

// gate is a view whose sync waits until opened, to hold reviews in flight.
type gate struct {
	syncedView
	open    chan struct{}
	waiting atomic.Int32
}

func (g *gate) WaitForSync(ctx context.Context) bool {
	// The handler first asks without waiting, with a context already
	// done: only a review that waits holds its slot.
	if ctx.Err() != nil {
		select {
		case <-g.open:
			return true
		default:
			return false
		}
	}
	g.waiting.Add(1)
	select {
	case <-g.open:
		return true
	case <-ctx.Done():
		return false
	}
}

// TestReviewsBeyondTheCapGet429: with every slot taken, a review waits the
// queue time, then is refused with 429 and Retry-After, a Status saying
// why; once a slot frees, reviews are judged again.
func TestReviewsBeyondTheCapGet429(t *testing.T) {
	g := &gate{syncedView: syncedView{clusterview.NewManifests()}, open: make(chan struct{})}
	srv := serverWith(t, webhooks.Deps{View: g, MaxInFlight: 2, QueueWait: 100 * time.Millisecond, SyncWait: 10 * time.Second}, true)
	var wg sync.WaitGroup
	held := make([]*admissionv1.AdmissionResponse, 2)
	for i := range held {
		wg.Go(func() { held[i] = admit(t, srv, soPath, review(soKind, admissionv1.Create, badTarget)) })
	}
	for g.waiting.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	for _, path := range []string{soPath, soMutatePath} { // the cap is shared by every endpoint
		start := time.Now()
		resp, body := post(t, srv, path, "application/json", bytes.NewReader(review(soKind, admissionv1.Create, badTarget)))
		var st metav1.Status
		_ = json.Unmarshal(body, &st)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
			st.Reason != metav1.StatusReasonTooManyRequests || st.Code != 429 ||
			st.Message != "scaleguard is judging 2 reviews already, its limit; retry in a second" {
			t.Fatalf("%s: status %d, Retry-After %q, body %s", path, resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if waited := time.Since(start); waited < 100*time.Millisecond {
			t.Errorf("refused after %v, before the queue time", waited)
		}
	}
	close(g.open)
	wg.Wait()
	for _, r := range held {
		if r.Allowed || !strings.Contains(r.Result.Message, "[target-ref]") {
			t.Errorf("a held review was not judged: %+v", r.Result)
		}
	}
	if r := admit(t, srv, soPath, review(soKind, admissionv1.Create, badTarget)); r.Allowed {
		t.Error("a review after the burst was not judged")
	}
}

// trickle is a body that sends a byte every 50ms and never ends.
type trickle struct{ stop chan struct{} }

func (tr trickle) Read(p []byte) (int, error) {
	select {
	case <-tr.stop:
		return 0, io.EOF
	case <-time.After(50 * time.Millisecond):
	}
	p[0] = ' '
	return 1, nil
}

// TestSlowBodyIsCutAtTheDeadline: a body sent a byte at a time is not
// waited for past the review's deadline, over HTTP/1.1 and HTTP/2.
func TestSlowBodyIsCutAtTheDeadline(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			srv := serverWith(t, webhooks.Deps{}, h2)
			tr := trickle{stop: make(chan struct{})}
			defer close(tr.stop)
			req, err := http.NewRequest(http.MethodPost, srv.URL+soPath+"?timeout=1s", tr)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := srv.Client().Do(req)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("after %v: %v", took, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var st metav1.Status
			_ = json.Unmarshal(body, &st)
			if resp.StatusCode != http.StatusRequestTimeout || st.Reason != metav1.StatusReasonTimeout ||
				!strings.Contains(st.Message, "the body did not arrive within 800ms (the review's 1s timeout less a margin)") {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if took > 2*time.Second {
				t.Errorf("cut off after %v, want about 800ms", took)
			}
		})
	}
}
