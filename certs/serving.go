package certs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/scaleguard/scaleguard/certs/certmanager"
)

// Mode is where the webhook's serving certificate comes from.
type Mode string

// Modes.
const (
	// FilesMode serves tls.crt and tls.key that something else puts in the
	// certificate directory (a mounted Secret, a test's control plane).
	FilesMode Mode = "files"
	// SelfManagedMode keeps a CA and a serving certificate in a Secret of
	// scaleguard's namespace: the elected replica creates them on first
	// start, renews them before they expire and injects the CA into the
	// caBundle of scaleguard's webhook configurations (cert-controller,
	// rotator.go). Nothing else needs to be installed.
	SelfManagedMode Mode = "self-managed"
	// CertManagerMode serves the certificate cert-manager issues into a
	// Secret; cert-manager's cainjector sets the caBundle.
	CertManagerMode Mode = "cert-manager"
)

// Modes lists the modes, for flag help.
var Modes = []Mode{SelfManagedMode, CertManagerMode, FilesMode}

// Options configure the serving certificate of serve.
type Options struct {
	Mode Mode
	// Dir is the directory the webhook server reads tls.crt and tls.key
	// from (and reloads them from when they change). In the Secret modes
	// scaleguard writes them there (it must be writable: an emptyDir).
	Dir string
	// Namespace is scaleguard's own: the Secret's and the Certificate's.
	Namespace string
	// Secret names the Secret holding the certificate (Secret modes).
	Secret string
	// Certificate names the cert-manager Certificate (CertManagerMode).
	Certificate string
	// Service names the Service in front of the webhooks: the self-managed
	// certificate is for its DNS names.
	Service string
	// ExtraDNSNames are more names of the self-managed certificate.
	ExtraDNSNames []string
	// MutatingConfiguration and ValidatingConfiguration name scaleguard's
	// webhook configurations, whose caBundle must trust the certificate
	// served (and into which SelfManagedMode injects its CA).
	MutatingConfiguration, ValidatingConfiguration string
	// Rotation tunes SelfManagedMode.
	Rotation Rotation
	// WebhookAddress is where the webhook server listens (host:port): the
	// readiness check asks it which certificate it serves.
	WebhookAddress string
}

// Serving is the serving certificate of one serve: a readiness check, and
// a gate that starts the webhook server once there is a certificate.
type Serving struct {
	opts Options
	// reader reads the webhook configurations (the cache of Setup).
	reader client.Reader
	log    logr.Logger
	// certificate reports whether the cert-manager Certificate is Ready;
	// nil in the other modes.
	certificate func(ctx context.Context) error
	ready       readiness
}

// Setup adds to mgr what the mode needs: in the Secret modes a watch of
// the Secret that writes its certificate into Dir in every replica, and
// in SelfManagedMode the rotator, which runs in the elected replica.
// Every mode reads scaleguard's webhook configurations, to tell when the
// certificate served is trusted.
func Setup(mgr manager.Manager, o Options, log logr.Logger) (*Serving, error) {
	if o.Dir == "" {
		return nil, errors.New("no certificate directory given (--cert-dir)")
	}
	switch o.Mode {
	case FilesMode, SelfManagedMode, CertManagerMode:
	default:
		return nil, fmt.Errorf("certificate mode %q: want one of %v", o.Mode, Modes)
	}
	if o.Mode != FilesMode && (o.Namespace == "" || o.Secret == "") {
		return nil, fmt.Errorf("certificate mode %s needs scaleguard's namespace and the Secret's name", o.Mode)
	}
	if o.Mode == CertManagerMode && o.Certificate == "" {
		return nil, errors.New("certificate mode cert-manager needs the name of the Certificate")
	}
	if o.Mode == SelfManagedMode && o.Service == "" {
		return nil, errors.New("certificate mode self-managed needs the name of the webhook Service")
	}
	c, err := newCache(mgr, o)
	if err != nil {
		return nil, err
	}
	s := &Serving{opts: o, reader: c, log: log}
	s.ready = readiness{serving: s, log: log}
	if err := mgr.Add(c); err != nil {
		return nil, err
	}
	for _, obj := range []client.Object{&admissionregistrationv1.MutatingWebhookConfiguration{}, &admissionregistrationv1.ValidatingWebhookConfiguration{}} {
		if _, err := c.GetInformer(context.Background(), obj, cache.BlockUntilSynced(false)); err != nil {
			return nil, fmt.Errorf("watching the webhook configurations: %w", err)
		}
	}
	if o.Mode != FilesMode {
		if err := mirrorSecret(c, o.Dir, log.WithName("secret")); err != nil {
			return nil, err
		}
	}
	switch o.Mode {
	case SelfManagedMode:
		if err := addRotator(mgr, o); err != nil {
			return nil, err
		}
	case CertManagerMode:
		key := types.NamespacedName{Namespace: o.Namespace, Name: o.Certificate}
		if _, err := c.GetInformer(context.Background(), certmanager.Object(), cache.BlockUntilSynced(false)); err != nil {
			return nil, fmt.Errorf("watching the Certificate %s: %w", key, err)
		}
		s.certificate = func(ctx context.Context) error { return certmanager.Ready(ctx, c, key) }
	}
	return s, nil
}

// newCache builds the cache of what the certificate depends on, each kind
// narrowed to the objects named: the two webhook configurations, and the
// Secret and Certificate in scaleguard's namespace.
func newCache(mgr manager.Manager, o Options) (cache.Cache, error) {
	scheme := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(scheme))
	utilruntime.Must(admissionregistrationv1.AddToScheme(scheme))
	byName := func(name string) cache.ByObject {
		return cache.ByObject{Field: fields.OneTermEqualSelector("metadata.name", name)}
	}
	by := map[client.Object]cache.ByObject{
		&admissionregistrationv1.MutatingWebhookConfiguration{}:   byName(o.MutatingConfiguration),
		&admissionregistrationv1.ValidatingWebhookConfiguration{}: byName(o.ValidatingConfiguration),
	}
	if o.Mode != FilesMode {
		sec := byName(o.Secret)
		sec.Namespaces = map[string]cache.Config{o.Namespace: {}}
		by[&corev1.Secret{}] = sec
	}
	if o.Mode == CertManagerMode {
		utilruntime.Must(certmanager.AddToScheme(scheme))
		cert := byName(o.Certificate)
		cert.Namespaces = map[string]cache.Config{o.Namespace: {}}
		by[certmanager.Object()] = cert
	}
	c, err := cache.New(mgr.GetConfig(), cache.Options{Scheme: scheme, ByObject: by, ReaderFailOnMissingInformer: true})
	if err != nil {
		return nil, fmt.Errorf("watching what the serving certificate depends on: %w", err)
	}
	return c, nil
}

// pollEvery is how often the gate looks for a certificate.
const pollEvery = time.Second
