package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/scaleguard/scaleguard/webhooks"
)

// drain is how a replica leaves: first not ready, so that it is taken out
// of the Service's endpoints while it still answers every request that
// reaches it, each with Connection: close so that the API server opens its
// next connection to another replica; then (after --shutdown-delay) the
// webhook server stops accepting and finishes the requests in flight, and
// only then does the manager stop the caches those requests read.
type drain struct {
	on atomic.Bool
	// stop ends the webhook server's run; stopped is closed once it
	// returned, every request in flight answered.
	stop, stopped chan struct{}
	once          sync.Once
}

func newDrain() *drain { return &drain{stop: make(chan struct{}), stopped: make(chan struct{})} }

// Check is the readiness check that fails once draining started.
func (d *drain) Check(*http.Request) error {
	if d.on.Load() {
		return errors.New("shutting down: answering the requests that still arrive, then finishing those in flight")
	}
	return nil
}

// wrap marks the responses of a draining replica Connection: close.
func (d *drain) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.on.Load() {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}

// stoppable runs the webhook server until the manager stops or the drain
// stops it, whichever comes first. controller-runtime's manager stops the
// caches before the webhook servers, so a request still in flight then
// would read a stopped cache.
type stoppable struct {
	webhook.Server
	d *drain
}

// Start runs the server until ctx ends or the drain stops it.
func (s stoppable) Start(ctx context.Context) error {
	defer close(s.d.stopped)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.d.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return s.Server.Start(ctx)
}

// stopWebhooks stops the webhook server and waits up to timeout for it to
// have answered the requests in flight.
func (d *drain) stopWebhooks(timeout time.Duration) bool {
	d.once.Do(func() { close(d.stop) })
	select {
	case <-d.stopped:
		return true
	case <-time.After(timeout):
		return false
	}
}

// drainRegistrar registers handlers wrapped by a drain.
type drainRegistrar struct {
	next webhooks.Registrar
	d    *drain
}

func (r drainRegistrar) Register(path string, h http.Handler) { r.next.Register(path, r.d.wrap(h)) }

// tlsOptions are the webhook and metrics servers' TLS settings: TLS 1.2 at
// least, and HTTP/1.1 only unless http2 is set (HTTP/2 servers were open
// to the rapid-reset and stream-cancellation denials of service,
// CVE-2023-44487 and CVE-2023-39325, and the API server calls webhooks
// over HTTP/1.1 happily).
func tlsOptions(http2 bool) []func(*tls.Config) {
	return []func(*tls.Config){func(c *tls.Config) {
		c.MinVersion = tls.VersionTLS12
		if !http2 {
			c.NextProtos = []string{"http/1.1"}
		}
	}}
}
