// Package v1alpha1 holds scaleguard's own API, group scaleguard.io: the
// settings every rule reads, and ScaleGuardPolicy, the cluster-scoped
// object through which an administrator sets them. The policy engine,
// serve and check all read these types, so a setting has one definition
// wherever it is given.
//
// Every field is optional unless marked required: a field a policy does
// not set keeps its built-in default (DefaultSettings).
//
// +kubebuilder:object:generate=true
// +kubebuilder:validation:Optional
// +groupName=scaleguard.io
package v1alpha1
