package policies

import (
	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
)

// The settings rules read are scaleguard's API types (apis/scaleguard):
// one definition serves the engine, serve and check. These names keep the
// rules' code short.
type (
	// Settings are the effective settings of every rule.
	Settings = sgv1alpha1.Settings
	// Enforcement is what an administrator makes of a rule.
	Enforcement = sgv1alpha1.Enforcement
	// RuleOverride is an administrator's choice for one rule.
	RuleOverride = sgv1alpha1.RuleOverride
	// TargetRefSettings configures target-ref.
	TargetRefSettings = sgv1alpha1.TargetRefSettings
	// KindRef is a kind with the apiVersion that serves it.
	KindRef = sgv1alpha1.KindRef
	// GPUSettings defines the GPU tier.
	GPUSettings = sgv1alpha1.GPUSettings
	// NodeLabel is a node label that marks GPU nodes.
	NodeLabel = sgv1alpha1.NodeLabel
	// PromQLSettings configures the promql-* rules.
	PromQLSettings = sgv1alpha1.PromQLSettings
	// ScopeProfile says when a selector is scoped to one workload.
	ScopeProfile = sgv1alpha1.ScopeProfile
	// TenancyProxy is a Prometheus endpoint that enforces a namespace.
	TenancyProxy = sgv1alpha1.TenancyProxy
	// ConflictSettings configures the conflict-* rules.
	ConflictSettings = sgv1alpha1.ConflictSettings
	// LimitSettings bound the work one object may cost.
	LimitSettings = sgv1alpha1.LimitSettings
)

// Enforcement levels.
const (
	// Enforce applies the rule's own action (deny, warn or mutate).
	Enforce = sgv1alpha1.Enforce
	// WarnOnly turns denials and mutations into warnings.
	WarnOnly = sgv1alpha1.WarnOnly
	// Off disables the rule.
	Off = sgv1alpha1.Off
)

// DefaultSettings returns the built-in defaults, a fresh copy each call.
func DefaultSettings() *Settings { return sgv1alpha1.DefaultSettings() }

// DefaultGPUSettings returns the built-in GPU-tier definition.
func DefaultGPUSettings() GPUSettings { return sgv1alpha1.DefaultGPUSettings() }

// DefaultPromQLSettings are the built-in scope profiles.
func DefaultPromQLSettings() PromQLSettings { return sgv1alpha1.DefaultPromQLSettings() }

// DefaultConflictSettings returns the built-in conflict settings.
func DefaultConflictSettings() ConflictSettings { return sgv1alpha1.DefaultConflictSettings() }

// ValidateSettings checks settings against a registry: every overridden rule
// must exist there, and every value must be valid.
func ValidateSettings(s *Settings, reg *Registry) error {
	return s.Validate(func(id string) bool { _, ok := reg.Get(id); return ok })
}
