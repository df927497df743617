// Package conflict holds the conflict-* rules: exactly one autoscaler owns
// the replicas of each workload. A ScaledObject is checked against HPAs,
// other ScaledObjects, KServe's own autoscaler and Kthena's autoscaling
// policies, and each of those against the ScaledObjects already there, so
// the conflict is caught whichever object arrives first. A warning rule
// covers the GitOps tool that resets spec.replicas on every sync.
//
// On UPDATE a conflict the stored object already had with the same other
// object is admitted with a warning, so the object can be edited (and
// fixed); an update that creates a conflict (a new target, a new autoscaler
// class) is denied.
//
// A verdict that rests on an assumption is a warning that says so: KServe's
// deployment mode taken from the settings because the InferenceService
// states none, or Argo CD inferred from a tracking label alone.
package conflict
