package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

// View is the ClusterView the handlers read, with a way to wait for it to
// be complete.
type View interface {
	policies.ClusterView
	// WaitForSync blocks until the view is complete or ctx ends.
	WaitForSync(ctx context.Context) bool
}

// CreateViewer is a View that judges a CREATE against fresher data than
// its cache (clusterview.Cache: lists read through to the API server, and
// the creates this process admitted moments ago). release is called with
// the verdict.
type CreateViewer interface {
	// ForCreate takes the object as JSON and, when the handler could
	// decode it, decoded (read, never modified; nil otherwise).
	ForCreate(gvk schema.GroupVersionKind, object []byte, decoded client.Object, dryRun bool) (view policies.ClusterView, release func(admitted bool))
}

// UnstoredClaims is a CREATE view (from CreateViewer) that may hold the
// claims of creates the API server refused after they were admitted
// (by another webhook, a quota): a denial resting on such a claim is
// judged again once DropUnstored has dropped them (clusterview.Cache asks
// the API server whether the claimed objects were stored).
type UnstoredClaims interface {
	// DropUnstored drops the claims this judgement used whose objects
	// were not stored, and reports whether it dropped any.
	DropUnstored(ctx context.Context) bool
}

// SyncingView is a View that started reading some kinds only since their
// CRD was installed, and has not finished: it names them, and every verdict
// says that it was reached without them (clusterview.Cache).
type SyncingView interface {
	StillReading() []string
}

// SettingsSource yields the effective settings of each request.
type SettingsSource interface {
	Settings() *policies.Settings
}

// NamespacedSettings is a SettingsSource whose settings depend on the
// namespace of the request (the cluster's ScaleGuardPolicies select
// namespaces); the handlers ask it for the request's namespace.
type NamespacedSettings interface {
	SettingsFor(namespace string) *policies.Settings
}

// settingsFor returns the settings of a request in namespace.
func settingsFor(src SettingsSource, namespace string) *policies.Settings {
	if ns, ok := src.(NamespacedSettings); ok {
		return ns.SettingsFor(namespace)
	}
	return src.Settings()
}

// StaticSettings is a SettingsSource that never changes.
type StaticSettings struct{ S *policies.Settings }

// Settings implements SettingsSource.
func (s StaticSettings) Settings() *policies.Settings { return s.S }

// Deps are what every endpoint shares.
type Deps struct {
	Engine   *policies.Engine
	View     View
	Settings SettingsSource
	Log      logr.Logger
	// SyncWait bounds how long a request waits for the view to sync at
	// start-up before it is answered with an error (default 5s).
	SyncWait time.Duration
	// MaxInFlight caps the reviews judged at once across the endpoints of
	// one Register call (default DefaultMaxInFlight); a review beyond it
	// waits up to QueueWait (default DefaultQueueWait) for a slot and is
	// then refused with 429 Too Many Requests and Retry-After.
	MaxInFlight int
	QueueWait   time.Duration

	slots slots
}

// Handler judges one guarded kind in one phase.
type Handler struct {
	Endpoint Endpoint
	Deps
}

// NewHTTPHandler returns the HTTP handler of an endpoint.
func NewHTTPHandler(e Endpoint, deps Deps) http.Handler {
	if deps.SyncWait == 0 {
		deps.SyncWait = 2 * time.Second
	}
	if deps.QueueWait == 0 {
		deps.QueueWait = DefaultQueueWait
	}
	if deps.slots == nil {
		deps.slots = newSlots(deps.MaxInFlight)
	}
	log := deps.Log.WithValues("webhook", e.Path)
	deps.Log = log
	return &httpHandler{next: observe(e, &Handler{Endpoint: e, Deps: deps}), log: log, slots: deps.slots, queueWait: deps.QueueWait}
}

// Handle implements admission's Handler contract.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	resp := h.handle(ctx, req)
	if sv, ok := h.View.(SyncingView); ok {
		if kinds := sv.StillReading(); len(kinds) > 0 {
			resp.Warnings = append(resp.Warnings, StillReadingWarning(kinds))
		}
	}
	return resp
}

