package audit

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// Gate lets a scan yield to admission requests: the webhook handlers
// count their requests in flight through it, and the scan waits between
// two objects while any is, so a request arriving during a scan shares the
// CPU with at most the judgement of one object. Waiting is bounded
// (MaxWait per object), so a steady stream of requests slows a scan down
// without stopping it.
type Gate struct {
	inflight atomic.Int64
	// MaxWait bounds one wait; DefaultMaxWait when zero.
	MaxWait time.Duration
}

// DefaultMaxWait is the longest a scan waits before judging one more
// object while admission requests keep arriving.
const DefaultMaxWait = 2 * time.Second

// pollEvery is how often a waiting scan looks again.
const pollEvery = 200 * time.Microsecond

// Wrap counts the requests h serves.
func (g *Gate) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.inflight.Add(1)
		defer g.inflight.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// Busy reports whether an admission request is in flight.
func (g *Gate) Busy() bool { return g != nil && g.inflight.Load() > 0 }

// Wait returns once no admission request is in flight, MaxWait passed, or
// ctx ended (then with its error). A nil Gate never waits.
func (g *Gate) Wait(ctx context.Context) error {
	if !g.Busy() {
		return ctx.Err()
	}
	max := g.MaxWait
	if max == 0 {
		max = DefaultMaxWait
	}
	deadline := time.Now().Add(max)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for g.Busy() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return ctx.Err()
}
