package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// Every review is answered within the time the API server gives it. The
// API server sends its webhook configuration's timeoutSeconds as the
// request's timeout query parameter and gives up when it passes; a review
// then runs under that timeout less a margin for the answer to travel
// back. The body must arrive within it, rule evaluation stops when it
// passes (policies.ErrUnfinished), and the answer says so.

// DefaultTimeout is the budget of a review that names no timeout (posted
// directly rather than by an API server): the API's default
// timeoutSeconds.
const DefaultTimeout = 10 * time.Second

// MinTimeout and MaxTimeout are the timeoutSeconds the API accepts; a
// timeout parameter beyond them is taken as the nearest.
const (
	MinTimeout = time.Second
	MaxTimeout = 30 * time.Second
)

// DefaultMaxInFlight is how many reviews are judged at once, across every
// endpoint, unless Deps say otherwise.
const DefaultMaxInFlight = 32

// DefaultQueueWait is how long a review waits for a free slot before it is
// refused with 429 Too Many Requests.
const DefaultQueueWait = time.Second

// budget returns the time a review has in all, from its timeout parameter,
// and the part of it left for judging: the total less a margin of a fifth,
// at least 100ms and at most 1s.
func budget(r *http.Request) (total, judging time.Duration) {
	total = DefaultTimeout
	if v := r.URL.Query().Get("timeout"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			total = min(max(d, MinTimeout), MaxTimeout)
		}
	}
	margin := min(max(total/5, 100*time.Millisecond), time.Second)
	return total, total - margin
}

// slots caps the reviews judged at once.
type slots chan struct{}

func newSlots(n int) slots {
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	return make(slots, n)
}

// acquire takes a slot, waiting up to wait or until ctx ends; release
// gives it back.
func (s slots) acquire(ctx context.Context, wait time.Duration) (release func(), ok bool) {
	select {
	case s <- struct{}{}:
		return func() { <-s }, true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case s <- struct{}{}:
		return func() { <-s }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// busyMessage is the reason of a 429.
func busyMessage(n int) string {
	return fmt.Sprintf("scaleguard is judging %d reviews already, its limit; retry in a second", n)
}

// budgetKey carries a review's judging budget in its context, for the
// message of an answer out of time.
type budgetKey struct{}

// outOfTime answers a review whose judgement passed its deadline: the
// validating side refuses it (it fails closed anyway) with the reason, so
// the client reads why rather than a bare timeout; the mutating side
// leaves it unchanged, with a warning, and lets the validating side
// decide.
func (h *Handler) outOfTime(ctx context.Context) admission.Response {
	within := "the time the API server gives this webhook"
	if d, ok := ctx.Value(budgetKey{}).(time.Duration); ok {
		within = d.String() + " (the webhook's timeout less a margin for the answer)"
	}
	if h.Endpoint.Phase == Mutating {
		resp := admission.Allowed("")
		resp.Warnings = []string{"[scaleguard] not mutated: no verdict within " + within}
		return resp
	}
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed: false,
		Result: &metav1.Status{
			Status: metav1.StatusFailure,
			Code:   http.StatusGatewayTimeout,
			Reason: metav1.StatusReasonTimeout,
			Message: "[scaleguard] the verdict could not be reached within " + within +
				", so the object is refused unjudged; apply it again, and if this repeats, the object costs too much to judge: split its triggers or shorten its queries",
		},
	}}
}

// sameKind refuses a review whose object (or old object) says it is of
// another kind than request.kind: the engine decodes the object as the
// request's kind, so a mismatch would be judged as something it is not.
// An API server never sends one; a direct post can. An object that names
// no kind at all is judged as the request's kind. exactObject skips the
// object, which apis.DecodeExact has found of the kind (or of none).
func sameKind(req admission.Request, want schema.GroupVersionKind, exactObject bool) error {
	for _, o := range []struct {
		what string
		raw  []byte
	}{{"object", req.Object.Raw}, {"oldObject", req.OldObject.Raw}} {
		if len(o.raw) == 0 || (o.what == "object" && exactObject) {
			continue
		}
		var tm metav1.TypeMeta
		if err := unmarshalV1(o.raw, &tm); err != nil {
			continue // not JSON: decoding it says why.
		}
		if tm.APIVersion == "" && tm.Kind == "" {
			continue
		}
		if got := tm.GroupVersionKind(); got != want {
			return fmt.Errorf("request.kind is %s %s but the %s is apiVersion %q kind %q; send the object the review names",
				want.GroupVersion(), want.Kind, o.what, tm.APIVersion, tm.Kind)
		}
	}
	return nil
}
