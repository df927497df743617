package audit

import (
	"sync"
	"testing"
	"time"
)

type recordedTriggers struct {
	mu      sync.Mutex
	reasons []string
	at      []time.Time
}

func (r *recordedTriggers) Trigger(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons = append(r.reasons, reason)
	r.at = append(r.at, time.Now())
}

func (r *recordedTriggers) got() ([]string, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reasons...), append([]time.Time(nil), r.at...)
}

// TestDebouncedMakesABurstOneTrigger: triggers closer together than Wait
// reach Next once, Wait after the last, with its reason; a trigger after a
// quiet period reaches it again.
func TestDebouncedMakesABurstOneTrigger(t *testing.T) {
	next := &recordedTriggers{}
	const wait = time.Second
	d := &Debounced{Next: next, Wait: wait}
	var last time.Time
	for i, reason := range []string{"a", "b", "c"} {
		if i > 0 {
			time.Sleep(wait / 20)
		}
		last = time.Now()
		d.Trigger(reason)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if reasons, _ := next.got(); len(reasons) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Anything else of the burst would come within another Wait.
	time.Sleep(2 * wait)
	reasons, at := next.got()
	if len(reasons) != 1 || reasons[0] != "c" {
		t.Fatalf("burst passed on as %q, want one trigger with the last reason", reasons)
	}
	if at[0].Sub(last) < wait {
		t.Errorf("passed on %s after the last trigger, before the quiet period of %s", at[0].Sub(last), wait)
	}

	d.Trigger("d")
	deadline = time.Now().Add(10 * time.Second)
	for {
		if reasons, _ = next.got(); len(reasons) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(reasons) != 2 || reasons[1] != "d" {
		t.Errorf("after a quiet period: %q, want a second trigger d", reasons)
	}
}
