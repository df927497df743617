package certs

import (
	"context"
	"crypto/tls"
	"path/filepath"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// Gate wraps the webhook server so that it starts once the certificate
// directory holds a certificate and key that belong together, instead of
// failing (controller-runtime's server reads them when it starts). Until
// then the replica runs, not ready, and its readiness check says what it
// waits for; it never exits for want of a certificate.
func (s *Serving) Gate(srv webhook.Server) webhook.Server {
	return &gated{Server: srv, dir: s.opts.Dir}
}

type gated struct {
	webhook.Server
	dir string
}

// Start waits for the certificate, then starts the webhook server.
func (g *gated) Start(ctx context.Context) error {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for !pairReady(g.dir) {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
	return g.Server.Start(ctx)
}

func pairReady(dir string) bool {
	_, err := tls.LoadX509KeyPair(filepath.Join(dir, CertName), filepath.Join(dir, KeyName))
	return err == nil
}
