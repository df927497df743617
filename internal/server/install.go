package server

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/keeper"
	"github.com/scaleguard/scaleguard/webhooks"
)

// Names of what the shipped install (config/, charts/scaleguard) creates.
const (
	DefaultNamespace   = "scaleguard-system"
	DefaultService     = "scaleguard-webhook"
	DefaultSecret      = "scaleguard-webhook-tls"
	DefaultCertificate = "scaleguard-webhook"
)

// DefaultKindsPollInterval is how often discovery is asked whether a
// missing kind is served now.
const DefaultKindsPollInterval = 30 * time.Second

// InstallOptions are how serve runs in a cluster: where its certificate
// comes from, its namespace, TLS, metrics, namespaces it leaves alone.
type InstallOptions struct {
	// Certificates is where the serving certificate comes from;
	// certs.FilesMode (tls.crt and tls.key in CertDir) when empty.
	Certificates certs.Mode
	// Namespace is scaleguard's own namespace (the certificate's Secret,
	// cert-manager's Certificate).
	Namespace string
	// CertSecret, CertificateName and ServiceName name the Secret, the
	// cert-manager Certificate and the webhook Service; Default* when empty.
	CertSecret, CertificateName, ServiceName string
	// Rotation tunes the self-managed certificates.
	Rotation certs.Rotation
	// ExtraDNSNames are more names of the self-managed certificate (for
	// an API server that calls the webhooks by a URL).
	ExtraDNSNames []string

	// EnableHTTP2 serves the webhooks and metrics over HTTP/2 too.
	EnableHTTP2 bool
	// SecureMetrics serves /metrics over HTTPS to clients the API server
	// authenticates (TokenReview) and authorizes (SubjectAccessReview:
	// get on the non-resource URL /metrics).
	SecureMetrics bool

	// ExcludedNamespaces are never judged; ExcludedNamespaces (the
	// package's) when nil. They must be the webhook configurations' own.
	ExcludedNamespaces []string
	// KindsPollInterval is how often discovery is asked whether a kind
	// missing at start is served now; DefaultKindsPollInterval when zero.
	KindsPollInterval time.Duration
	// SkipControllerNameValidation lets several serves run in one process
	// (tests): controller-runtime refuses two controllers of one name.
	SkipControllerNameValidation bool
}

func (o *InstallOptions) defaults() {
	if o.Certificates == "" {
		o.Certificates = certs.FilesMode
	}
	if o.CertSecret == "" {
		o.CertSecret = DefaultSecret
	}
	if o.CertificateName == "" {
		o.CertificateName = DefaultCertificate
	}
	if o.ServiceName == "" {
		o.ServiceName = DefaultService
	}
	if o.ExcludedNamespaces == nil {
		o.ExcludedNamespaces = ExcludedNamespaces
	}
	if o.KindsPollInterval == 0 {
		o.KindsPollInterval = DefaultKindsPollInterval
	}
}

// The metrics server's authentication and authorization filter
// (controller-runtime's) asks the API server about each scrape.
//
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// metricsOptions serves /metrics, over HTTPS behind authentication and
// authorization when SecureMetrics is set.
func metricsOptions(o Options) metricsserver.Options {
	m := metricsserver.Options{BindAddress: o.MetricsAddr}
	if o.SecureMetrics {
		m.SecureServing = true
		m.FilterProvider = filters.WithAuthenticationAndAuthorization
		m.TLSOpts = tlsOptions(o.EnableHTTP2)
	}
	return m
}

// Every replica watches scaleguard's two webhook configurations, to tell
// when their caBundle trusts the certificate served, and in the Secret
// modes the certificate's Secret (each by a field selector on its name).
//
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingwebhookconfigurations,resourceNames=scaleguard-mutating,verbs=list;watch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,resourceNames=scaleguard-validating,verbs=list;watch
// +kubebuilder:rbac:groups="",namespace=scaleguard-system,resources=secrets,resourceNames=scaleguard-webhook-tls,verbs=list;watch

// setupWebhookServer builds the webhook server with the certificate of the
// chosen mode, gated until there is one, and its readiness check.
func setupWebhookServer(mgr manager.Manager, o Options, d *drain, log logr.Logger) (webhook.Server, *certs.Serving, error) {
	ws := webhook.NewServer(webhook.Options{
		Host:    o.Host,
		Port:    o.Port,
		CertDir: o.CertDir,
		TLSOpts: tlsOptions(o.EnableHTTP2),
	})
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := o.Port
	if port == 0 {
		port = 9443
	}
	serving, err := certs.Setup(mgr, certs.Options{
		Mode:                    o.Certificates,
		Dir:                     o.CertDir,
		Namespace:               o.Namespace,
		Secret:                  o.CertSecret,
		Certificate:             o.CertificateName,
		Service:                 o.ServiceName,
		MutatingConfiguration:   webhooks.MutatingConfigurationName,
		ValidatingConfiguration: webhooks.ValidatingConfigurationName,
		Rotation:                o.Rotation,
		ExtraDNSNames:           o.ExtraDNSNames,
		WebhookAddress:          net.JoinHostPort(host, strconv.Itoa(port)),
	}, log.WithName("certificate"))
	if err != nil {
		return nil, nil, err
	}
	if err := mgr.Add(stoppable{serving.Gate(ws), d}); err != nil {
		return nil, nil, err
	}
	return ws, serving, nil
}

// followKeeper sets the pause keeper up now if the cluster serves
// ScaledObjects, else when it starts to (KEDA installed after scaleguard);
// either way the keeper then watches each target kind whose CRD is
// installed later.
func followKeeper(mgr manager.Manager, view *clusterview.Cache, k *keeper.Keeper, log logr.Logger) error {
	var mu sync.Mutex
	started := false
	view.OnServed(func(gvk schema.GroupVersionKind) {
		mu.Lock()
		defer mu.Unlock()
		var err error
		switch {
		case started:
			err = k.WatchServed(gvk)
		case gvk == apis.ScaledObject:
			if err = k.SetupWithManager(mgr, view.Served()); err == nil {
				started = true
				log.Info("the cluster serves ScaledObjects now; the pause keeper is started")
			}
		}
		if err != nil {
			log.Error(err, "the pause keeper could not follow a kind whose CRD was installed after serve started", "kind", gvk.String())
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if !view.IsServed(apis.ScaledObject) {
		log.Info("the cluster does not serve ScaledObjects; the pause keeper starts once it does")
		return nil
	}
	if err := k.SetupWithManager(mgr, view.Served()); err != nil {
		return fmt.Errorf("setting up the pause keeper: %w", err)
	}
	started = true
	return nil
}
