package conflict

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
)

// Rule IDs of the family.
const (
	HPAID          = "conflict-hpa"
	ScaledObjectID = "conflict-scaledobject"
	KServeID       = "conflict-kserve"
	KthenaID       = "conflict-kthena"
	GitOpsID       = "conflict-gitops-replicas"
)

// clash is one conflict of the judged object with another object.
type clash struct {
	// other names the object on the other side: kind/namespace/name.
	other string
	// topic is what the two fight over: a workload key, or an HPA name.
	topic string
	// finding is the verdict on the judged object.
	finding policies.Finding
}

func (c clash) key() string { return c.other + "\x00" + c.topic }

// updateNote ends the message of a conflict the stored object already had.
const updateNote = " (already so before this update; admitted so it can be fixed by editing)"

// judge runs find over the object and, on UPDATE, over the stored object:
// a conflict with the same other object over the same thing that the
// stored object already had is a warning, so the object can still be
// edited; a conflict the update brings (a new target, a new autoscaler
// class pointing at a scaled workload) stays a denial. The engine's own
// grandfathering compares messages; this compares the two objects in
// conflict, so an edit that changes how the conflict reads (hpa to keda,
// say) is still recognised as the same conflict. Only the stored object's
// denials count: what it was merely warned about (a leftover nothing
// fought, a conflict in an assumed mode) is no conflict it already had.
func judge(in *policies.Input, find func(obj client.Object) []clash) []policies.Finding {
	now := find(in.Object)
	if len(now) == 0 {
		return nil
	}
	var before map[string]bool
	if in.Operation == policies.Update && in.OldObject != nil {
		before = map[string]bool{}
		for _, c := range find(in.OldObject) {
			if c.finding.Action == policies.Deny {
				before[c.key()] = true
			}
		}
	}
	out := make([]policies.Finding, 0, len(now))
	for _, c := range now {
		f := c.finding
		if f.Action == policies.Deny && before[c.key()] {
			f.Action = policies.Warn
			f.Message += updateNote
		}
		out = append(out, f)
	}
	return out
}
