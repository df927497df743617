// Package v1alpha1 holds scaleguard's own API, group scaleguard.io: the
// settings every rule reads. The policy engine, serve and check all read
// these types, so a setting has one definition wherever it is given.
//
// +kubebuilder:object:generate=true
// +groupName=scaleguard.io
package v1alpha1
