// Package v1 is a minimal, read-only view of LeaderWorkerSet
// (leaderworkerset.x-k8s.io/v1), the workload multi-node vLLM runs on: only
// the fields scaleguard's rules read (replicas and the leader and worker pod
// templates). Every other field of a real object is tolerated and ignored.
//
// +kubebuilder:object:generate=true
// +groupName=leaderworkerset.x-k8s.io
package v1
