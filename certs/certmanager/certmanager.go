// Package certmanager tells whether the cert-manager Certificate of
// scaleguard's serving certificate is Ready, with cert-manager's own API
// types. It is its own package so that its permission, generated from the
// marker below into config/certmanager, is granted only to installs that
// use cert-manager.
package certmanager

import (
	"context"
	"fmt"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// +kubebuilder:rbac:groups=cert-manager.io,namespace=scaleguard-system,roleName=scaleguard-cert-manager,resources=certificates,resourceNames=scaleguard-webhook,verbs=list;watch

// AddToScheme adds cert-manager's types.
func AddToScheme(s *runtime.Scheme) error { return cmapi.AddToScheme(s) }

// Object is an empty Certificate, to watch.
func Object() client.Object { return &cmapi.Certificate{} }

// Ready returns nil when the Certificate key is Ready, else why it is not,
// in cert-manager's words (the condition's reason and message).
func Ready(ctx context.Context, r client.Reader, key types.NamespacedName) error {
	cert := &cmapi.Certificate{}
	if err := r.Get(ctx, key, cert); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("cert-manager Certificate %s not found: apply config/certmanager (or the chart with certificates.mode=cert-manager), which creates it", key)
		}
		return fmt.Errorf("reading the cert-manager Certificate %s: %w", key, err)
	}
	for _, c := range cert.Status.Conditions {
		if c.Type != cmapi.CertificateConditionReady {
			continue
		}
		if c.Status == cmmeta.ConditionTrue {
			if c.ObservedGeneration != 0 && c.ObservedGeneration < cert.Generation {
				return fmt.Errorf("cert-manager Certificate %s changed and cert-manager has not acted on the change yet", key)
			}
			return nil
		}
		return fmt.Errorf("cert-manager Certificate %s is not Ready: %s: %s", key, c.Reason, c.Message)
	}
	return fmt.Errorf("cert-manager Certificate %s has no Ready condition yet: is cert-manager running?", key)
}
