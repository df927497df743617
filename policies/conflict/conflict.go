package conflict

import (
	"fmt"
	"strings"

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
	AutoscalerID   = "conflict-autoscaler"
)

// clash is one conflict of the judged object with another object, or with
// a group of others named in one finding.
type clash struct {
	// other names the object on the other side: kind/namespace/name.
	other string
	// group, instead of other, holds the objects on the other side of a
	// grouped clash.
	group *crowd
	// topic is what the two fight over: a workload key, or an HPA name.
	topic string
	// finding is the verdict on the judged object.
	finding policies.Finding
}

// keys identify the conflicts a clash stands for, one per other object.
func (c clash) keys() []string {
	if c.group == nil {
		return []string{c.other + "\x00" + c.topic}
	}
	out := make([]string, len(c.group.all))
	for i, o := range c.group.all {
		out[i] = otherKey(c.group.kindOf(o), o.GetNamespace(), o.GetName()) + "\x00" + c.topic
	}
	return out
}

// hadAll reports whether before holds every key of c.
func (c clash) hadAll(before map[string]bool) bool {
	if len(before) == 0 {
		return false
	}
	for _, k := range c.keys() {
		if !before[k] {
			return false
		}
	}
	return true
}

// maxNamed is how many objects a grouped finding names; the rest are
// counted.
const maxNamed = 5

// crowd gathers the other objects of a grouped clash, of one kind (or of
// the kinds kinds tells): it
// counts them and keeps the first few, and keeps them all only on UPDATE,
// where the stored object's conflicts are compared one by one. Judging one
// of N objects on a target so allocates nothing per other object.
type crowd struct {
	kind  string
	n     int
	first []client.Object
	all   []client.Object
	keep  bool
	// kinds, when set, names the kind of each object (a crowd of several
	// kinds), and describes it in names.
	kinds func(client.Object) (kind, text string)
}

// kindOf is the kind of one of the crowd's objects.
func (c *crowd) kindOf(o client.Object) string {
	if c.kinds != nil {
		k, _ := c.kinds(o)
		return k
	}
	return c.kind
}

func newCrowd(kind string, in *policies.Input) *crowd {
	return &crowd{kind: kind, keep: in.Operation == policies.Update}
}

func (c *crowd) add(o client.Object) {
	c.n++
	if len(c.first) < maxNamed {
		c.first = append(c.first, o)
	}
	if c.keep {
		c.all = append(c.all, o)
	}
}

// names quotes the names of the first few and counts the rest.
func (c *crowd) names() string {
	var b strings.Builder
	for i, o := range c.first {
		if i > 0 {
			b.WriteString(", ")
		}
		if c.kinds != nil {
			_, text := c.kinds(o)
			b.WriteString(text)
			continue
		}
		fmt.Fprintf(&b, "%q", o.GetName())
	}
	if c.n > len(c.first) {
		fmt.Fprintf(&b, " and %d more", c.n-len(c.first))
	}
	return b.String()
}

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
	if in.Operation == policies.Update && in.OldObject() != nil {
		before = map[string]bool{}
		for _, c := range find(in.OldObject()) {
			if c.finding.Action == policies.Deny {
				for _, k := range c.keys() {
					before[k] = true
				}
			}
		}
	}
	out := make([]policies.Finding, 0, len(now))
	for _, c := range now {
		f := c.finding
		if f.Action == policies.Deny && c.hadAll(before) {
			f.Action = policies.Warn
			f.Message += updateNote
		}
		out = append(out, f)
	}
	return out
}
