// Package webhooks adapts admission requests to the policy engine and its
// findings to admission responses. It holds no rule logic: it decodes the
// AdmissionReview, guards the kind, asks policies.Engine, and answers with a
// JSON patch (mutating), a denial carrying every finding as a field cause
// (validating), and warnings.
//
// Every guarded kind has one mutating and one validating endpoint; the
// dispatch table maps each path to its kind and phase.
package webhooks
