package clusterpolicy

import (
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// SamplePath is where the default policy sample lives in the repository.
const SamplePath = "config/samples/default-policy.yaml"

// SampleYAML renders the sample policy: a ScaleGuardPolicy named default,
// covering every namespace, that spells out every built-in setting
// (DefaultSettings) and lists every rule of reg at Enforce, its default.
// Applied as is, it changes nothing; it is the place to start editing.
func SampleYAML(reg *policies.Registry) ([]byte, error) {
	spec := sgv1alpha1.ScaleGuardPolicySpec{Settings: *policies.DefaultSettings()}
	spec.Rules = map[string]policies.RuleOverride{}
	for _, r := range reg.Rules() {
		spec.Rules[r.ID] = policies.RuleOverride{Action: policies.Enforce}
	}
	specJSON, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var specMap map[string]any
	if err := json.Unmarshal(specJSON, &specMap); err != nil {
		return nil, err
	}
	body, err := yaml.Marshal(map[string]any{
		"apiVersion": sgv1alpha1.GroupVersion.String(),
		"kind":       sgv1alpha1.PolicyKind,
		"metadata":   map[string]any{"name": "default"},
		"spec":       specMap,
	})
	if err != nil {
		return nil, err
	}
	header := fmt.Sprintf(`# The built-in settings, spelled out as a ScaleGuardPolicy that covers every
# namespace: applied as is it changes nothing, so it is the place to start.
# Generated from the defaults by `+"`make generate`"+`; a test keeps it equal to them.
#
# Rule actions: Enforce (the rule's own action: deny, warn or mutate), Warn
# (denials and mutations become warnings), Off. Lists and maps you give
# replace the default as a whole; fields you leave out keep their default.
# gpu.hourlyPrice is unset by default (set it to see idle costs in money).
# Exemptions: see %s and docs/policy.md.
`, "`kubectl explain scaleguardpolicy.spec.exemptions`")
	return append([]byte(header), body...), nil
}
