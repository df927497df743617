package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Check is the readiness check of the serving certificate: it fails, saying
// why, until the webhook server serves a certificate that is valid now and
// that every webhook of scaleguard's configurations trusts (its caBundle
// verifies it). In CertManagerMode it first needs the Certificate Ready.
// A renewal does not make it fail: the certificate served until the new
// one is loaded is still valid and trusted. The reason of a failure is
// logged when it changes; /readyz/<name> answers with it.
func (s *Serving) Check(req *http.Request) error {
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	err := s.check(ctx, time.Now())
	s.ready.report(err)
	return err
}

func (s *Serving) check(ctx context.Context, now time.Time) error {
	if s.certificate != nil {
		if err := s.certificate(ctx); err != nil {
			return err
		}
	}
	leaf, err := s.served(ctx)
	if err != nil {
		return err
	}
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("the serving certificate expired at %s%s", leaf.NotAfter.UTC().Format(time.RFC3339), s.newer(now, leaf))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("the serving certificate is not valid before %s", leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	for _, cfg := range []client.Object{
		&admissionregistrationv1.MutatingWebhookConfiguration{},
		&admissionregistrationv1.ValidatingWebhookConfiguration{},
	} {
		if err := s.trusted(ctx, cfg, leaf, now); err != nil {
			return err
		}
	}
	return nil
}

// served returns the certificate the webhook server serves (the one in the
// directory when there is no address to ask), or why there is none.
func (s *Serving) served(ctx context.Context) (*x509.Certificate, error) {
	file, ferr := loadPair(s.opts.Dir)
	if ferr != nil {
		if s.opts.Mode != FilesMode {
			// No file yet: say where it comes from, not what to mount.
			cause := errors.Unwrap(ferr)
			if cause == nil {
				cause = ferr
			}
			ferr = fmt.Errorf("no serving certificate in %s yet (%v)", s.opts.Dir, cause)
		}
		switch s.opts.Mode {
		case SelfManagedMode:
			ferr = fmt.Errorf("%w; the elected replica writes one into the Secret %s/%s, and every replica copies it here", ferr, s.opts.Namespace, s.opts.Secret)
		case CertManagerMode:
			ferr = fmt.Errorf("%w; cert-manager issues it into the Secret %s/%s, and every replica copies it here", ferr, s.opts.Namespace, s.opts.Secret)
		}
		return nil, ferr
	}
	if s.opts.WebhookAddress == "" {
		return file, nil
	}
	d := &tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}} //nolint:gosec // the certificate is checked below, not trusted
	conn, err := d.DialContext(ctx, "tcp", s.opts.WebhookAddress)
	if err != nil {
		return nil, fmt.Errorf("the webhook server does not answer on %s yet: %w", s.opts.WebhookAddress, err)
	}
	defer conn.Close()
	peer := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(peer) == 0 {
		return nil, fmt.Errorf("the webhook server on %s serves no certificate", s.opts.WebhookAddress)
	}
	return peer[0], nil
}

// newer says that the directory holds a valid certificate the server has
// not loaded yet, when it does.
func (s *Serving) newer(now time.Time, served *x509.Certificate) string {
	if file, err := CheckDir(s.opts.Dir, now); err == nil && !file.Equal(served) {
		return fmt.Sprintf("; %s holds a valid one, not loaded yet", filepath.Join(s.opts.Dir, CertName))
	}
	return ""
}

// trusted checks that every webhook of one of scaleguard's configurations
// has a caBundle that verifies leaf.
func (s *Serving) trusted(ctx context.Context, cfg client.Object, leaf *x509.Certificate, now time.Time) error {
	name, kind := s.opts.ValidatingConfiguration, "ValidatingWebhookConfiguration"
	if _, ok := cfg.(*admissionregistrationv1.MutatingWebhookConfiguration); ok {
		name, kind = s.opts.MutatingConfiguration, "MutatingWebhookConfiguration"
	}
	if err := s.reader.Get(ctx, client.ObjectKey{Name: name}, cfg); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s %s not found: the API server calls no scaleguard webhook", kind, name)
		}
		return fmt.Errorf("reading %s %s: %w", kind, name, err)
	}
	type hook struct {
		name   string
		bundle []byte
	}
	var hooks []hook
	switch c := cfg.(type) {
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		for _, w := range c.Webhooks {
			hooks = append(hooks, hook{w.Name, w.ClientConfig.CABundle})
		}
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		for _, w := range c.Webhooks {
			hooks = append(hooks, hook{w.Name, w.ClientConfig.CABundle})
		}
	}
	for _, h := range hooks {
		if err := verifies(h.bundle, leaf, now); err != nil {
			return fmt.Errorf("%s %s, webhook %s: %w", kind, name, h.name, err)
		}
	}
	return nil
}

// verifies reports whether a caBundle verifies leaf at now.
func verifies(bundle []byte, leaf *x509.Certificate, now time.Time) error {
	if len(bundle) == 0 {
		return errors.New("caBundle is empty: the CA has not been injected yet")
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := bundle; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			pool.AddCert(c)
			n++
		}
	}
	if n == 0 {
		return errors.New("caBundle holds no certificate")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return fmt.Errorf("caBundle does not trust the serving certificate (issued by %q): the CA has not been injected yet (%v)", leaf.Issuer.CommonName, err)
	}
	return nil
}

// readiness logs the reason of the readiness check when it changes.
type readiness struct {
	serving *Serving
	log     logr.Logger
	mu      sync.Mutex
	last    string
}

func (r *readiness) report(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg == r.last {
		return
	}
	r.last = msg
	if err != nil {
		r.log.Info("not ready", "reason", msg)
		return
	}
	r.log.Info("serving certificate ready: served, valid and trusted by every webhook configuration")
}
