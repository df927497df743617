package webhooks

import (
	"net/http"
	"strings"

	"github.com/scaleguard/scaleguard/apis"
)

// Phase is the admission phase an endpoint serves.
type Phase string

// Phases.
const (
	Mutating   Phase = "mutate"
	Validating Phase = "validate"
)

// Path is the endpoint of a kind in a phase, kubebuilder style:
// /validate-keda-sh-v1alpha1-scaledobject.
func Path(phase Phase, k apis.Kind) string {
	group := strings.ReplaceAll(k.GVK.Group, ".", "-")
	if group == "" {
		group = "core"
	}
	return "/" + string(phase) + "-" + group + "-" + k.GVK.Version + "-" + strings.ToLower(k.GVK.Kind)
}

// Endpoint is one entry of the dispatch table.
type Endpoint struct {
	Path  string
	Phase Phase
	Kind  apis.Kind
}

// Endpoints is the dispatch table: a mutating and a validating endpoint per
// guarded kind, and the validating endpoint of ScaleGuardPolicy.
func Endpoints() []Endpoint {
	var out []Endpoint
	for _, k := range apis.Guarded {
		for _, p := range []Phase{Mutating, Validating} {
			out = append(out, Endpoint{Path: Path(p, k), Phase: p, Kind: k})
		}
	}
	out = append(out, Endpoint{Path: Path(Validating, PolicyKind), Phase: Validating, Kind: PolicyKind})
	return out
}

// Registrar is where endpoints are registered (controller-runtime's
// webhook.Server, or an http.ServeMux in tests).
type Registrar interface {
	Register(path string, hook http.Handler)
}

// MuxRegistrar registers endpoints on an http.ServeMux (the handlers
// alone, without controller-runtime's server: tests, benchmarks).
type MuxRegistrar struct{ *http.ServeMux }

// Register implements Registrar.
func (m MuxRegistrar) Register(path string, h http.Handler) { m.Handle(path, h) }

// Register registers every endpoint of the dispatch table. The endpoints
// share one cap on the reviews judged at once (Deps.MaxInFlight).
func Register(srv Registrar, deps Deps) {
	if deps.slots == nil {
		deps.slots = newSlots(deps.MaxInFlight) // shared by every endpoint.
	}
	for _, e := range Endpoints() {
		if e.Kind == PolicyKind {
			srv.Register(e.Path, NewPolicyHandler(e, deps))
			continue
		}
		srv.Register(e.Path, NewHTTPHandler(e, deps))
	}
}
