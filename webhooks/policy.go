package webhooks

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/scaleguard/scaleguard/apis"
	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// PolicyKind is ScaleGuardPolicy. It is validated, not guarded: no rule
// judges it, its own validation does.
var PolicyKind = apis.Kind{GVK: sgv1alpha1.GroupVersion.WithKind(sgv1alpha1.PolicyKind), Resource: sgv1alpha1.PolicyResource}

// policyHandler refuses a ScaleGuardPolicy its CRD's schema admits but
// scaleguard cannot apply: rule IDs that do not exist, label and
// annotation names, selectors, durations, and every check of the settings
// (sgv1alpha1.ValidatePolicy). The API server answers 422 with one cause
// per field, so an invalid policy is never stored and never half-applies.
type policyHandler struct {
	endpoint Endpoint
	registry *policies.Registry
}

// NewPolicyHandler returns the HTTP handler of the ScaleGuardPolicy
// validating endpoint.
func NewPolicyHandler(e Endpoint, deps Deps) http.Handler {
	reg := policies.Default
	if deps.Engine != nil && deps.Engine.Registry != nil {
		reg = deps.Engine.Registry
	}
	if deps.QueueWait == 0 {
		deps.QueueWait = DefaultQueueWait
	}
	if deps.slots == nil {
		deps.slots = newSlots(deps.MaxInFlight)
	}
	return &httpHandler{next: observe(e, &policyHandler{endpoint: e, registry: reg}), log: deps.Log.WithValues("webhook", e.Path),
		slots: deps.slots, queueWait: deps.QueueWait}
}

// Handle implements admission's Handler contract.
func (h *policyHandler) Handle(_ context.Context, req admission.Request) admission.Response {
	want := h.endpoint.Kind.GVK
	if got := req.Kind; got.Group != want.Group || got.Version != want.Version || got.Kind != want.Kind {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf(
			"endpoint %s judges %s %s, not %s; the webhook configuration routes the wrong kind here",
			h.endpoint.Path, want.GroupVersion(), want.Kind, describeGVK(got)))
	}
	if req.SubResource != "" {
		return admission.Allowed("subresources are not judged")
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed(fmt.Sprintf("%s is not judged", req.Operation))
	}
	if len(req.Object.Raw) == 0 {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("%s request for %s has no object", req.Operation, want.Kind))
	}
	p, _, err := sgv1alpha1.DecodePolicy(req.Object.Raw)
	var errs field.ErrorList
	if err != nil {
		errs = field.ErrorList{decodeError(err)}
	} else {
		errs = sgv1alpha1.ValidatePolicy(p, func(id string) bool { _, ok := h.registry.Get(id); return ok })
	}
	if len(errs) > 0 {
		status := apierrors.NewInvalid(want.GroupKind(), req.Name, errs).ErrStatus
		return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
	}
	resp := admission.Allowed("")
	resp.Warnings = policyWarnings(p, time.Now())
	return resp
}

// decodeError puts a decoding error ("spec.x: reason" when the field is
// known) on its field.
func decodeError(err error) *field.Error {
	msg := err.Error()
	if path, reason, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(path, "spec") && !strings.Contains(path, " ") {
		return &field.Error{Type: field.ErrorTypeInvalid, Field: path, BadValue: field.OmitValueType{}, Detail: reason}
	}
	return field.Invalid(field.NewPath("spec"), field.OmitValueType{}, msg)
}

// policyWarnings tells the administrator what is valid but does nothing.
func policyWarnings(p *sgv1alpha1.ScaleGuardPolicy, now time.Time) []string {
	var out []string
	for i, e := range p.Spec.Exemptions {
		if e.Until != nil && !now.Before(e.Until.Time) {
			out = append(out, fmt.Sprintf("spec.exemptions[%d].until: %s has passed, so the exemption never applies",
				i, e.Until.UTC().Format(time.RFC3339)))
		}
	}
	return out
}
