package conflict_test

import (
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies"
)

func TestConflictSettingsAreValidated(t *testing.T) {
	for _, mode := range []string{"Standard", "RawDeployment", "Knative", "Serverless", "ModelMesh"} {
		s := policies.DefaultSettings()
		s.Conflicts.KServeDefaultDeploymentMode = mode
		if err := policies.ValidateSettings(s, policies.Default); err != nil {
			t.Errorf("%s: %v", mode, err)
		}
	}
	s := policies.DefaultSettings()
	s.Conflicts.KServeDefaultDeploymentMode = "raw"
	err := policies.ValidateSettings(s, policies.Default)
	if err == nil || !strings.Contains(err.Error(), `conflicts.kserveDefaultDeploymentMode: "raw" is not one of Standard, RawDeployment, Knative, Serverless, ModelMesh`) {
		t.Errorf("an unknown mode: %v", err)
	}
}
