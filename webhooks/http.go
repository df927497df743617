package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"time"

	jsonv1 "github.com/go-json-experiment/json/v1"
	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// MaxRequestBytes bounds an AdmissionReview body: two objects of at most
// 3 MiB each (old and new) plus the envelope.
const MaxRequestBytes = 7 << 20

// reviewer answers one decoded admission request.
type reviewer interface {
	Handle(ctx context.Context, req admission.Request) admission.Response
}

// httpHandler is the HTTP face of an endpoint. A request that is not a
// well-formed admission.k8s.io/v1 AdmissionReview is refused with an HTTP
// 4xx status and a metav1.Status body giving the reason; a well-formed one
// always gets an AdmissionReview response.
type httpHandler struct {
	next reviewer
	log  logr.Logger
	// slots cap the reviews judged at once; queueWait bounds the wait for
	// one (limits.go).
	slots     slots
	queueWait time.Duration
}

func (h *httpHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.fail(w, http.StatusMethodNotAllowed, "method %s not allowed: send an AdmissionReview with POST", r.Method)
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		h.fail(w, http.StatusUnsupportedMediaType, "content type %q not supported: send application/json", r.Header.Get("Content-Type"))
		return
	}
	if r.Body == nil {
		h.fail(w, http.StatusBadRequest, "empty body: send an AdmissionReview")
		return
	}
	total, judging := budget(r)
	ctx, cancel := context.WithTimeout(r.Context(), judging)
	defer cancel()
	ctx = context.WithValue(ctx, budgetKey{}, judging)
	deadline, _ := ctx.Deadline()
	// The body must arrive in time too: a client sending it a byte at a
	// time is cut off at the deadline rather than held open. (A server
	// that cannot set deadlines, as in tests, reads without one.)
	_ = http.NewResponseController(w).SetReadDeadline(deadline)
	body, err := readBody(http.MaxBytesReader(w, r.Body, MaxRequestBytes), r.ContentLength)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, http.StatusRequestEntityTooLarge, "body larger than %d bytes", MaxRequestBytes)
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			h.fail(w, http.StatusRequestTimeout, "the body did not arrive within %s (the review's %s timeout less a margin)", judging, total)
			return
		}
		h.fail(w, http.StatusBadRequest, "reading the body: %v", err)
		return
	}
	if len(body) == 0 {
		h.fail(w, http.StatusBadRequest, "empty body: send an AdmissionReview")
		return
	}
	review, err := decodeReview(body)
	if err != nil {
		h.fail(w, http.StatusBadRequest, "malformed AdmissionReview: %v", err)
		return
	}
	gvk := review.GroupVersionKind()
	if gvk != admissionv1.SchemeGroupVersion.WithKind("AdmissionReview") {
		h.fail(w, http.StatusBadRequest, "expected an admission.k8s.io/v1 AdmissionReview, got apiVersion %q kind %q", review.APIVersion, review.Kind)
		return
	}
	if review.Request == nil {
		h.fail(w, http.StatusBadRequest, "malformed AdmissionReview: no request")
		return
	}
	if review.Request.UID == "" {
		h.fail(w, http.StatusBadRequest, "malformed AdmissionReview: request.uid is empty")
		return
	}

	release, ok := h.slots.acquire(ctx, h.queueWait)
	if !ok {
		w.Header().Set("Retry-After", "1")
		h.fail(w, http.StatusTooManyRequests, "%s", busyMessage(cap(h.slots)))
		return
	}
	defer release()

	req := admission.Request{AdmissionRequest: *review.Request}
	resp := h.next.Handle(ctx, req)
	if err := resp.Complete(req); err != nil {
		h.log.Error(err, "completing the response")
		resp = admission.Errored(http.StatusInternalServerError, err)
		resp.UID = req.UID
	}
	out := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "AdmissionReview"},
		Response: &resp.AdmissionResponse,
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		h.log.Error(err, "writing the response")
	}
}

// presizedBody is the largest announced length readBody allocates before
// the bytes arrive: a client announcing megabytes it never sends holds
// no more than this, as with io.ReadAll it would hold what it sent.
const presizedBody = 64 << 10

// readBody reads a body whose length the request may announce (the API
// server's do) into one buffer of that length, up to presizedBody, where
// io.ReadAll starts at 512 bytes and grows, copying, to two or three times
// the body. The announced length only sizes the buffer: a body longer or
// shorter than announced is read to its end all the same (growing as
// io.ReadAll does), and r bounds it.
func readBody(r io.Reader, announced int64) ([]byte, error) {
	if announced <= 0 || announced > presizedBody {
		return io.ReadAll(r)
	}
	// One byte more, so that the end is seen without growing.
	buf := make([]byte, 0, announced+1)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// decodeReview reads an AdmissionReview as encoding/json does.
func decodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var review admissionv1.AdmissionReview
	if err := unmarshalV1(body, &review); err != nil {
		return nil, err
	}
	return &review, nil
}

// unmarshalV1 decodes data into *v as encoding/json.Unmarshal does, and
// faster. It is read by go-json-experiment/json under encoding/json's
// semantics: one pass over the bytes, where encoding/json takes a
// validity scan, a decode, and a scan of each embedded raw object to find
// its end. Data it refuses is read again by encoding/json, into a zero
// value, and that reading stands: its error, or (should the two ever
// disagree) its value.
func unmarshalV1[T any](data []byte, v *T) error {
	if jsonv1.Unmarshal(data, v) == nil {
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal(data, v)
}

func (h *httpHandler) fail(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	h.log.Info("refused a malformed request", "code", code, "reason", msg)
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   metav1.StatusFailure,
		Message:  msg,
		Reason:   reasonFor(code),
		Code:     int32(code),
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(st)
}

func reasonFor(code int) metav1.StatusReason {
	switch code {
	case http.StatusRequestEntityTooLarge:
		return metav1.StatusReasonRequestEntityTooLarge
	case http.StatusUnsupportedMediaType:
		return metav1.StatusReasonUnsupportedMediaType
	case http.StatusMethodNotAllowed:
		return metav1.StatusReasonMethodNotAllowed
	case http.StatusRequestTimeout:
		return metav1.StatusReasonTimeout
	case http.StatusTooManyRequests:
		return metav1.StatusReasonTooManyRequests
	}
	return metav1.StatusReasonBadRequest
}
