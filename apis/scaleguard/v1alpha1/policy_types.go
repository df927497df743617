package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// PolicyKind is the kind of ScaleGuardPolicy.
const PolicyKind = "ScaleGuardPolicy"

// PolicyResource is the REST resource of ScaleGuardPolicy.
const PolicyResource = "scaleguardpolicies"

// ScaleGuardPolicy is a cluster administrator's policy: how strict each
// rule is, what a GPU tier is, which labels scope a PromQL query, who is
// exempt. It covers the namespaces its namespaceSelector selects; with no
// policy object the built-in defaults apply. Where several policies cover
// one namespace, each rule gets the strictest action of those they set for
// it (a rule none sets keeps Enforce), exemptions may be used only where all
// of them allow it, every policy's exemptions apply, and every other
// setting comes from the policy whose name sorts first.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=sgpolicy,categories=scaleguard
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Enforced",type=integer,JSONPath=`.status.rules.enforce`,description="rules enforced with their own action"
// +kubebuilder:printcolumn:name="Warn",type=integer,JSONPath=`.status.rules.warn`,description="rules set to warn"
// +kubebuilder:printcolumn:name="Off",type=integer,JSONPath=`.status.rules.off`,description="rules switched off"
// +kubebuilder:printcolumn:name="Namespaces",type=integer,JSONPath=`.status.namespaceCount`,description="namespaces the policy covers"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Conflicting",type=string,JSONPath=`.status.conditions[?(@.type=="Conflicting")].status`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ScaleGuardPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the policy.
	Spec ScaleGuardPolicySpec `json:"spec,omitempty"`
	// Status is what scaleguard made of it.
	Status ScaleGuardPolicyStatus `json:"status,omitempty"`
}

// ScaleGuardPolicySpec is a policy: the namespaces it covers and the
// settings every rule reads there. A setting it does not give keeps its
// default; a list or map it gives replaces the default as a whole (the
// sample policy in config/samples spells out every default).
type ScaleGuardPolicySpec struct {
	// NamespaceSelector selects the namespaces the policy covers by their
	// labels (kubernetes.io/metadata.name holds a namespace's name). Absent
	// or empty, it covers every namespace.
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector,omitempty"`

	// Settings are the settings the rules read in the covered namespaces.
	Settings `json:",inline"`
}

// ScaleGuardPolicyStatus is what scaleguard made of a policy.
type ScaleGuardPolicyStatus struct {
	// ObservedGeneration is the generation of the spec in force. It lags
	// metadata.generation while a newer spec is refused (condition Ready
	// says why): the last good spec stays in force.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Rules counts the registered rules by the action this policy gives
	// them, on its own (before merging with other policies).
	Rules RuleCounts `json:"rules,omitempty"`
	// NamespaceCount is how many namespaces the policy covers.
	NamespaceCount int32 `json:"namespaceCount,omitempty"`
	// Namespaces are the namespaces it covers, sorted; the first
	// MaxStatusNamespaces when there are more.
	// +listType=atomic
	Namespaces []string `json:"namespaces,omitempty"`
	// Conditions: Ready (the spec is valid and in force) and Conflicting
	// (another policy covers some of the same namespaces; the message says
	// which settings win there).
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// AppliedSpec is the spec in force (of ObservedGeneration), kept so
	// that a policy that stops parsing after an upgrade stays in force as
	// it was, across restarts too.
	// +kubebuilder:pruning:PreserveUnknownFields
	AppliedSpec *runtime.RawExtension `json:"appliedSpec,omitempty"`
}

// RuleCounts counts rules by action.
type RuleCounts struct {
	// Enforce counts rules enforced with their own action.
	Enforce int32 `json:"enforce"`
	// Warn counts rules whose denials and mutations become warnings.
	Warn int32 `json:"warn"`
	// Off counts rules switched off.
	Off int32 `json:"off"`
}

// MaxStatusNamespaces bounds status.namespaces.
const MaxStatusNamespaces = 100

// Condition types of a policy.
const (
	// ConditionReady is True when the current spec is valid and in force.
	ConditionReady = "Ready"
	// ConditionConflicting is True when another policy covers some of
	// the same namespaces.
	ConditionConflicting = "Conflicting"
)

// ScaleGuardPolicyList is a list of ScaleGuardPolicy.
//
// +kubebuilder:object:root=true
type ScaleGuardPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ScaleGuardPolicy `json:"items"`
}

func init() {
	SchemeBuilder.Register(&ScaleGuardPolicy{}, &ScaleGuardPolicyList{})
}
