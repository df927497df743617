package clusterpolicy

import (
	"context"
	"math"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/event"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/internal/audit"
)

var _ audit.CountSink = &StatusController{}

// RecordCounts implements audit.CountSink: it keeps the counts of the
// latest scan and has every policy's status rewritten with them. It never
// blocks the scan: a rewrite already asked for carries the newest counts.
func (r *StatusController) RecordCounts(_ context.Context, c audit.Counts) {
	r.countsMu.Lock()
	r.counts = &c
	r.countsMu.Unlock()
	select {
	case r.scanned <- event.GenericEvent{Object: newObject()}:
	default:
	}
}

// lastCounts returns the counts of the latest scan, nil before one.
func (r *StatusController) lastCounts() *audit.Counts {
	r.countsMu.Lock()
	defer r.countsMu.Unlock()
	return r.counts
}

// AuditStatus sums the findings of a scan over the namespaces p covers.
// A namespace no longer in namespaces (deleted since the scan) is matched
// by its name alone.
func AuditStatus(p *Policy, c audit.Counts, namespaces []corev1.Namespace) *sgv1alpha1.PolicyAuditStatus {
	byName := make(map[string]labels.Set, len(namespaces))
	for i := range namespaces {
		byName[namespaces[i].Name] = NamespaceLabels(namespaces[i].Name, &namespaces[i])
	}
	sums := c.Sum(func(ns string) bool {
		l, ok := byName[ns]
		if !ok {
			l = NamespaceLabels(ns, nil)
		}
		return p.Covers(l)
	})
	// The API keeps seconds: a finer time would differ from what is read
	// back, and rewrite the status at every reconcile.
	st := &sgv1alpha1.PolicyAuditStatus{ScanTime: metav1.NewTime(c.Time).Rfc3339Copy()}
	for rule, n := range sums {
		if n.Deny+n.Warn+n.Mutate == 0 {
			continue
		}
		st.Rules = append(st.Rules, sgv1alpha1.RuleFindings{Rule: rule, Deny: i32(n.Deny), Warn: i32(n.Warn), Mutate: i32(n.Mutate)})
		st.Deny, st.Warn, st.Mutate = add32(st.Deny, n.Deny), add32(st.Warn, n.Warn), add32(st.Mutate, n.Mutate)
	}
	sort.Slice(st.Rules, func(i, j int) bool { return st.Rules[i].Rule < st.Rules[j].Rule })
	return st
}

func i32(n int) int32 { return add32(0, n) }

// add32 adds without overflowing the API's int32.
func add32(a int32, n int) int32 {
	if s := int64(a) + int64(n); s < math.MaxInt32 {
		return int32(s)
	}
	return math.MaxInt32
}

// scannedEvents is the channel RecordCounts signals the controller on.
func (r *StatusController) scannedEvents() chan event.GenericEvent {
	if r.scanned == nil {
		r.scanned = make(chan event.GenericEvent, 1)
	}
	return r.scanned
}
