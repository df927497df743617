package webhooks

import (
	"fmt"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/apis"
)

// NamespaceSelector selects the namespaces scaleguard judges: every one
// but those named in excluded (by kubernetes.io/metadata.name, which the
// API server sets on every namespace) and those labelled
// apis.IgnoreLabel: "true". Every webhook configuration has it.
func NamespaceSelector(excluded []string) *metav1.LabelSelector {
	sel := &metav1.LabelSelector{}
	if len(excluded) > 0 {
		sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: excluded,
		})
	}
	sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{
		Key: apis.IgnoreLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"true"},
	})
	return sel
}

// NotGeneratedConditionName names the validating webhooks' matchCondition.
const NotGeneratedConditionName = "not-generated-by-a-guarded-owner"

// NotGeneratedCondition is true for an object whose controller (the owner
// reference with controller: true) is not of a guarded kind. An object a
// guarded kind's controller generates is judged at its owner, where a
// person acts (policies.Engine.Validate turns its denials into warnings):
// KEDA's HPAs of a ScaledObject, KServe's HPAs and ScaledObjects of an
// InferenceService, the KEDA HTTP add-on's ScaledObjects of an
// HTTPScaledObject. The API server does not send those to the validating
// webhooks at all, so scaleguard being down never blocks those
// controllers. The kinds come from apis.Guarded, the table the engine
// reads too.
func NotGeneratedCondition() admissionregistrationv1.MatchCondition {
	var owners []string
	for _, k := range apis.Guarded {
		version := fmt.Sprintf("r.apiVersion.startsWith(%q)", k.GVK.Group+"/")
		if k.GVK.Group == "" {
			version = `!r.apiVersion.contains("/")`
		}
		owners = append(owners, fmt.Sprintf("(r.kind == %q && %s)", k.GVK.Kind, version))
	}
	return admissionregistrationv1.MatchCondition{
		Name: NotGeneratedConditionName,
		Expression: "!has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, " +
			"has(r.controller) && r.controller && (" + strings.Join(owners, " || ") + "))",
	}
}
