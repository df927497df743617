package v1alpha1

import (
	"fmt"
	"strings"
)

// ConflictSettings configures the conflict-* rules.
type ConflictSettings struct {
	// KServeDefaultDeploymentMode is the mode KServe gives an
	// InferenceService that has neither status.deploymentMode nor the
	// serving.kserve.io/deploymentMode annotation: the inferenceservice-config
	// key deploy.defaultDeploymentMode. KServe ships Serverless (Knative);
	// set Standard when your clusters default to raw Deployments. One of
	// Standard, RawDeployment, Knative, Serverless, ModelMesh. It is an
	// assumption about the cluster: a conflict found in the mode it gives
	// is a warning that names it, never a denial.
	// +kubebuilder:validation:Enum=Standard;RawDeployment;Knative;Serverless;ModelMesh
	KServeDefaultDeploymentMode string `json:"kserveDefaultDeploymentMode"`
	// GitOpsTrackingAnnotations mark a workload as managed by Argo CD
	// (annotation tracking): firm evidence, only Argo CD writes them.
	GitOpsTrackingAnnotations []string `json:"gitOpsTrackingAnnotations"`
	// GitOpsTrackingLabels hint that Argo CD manages a workload (label
	// tracking; Argo CD's application.instanceLabelKey). Only a hint:
	// app.kubernetes.io/instance is also the label Helm sets on every
	// release, so warnings say the label suggests Argo CD tracking.
	GitOpsTrackingLabels []string `json:"gitOpsTrackingLabels"`
}

// kserveDeploymentModes are the modes as the annotation and status spell
// them.
var kserveDeploymentModes = []string{"Standard", "RawDeployment", "Knative", "Serverless", "ModelMesh"}

// DefaultConflictSettings returns the built-in conflict settings.
func DefaultConflictSettings() ConflictSettings {
	return ConflictSettings{
		KServeDefaultDeploymentMode: "Knative",
		GitOpsTrackingAnnotations:   []string{"argocd.argoproj.io/tracking-id"},
		GitOpsTrackingLabels:        []string{"app.kubernetes.io/instance"},
	}
}

func (c ConflictSettings) validate() []string {
	for _, m := range kserveDeploymentModes {
		if c.KServeDefaultDeploymentMode == m {
			return nil
		}
	}
	return []string{fmt.Sprintf("conflicts.kserveDefaultDeploymentMode: %q is not one of %s",
		c.KServeDefaultDeploymentMode, strings.Join(kserveDeploymentModes, ", "))}
}
