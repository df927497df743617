package certs

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// The self-managed certificates are cert-controller's (Gatekeeper's
// rotator): it reads and writes the Secret, and the webhook configurations
// it injects the CA into, through a cache of its own that lists every
// Secret of scaleguard's namespace and every webhook configuration.
//
// +kubebuilder:rbac:groups="",namespace=scaleguard-system,roleName=scaleguard-cert-rotator,resources=secrets,verbs=list;watch;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,roleName=scaleguard-cert-rotator,resources=mutatingwebhookconfigurations;validatingwebhookconfigurations,verbs=list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,roleName=scaleguard-cert-rotator,resources=mutatingwebhookconfigurations,resourceNames=scaleguard-mutating,verbs=update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,roleName=scaleguard-cert-rotator,resources=validatingwebhookconfigurations,resourceNames=scaleguard-validating,verbs=update

// Rotation tunes the self-managed certificates; zero values take
// cert-controller's defaults (in brackets).
type Rotation struct {
	// CAValidity is how long a new CA is valid [10 years].
	CAValidity time.Duration
	// CertValidity is how long a new serving certificate is valid [1 year].
	CertValidity time.Duration
	// RenewBefore renews a certificate (or the CA, and the certificate with
	// it) this long before it expires [90 days].
	RenewBefore time.Duration
	// CheckEvery is how often expiry is checked [12 hours]; a change of the
	// Secret or of a webhook configuration is checked at once.
	CheckEvery time.Duration
}

// CAName is the common name of the self-managed CA.
const CAName = "scaleguard-ca"

// rotators counts the rotators of this process: controller-runtime refuses
// two controllers of one name in a process, and tests run several serves.
var rotators atomic.Int32

// addRotator adds cert-controller's rotator to mgr, in the elected
// replica only. It requires the Secret to exist (the install creates it
// empty); it writes the CA (ca.crt, ca.key) and the serving certificate
// (tls.crt, tls.key) into it, and the CA into the caBundle of every
// webhook of both configurations.
//
// A limit of cert-controller: when the CA itself is renewed (once in its
// validity, RenewBefore ahead of its end), the caBundle is replaced by the
// new CA at once, and a replica still serving the old certificate is not
// trusted until it has written the new one (within a second, mirror.go):
// requests reaching it in that second fail. Renewing the serving
// certificate alone, which is what happens every CertValidity -
// RenewBefore, keeps the CA and loses nothing.
func addRotator(mgr manager.Manager, o Options) error {
	dns := o.Service + "." + o.Namespace + ".svc"
	name := "cert-rotator"
	if n := rotators.Add(1); n > 1 {
		name = fmt.Sprintf("cert-rotator-%d", n)
	}
	r := &rotator.CertRotator{
		SecretKey:      types.NamespacedName{Namespace: o.Namespace, Name: o.Secret},
		CertDir:        o.Dir,
		CAName:         CAName,
		CAOrganization: "scaleguard",
		DNSName:        dns,
		ExtraDNSNames:  append([]string{dns + ".cluster.local", o.Service + "." + o.Namespace}, o.ExtraDNSNames...),
		IsReady:        make(chan struct{}),
		Webhooks: []rotator.WebhookInfo{
			{Name: o.MutatingConfiguration, Type: rotator.Mutating},
			{Name: o.ValidatingConfiguration, Type: rotator.Validating},
		},
		FieldOwner:             "scaleguard",
		RequireLeaderElection:  true,
		CaCertDuration:         o.Rotation.CAValidity,
		ServerCertDuration:     o.Rotation.CertValidity,
		LookaheadInterval:      o.Rotation.RenewBefore,
		RotationCheckFrequency: o.Rotation.CheckEvery,
		ControllerName:         name,
	}
	if err := rotator.AddRotator(mgr, r); err != nil {
		return fmt.Errorf("setting up the certificate rotator: %w", err)
	}
	return nil
}