// noWait is a context already done: a WaitForSync with it only says
// whether the view has synced.
var noWait = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// StillReadingWarning is the warning of a verdict reached while the view
// is still reading kinds whose CRD was installed after scaleguard started.
func StillReadingWarning(kinds []string) string {
	return fmt.Sprintf("[scaleguard] judged from what is known so far: scaleguard is still reading the %s objects of the cluster "+
		"(their CRD was installed after it started); a verdict that depends on them may change once it has read them",
		strings.Join(kinds, ", "))
}

func (h *Handler) handle(ctx context.Context, req admission.Request) admission.Response {
	want := h.Endpoint.Kind.GVK
	got := req.Kind
	if got.Group != want.Group || got.Version != want.Version || got.Kind != want.Kind {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf(
			"endpoint %s judges %s %s, not %s; the webhook configuration routes the wrong kind here",
			h.Endpoint.Path, want.GroupVersion(), want.Kind, describeGVK(got)))
	}
	if req.SubResource != "" {
		return admission.Allowed("subresources are not judged")
	}
	var op policies.Operation
	switch req.Operation {
	case admissionv1.Create:
		op = policies.Create
	case admissionv1.Update:
		op = policies.Update
	default:
		return admission.Allowed(fmt.Sprintf("%s is not judged", req.Operation))
	}
	if len(req.Object.Raw) == 0 {
		return h.fail(http.StatusBadRequest, fmt.Errorf("%s request for %s has no object", req.Operation, want.Kind))
	}
	// The object is decoded once, here, and the engine and the CREATE view
	// read it. One that apis.DecodeExact cannot take in one pass (it names
	// another kind, or is not plain JSON) goes through sameKind and the
	// engine's own decoding, which say what is wrong with it. The stored
	// object of an UPDATE is decoded by the engine if a rule reads it (most
	// judgements do not); only its kind is checked here.
	decoded, exact := apis.DecodeExact(want, req.Object.Raw)
	if !exact || len(req.OldObject.Raw) > 0 {
		if err := sameKind(req, want, exact); err != nil {
			return admission.Errored(http.StatusBadRequest, err)
		}
	}
	// Asked first without waiting: once the view has synced (every
	// request but the first few) no timer is set up.
	synced := h.View.WaitForSync(noWait)
	if !synced {
		syncCtx, cancel := context.WithTimeout(ctx, h.SyncWait)
		synced = h.View.WaitForSync(syncCtx)
		cancel()
	}
	if !synced {
		return h.fail(http.StatusServiceUnavailable, fmt.Errorf("scaleguard is starting and its view of the cluster is not synced yet; retry"))
	}

	preq := policies.Request{
		GVK:       want,
		Operation: op,
		Object:    req.Object.Raw,
		View:      h.View,
		Settings:  settingsFor(h.Settings, req.Namespace),
		Now:       time.Now(),
		Context:   ctx,
	}
	if exact {
		preq.Decoded = decoded
	}
	if op == policies.Update {
		preq.OldObject = req.OldObject.Raw
	}
	// The request's logger is built only when something is logged: an
	// admitted request logs nothing at the default level.
	log := func() logr.Logger {
		return h.Log.WithValues("kind", want.Kind, "namespace", req.Namespace, "name", req.Name, "operation", req.Operation,
			"user", req.UserInfo.Username, "dryRun", req.DryRun != nil && *req.DryRun)
	}

	if h.Endpoint.Phase == Mutating {
		res, err := h.Engine.Mutate(preq)
		if errors.Is(err, policies.ErrUnfinished) {
			log().Info("out of time", "reason", err.Error())
			return h.outOfTime(ctx)
		}
		if err != nil {
			return h.fail(http.StatusBadRequest, err)
		}
		countFindings(want.Kind, res.Findings)
		resp := admission.Allowed("")
		resp.Patches = res.Patch
		resp.Warnings = warnings(res.Findings)
		if len(res.Patch) > 0 && h.Log.V(1).Enabled() {
			// An admitted request is logged only at debug level.
			log().V(1).Info("mutated", "rules", ruleIDs(res.Findings))
		}
		return resp
	}

	release := func(bool) {}
	if cv, ok := h.View.(CreateViewer); ok && op == policies.Create {
		preq.View, release = cv.ForCreate(want, req.Object.Raw, preq.Decoded, req.DryRun != nil && *req.DryRun)
	}
	res, err := h.Engine.Validate(preq)
	if err == nil && res.Denied() {
		if u, ok := preq.View.(UnstoredClaims); ok && u.DropUnstored(ctx) {
			res, err = h.Engine.Validate(preq)
		}
	}
	release(err == nil && !res.Denied())
	if errors.Is(err, policies.ErrUnfinished) {
		log().Info("out of time", "reason", err.Error())
		return h.outOfTime(ctx)
	}
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	countFindings(want.Kind, res.Findings)
	var causes field.ErrorList
	var warns, denials []policies.Finding
	for _, f := range res.Findings {
		if f.Action == policies.Deny {
			denials = append(denials, f)
			causes = append(causes, &field.Error{Type: field.ErrorTypeForbidden, Field: f.Field, Detail: fmt.Sprintf("[%s] %s", f.Rule, f.Message)})
		} else {
			warns = append(warns, f)
		}
	}
	if len(causes) == 0 {
		resp := admission.Allowed("")
		resp.Warnings = warnings(warns)
		return resp
	}
	name := req.Name
	if name == "" {
		name = objectName(req)
	}
	status := apierrors.NewInvalid(want.GroupKind(), name, causes).ErrStatus
	// One line per denial, at the default level.
	log().Info("denied", "rules", ruleIDs(denials), "fields", fieldPaths(denials))
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		Allowed:  false,
		Result:   &status,
		Warnings: warnings(warns),
	}}
}

