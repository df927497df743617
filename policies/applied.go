package policies

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LastAppliedAnnotation is kubectl's copy of the last applied manifest
// (client-side apply, as kubectl and Argo CD do by default).
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// LastAppliedSetsReplicas reports whether a last-applied configuration sets
// spec.replicas; ok is false when it is not a JSON object.
func LastAppliedSetsReplicas(raw string) (set, ok bool) {
	var applied struct {
		Spec map[string]json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal([]byte(raw), &applied); err != nil {
		return false, false
	}
	_, set = applied.Spec["replicas"]
	return set, true
}

// AppliesSpecReplicas reports whether a managed-fields entry is a
// server-side apply of the main resource that owns spec.replicas.
func AppliesSpecReplicas(mf metav1.ManagedFieldsEntry) bool {
	if mf.Operation != metav1.ManagedFieldsOperationApply || mf.Subresource != "" || mf.FieldsV1 == nil {
		return false
	}
	var fields struct {
		Spec map[string]json.RawMessage `json:"f:spec"`
	}
	if err := json.Unmarshal(mf.FieldsV1.Raw, &fields); err != nil {
		return false
	}
	_, ok := fields.Spec["f:replicas"]
	return ok
}
