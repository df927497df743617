package v1alpha1

import (
	"fmt"
	"sort"
	"strings"
)

// Enforcement is what an administrator makes of a rule.
// +kubebuilder:validation:Enum=Enforce;Warn;Off
type Enforcement string

// Enforcement levels.
const (
	// Enforce applies the rule's own action (deny, warn or mutate).
	Enforce Enforcement = "Enforce"
	// WarnOnly turns denials and mutations into warnings.
	WarnOnly Enforcement = "Warn"
	// Off disables the rule.
	Off Enforcement = "Off"
)

// Settings are the effective settings of every rule. The zero value is not
// useful: start from DefaultSettings.
type Settings struct {
	// Rules overrides the enforcement of individual rules, keyed by rule ID.
	// A rule not listed is enforced with its own action.
	// +kubebuilder:validation:XValidation:rule="self.all(id, id.matches('^[a-z][a-z0-9]*(-[a-z0-9]+)*$'))",message="keys are rule IDs: lowercase words joined by dashes (scaleguard rules lists them)"
	Rules map[string]RuleOverride `json:"rules,omitempty"`
	// AllowExemptions lets an object exempt itself from rules with the
	// annotation scaleguard.io/exempt: <rule>[,<rule>...] beside a
	// non-empty scaleguard.io/exempt-reason. With false the annotation is
	// ignored (rules.<id>.allowExemptions decides per rule), and only the
	// administrator's Exemptions apply. True by default.
	AllowExemptions *bool `json:"allowExemptions,omitempty"`
	// Exemptions exempt objects from rules by the administrator's
	// decision, each with a reason and optionally an end. An exempted
	// denial is admitted with a warning that names the reason.
	// +listType=atomic
	Exemptions []Exemption `json:"exemptions,omitempty"`

	// TargetRef configures the target-ref rule.
	TargetRef TargetRefSettings `json:"targetRef"`

	// GPU defines the GPU tier for the gpu-* rules and the pause keeper.
	GPU GPUSettings `json:"gpu"`
	// PromQL configures the promql-* rules: the scope profiles and the
	// metric catalogue's additions.
	PromQL PromQLSettings `json:"promql"`
	// Conflicts configures the conflict-* rules.
	Conflicts ConflictSettings `json:"conflicts"`
	// Limits bound the work one object may cost: the size of the PromQL
	// queries read and the number of findings reported.
	Limits LimitSettings `json:"limits"`
	// Prometheus configures the audit's live query check.
	Prometheus PrometheusSettings `json:"prometheus,omitempty"`
}

// RuleOverride is an administrator's choice for one rule.
type RuleOverride struct {
	// Action is Enforce (the rule's own action: deny, warn or mutate), Warn
	// (denials and mutations become warnings) or Off. Enforce when empty.
	// In YAML write "Off" in quotes: unquoted, YAML reads it as false.
	Action Enforcement `json:"action,omitempty"`
	// AllowExemptions, when set, replaces spec.allowExemptions for this
	// rule: false ignores scaleguard.io/exempt naming it.
	AllowExemptions *bool `json:"allowExemptions,omitempty"`
}

// TargetRefSettings configures target-ref.
type TargetRefSettings struct {
	// ScalableKinds are kinds KEDA can scale through their /scale
	// subresource, each with the apiVersion that serves it. A kind listed
	// here is checked against its apiVersion; add the CRDs your clusters
	// scale (for example argoproj.io/v1alpha1 Rollout is listed by default).
	ScalableKinds []KindRef `json:"scalableKinds"`
	// UnscalableKinds are known kinds that have no /scale subresource, so a
	// ScaledObject can never scale them.
	UnscalableKinds []KindRef `json:"unscalableKinds"`
}

// KindRef is a kind with the apiVersion that serves it.
type KindRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// DefaultSettings returns the built-in defaults, a fresh copy each call.
func DefaultSettings() *Settings {
	return &Settings{
		AllowExemptions: ptrTo(true),
		TargetRef: TargetRefSettings{
			ScalableKinds: []KindRef{
				{APIVersion: "apps/v1", Kind: "Deployment"},
				{APIVersion: "apps/v1", Kind: "StatefulSet"},
				{APIVersion: "apps/v1", Kind: "ReplicaSet"},
				{APIVersion: "workload.serving.volcano.sh/v1alpha1", Kind: "ModelServing"},
				{APIVersion: "argoproj.io/v1alpha1", Kind: "Rollout"},
				{APIVersion: "leaderworkerset.x-k8s.io/v1", Kind: "LeaderWorkerSet"},
				// Operator kinds whose pods scaleguard cannot see: the vLLM
				// production-stack operator's runtime and NVIDIA Dynamo's
				// per-service scaling adapter.
				{APIVersion: "production-stack.vllm.ai/v1alpha1", Kind: "VLLMRuntime"},
				{APIVersion: "nvidia.com/v1alpha1", Kind: "DynamoGraphDeploymentScalingAdapter"},
			},
			UnscalableKinds: []KindRef{
				{APIVersion: "apps/v1", Kind: "DaemonSet"},
				{APIVersion: "serving.kserve.io/v1beta1", Kind: "InferenceService"},
				{APIVersion: "workload.serving.volcano.sh/v1alpha1", Kind: "AutoscalingPolicy"},
			},
		},
		GPU:       DefaultGPUSettings(),
		PromQL:    DefaultPromQLSettings(),
		Conflicts: DefaultConflictSettings(),
		Limits:    DefaultLimitSettings(),
	}
}

// Enforcement returns the enforcement of a rule under these settings.
func (s *Settings) Enforcement(ruleID string) Enforcement {
	if s == nil {
		return Enforce
	}
	if o, ok := s.Rules[ruleID]; ok && o.Action != "" {
		return o.Action
	}
	return Enforce
}

// Validate checks the settings: every overridden rule must be one that
// ruleExists knows and every enforcement must be known.
func (s *Settings) Validate(ruleExists func(id string) bool) error {
	var errs []string
	ids := make([]string, 0, len(s.Rules))
	for id := range s.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !ruleExists(id) {
			errs = append(errs, fmt.Sprintf("rules.%s: no such rule", id))
		}
		switch a := s.Rules[id].Action; a {
		case "", Enforce, WarnOnly, Off:
		default:
			errs = append(errs, fmt.Sprintf("rules.%s.action: %q is not Enforce, Warn or Off", id, a))
		}
	}
	for i, k := range append(append([]KindRef{}, s.TargetRef.ScalableKinds...), s.TargetRef.UnscalableKinds...) {
		if k.APIVersion == "" || k.Kind == "" {
			errs = append(errs, fmt.Sprintf("targetRef kinds[%d]: apiVersion and kind are required", i))
		}
	}
	errs = append(errs, s.GPU.validate()...)
	errs = append(errs, s.PromQL.validate()...)
	errs = append(errs, s.Conflicts.validate()...)
	errs = append(errs, s.Limits.validate()...)
	errs = append(errs, s.Prometheus.validate()...)
	if len(errs) > 0 {
		return fmt.Errorf("invalid settings: %s", strings.Join(errs, "; "))
	}
	return nil
}
