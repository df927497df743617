// Package v1alpha1 is a minimal, read-only view of Argo Rollouts'
// argoproj.io/v1alpha1 Rollout: only the fields scaleguard's rules read (the
// pod template, or the Deployment whose template it borrows). Every other
// field of a real object is tolerated and ignored.
//
// +kubebuilder:object:generate=true
// +groupName=argoproj.io
package v1alpha1
