package gpu

import (
	"fmt"
	"strconv"
	"time"
)

// Annotations that carry a ScaledObject's pause decision.
const (
	// PausedAnnotation is KEDA's pause switch. Any value that is not a Go
	// bool counts as true (KEDA parses it with strconv.ParseBool and pauses
	// on an error).
	PausedAnnotation = "autoscaling.keda.sh/paused"
	// PausedReplicasAnnotation pauses KEDA at a replica count; its presence
	// alone pauses.
	PausedReplicasAnnotation = "autoscaling.keda.sh/paused-replicas"
	// UnpauseUntilAnnotation is when an explicit un-pause ends: an RFC 3339
	// time after which the pause keeper sets paused: "true" again.
	UnpauseUntilAnnotation = "scaleguard.io/unpause-until"
)

// Decision is the pause decision a ScaledObject's annotations carry.
type Decision int

// Pause decisions.
const (
	// NoDecision: neither paused nor paused-replicas is set.
	NoDecision Decision = iota
	// Paused: KEDA does not scale the target.
	Paused
	// Unpaused: paused is explicitly a false value and paused-replicas is
	// absent, so KEDA scales the target.
	Unpaused
)

// DecisionOf reads the pause decision the way KEDA does.
func DecisionOf(annotations map[string]string) Decision {
	if _, ok := annotations[PausedReplicasAnnotation]; ok {
		return Paused
	}
	v, ok := annotations[PausedAnnotation]
	if !ok {
		return NoDecision
	}
	if b, err := strconv.ParseBool(v); err == nil && !b {
		return Unpaused
	}
	return Paused
}

// UndecidedCondition is, in CEL over a webhook's object, "DecisionOf its
// annotations is NoDecision and it is not being deleted": where
// gpu-paused-default may patch.
var UndecidedCondition = fmt.Sprintf("!has(object.metadata.deletionTimestamp) && (!has(object.metadata.annotations) || "+
	"!(%q in object.metadata.annotations || %q in object.metadata.annotations))", PausedAnnotation, PausedReplicasAnnotation)

// UnpauseUntil reads scaleguard.io/unpause-until: the time, whether the
// annotation is present, and an error when it is not an RFC 3339 time.
func UnpauseUntil(annotations map[string]string) (time.Time, bool, error) {
	v, ok := annotations[UnpauseUntilAnnotation]
	if !ok {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	return t, true, err
}