// fail answers a request that cannot be judged. The validating side fails
// closed with the reason; the mutating side fails open with a warning, as
// its failurePolicy: Ignore promises (an allowed: false from a mutating
// webhook would refuse the object whatever the policy says), and leaves the
// verdict to the validating side, which sees the final object.
func (h *Handler) fail(code int32, err error) admission.Response {
	if h.Endpoint.Phase == Mutating {
		resp := admission.Allowed("")
		resp.Warnings = []string{"[scaleguard] not mutated: " + err.Error()}
		return resp
	}
	return admission.Errored(code, err)
}

// objectName is the name of a CREATE with generateName.
func objectName(req admission.Request) string {
	var m struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(req.Object.Raw, &m); err == nil {
		if m.Metadata.Name != "" {
			return m.Metadata.Name
		}
		if m.Metadata.GenerateName != "" {
			return m.Metadata.GenerateName + "*"
		}
	}
	return ""
}

// warnings renders findings as admission warnings. The API server drops a
// warning holding a control character, so those become spaces.
func warnings(fs []policies.Finding) []string {
	var out []string
	for _, f := range fs {
		var s string
		switch f.Action {
		case policies.Mutate:
			s = "[" + f.Rule + "] mutated " + f.Field + ": " + f.Message
		default:
			s = f.String()
		}
		out = append(out, strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s))
	}
	return out
}

func ruleIDs(fs []policies.Finding) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range fs {
		if !seen[f.Rule] {
			seen[f.Rule] = true
			out = append(out, f.Rule)
		}
	}
	return out
}

func fieldPaths(fs []policies.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Field)
	}
	return out
}

func describeGVK(g metav1.GroupVersionKind) string {
	if g.Kind == "" {
		return "an object of no kind"
	}
	if g.Group == "" {
		return g.Version + " " + g.Kind
	}
	return g.Group + "/" + g.Version + " " + g.Kind
}
