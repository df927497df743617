package audit

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// Gate keeps a scan from raising admission latency. The webhook handlers
// count their requests in flight through it (Wrap); the scan, after each
// object, rests in proportion to the time that object took, so it keeps at
// most Share of one CPU and allocates at that pace, and then waits while
// any admission request is in flight (at most MaxWait, so a steady stream
// of requests slows a scan down without stopping it).
type Gate struct {
	inflight atomic.Int64
	// Share is the fraction of time a scan may spend judging;
	// DefaultShare when zero.
	Share float64
	// MaxWait bounds one wait for admission requests to finish;
	// DefaultMaxWait when zero.
	MaxWait time.Duration
}

// Defaults of a Gate.
const (
	DefaultShare   = 0.1
	DefaultMaxWait = 2 * time.Second
)

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

// Yield is called by a scan after work that took spent: it rests so that
// the scan keeps to its share, then waits while admission requests are in
// flight. It returns ctx's error when ctx ends. A nil Gate returns at once.
func (g *Gate) Yield(ctx context.Context, spent time.Duration) error {
	if g == nil {
		return ctx.Err()
	}
	share := g.Share
	if share <= 0 || share > 1 {
		share = DefaultShare
	}
	if rest := time.Duration(float64(spent) * (1 - share) / share); rest > 0 {
		t := time.NewTimer(rest)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
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
