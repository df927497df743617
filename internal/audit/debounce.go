package audit

import (
	"sync"
	"time"
)

// DefaultDebounce is how long serve's audit waits after a policy change
// for the next one before it scans: an administrator applying several
// policies at once gets one scan.
const DefaultDebounce = 2 * time.Second

// Debounced passes a trigger on once no other has come for Wait: a burst
// of triggers becomes one, Wait after the last of them.
type Debounced struct {
	Next Trigger
	// Wait is the quiet period; DefaultDebounce when zero.
	Wait time.Duration

	mu     sync.Mutex
	timer  *time.Timer
	reason string
}

var _ Trigger = &Debounced{}

// Trigger implements Trigger. It never blocks.
func (d *Debounced) Trigger(reason string) {
	wait := d.Wait
	if wait <= 0 {
		wait = DefaultDebounce
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reason = reason
	if d.timer == nil {
		d.timer = time.AfterFunc(wait, d.fire)
		return
	}
	d.timer.Reset(wait)
}

func (d *Debounced) fire() {
	d.mu.Lock()
	reason := d.reason
	d.mu.Unlock()
	d.Next.Trigger(reason)
}
