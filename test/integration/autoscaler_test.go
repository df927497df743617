package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// An AIBrix PodAutoscaler (config/samples, vllm-project/aibrix v0.7.0) on
// the Deployment "llm" of the test's namespace NS.
const caPodAutoscaler = `
apiVersion: autoscaling.aibrix.ai/v1alpha1
kind: PodAutoscaler
metadata: {name: llm-pa, namespace: NS}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicas: 1
  maxReplicas: 8
  scalingStrategy: %s
  metricsSources:
    - {metricSourceType: pod, protocolType: http, port: '8000', path: /metrics, targetMetric: gpu_cache_usage_perc, targetValue: '50'}
`

// TestConflictAutoscalerBothOrders drives the AIBrix PodAutoscaler
// through the real API server: it is refused on a Deployment a
// ScaledObject or an HPA scales, and they are refused on a Deployment it
// scales, each with the reason on the right field.
func TestConflictAutoscalerBothOrders(t *testing.T) {
	pa := func(strategy string) string { return fmt.Sprintf(caPodAutoscaler, strategy) }
	so := fmt.Sprintf(cfScaledObject, "llm", cfOnDeployment)
	cases := []struct {
		name          string
		first, second string
		field         string
		fragments     []string
	}{
		{"ScaledObject then PodAutoscaler", so, pa("HPA"), "spec.scaleTargetRef",
			[]string{`with scalingStrategy HPA, AIBrix creates the HPA "llm-pa-hpa" on the workload "llm" (apps/v1 Deployment), and ScaledObject "llm" already scales`}},
		{"HPA then PodAutoscaler", fmt.Sprintf(cfHPA, "llm", "llm"), pa("KPA"), "spec.scaleTargetRef",
			[]string{`AIBrix writes the replicas of the workload "llm"`, `HorizontalPodAutoscaler "llm" already scales`}},
		{"PodAutoscaler then ScaledObject", pa("APA"), so, "spec.scaleTargetRef",
			[]string{`is already scaled by AIBrix PodAutoscaler "llm-pa" (scalingStrategy APA: AIBrix writes the replicas itself)`}},
		{"PodAutoscaler then HPA", pa("HPA"), fmt.Sprintf(cfHPA, "llm", "llm"), "spec.scaleTargetRef",
			[]string{`is already scaled by AIBrix PodAutoscaler "llm-pa"`, "so this HorizontalPodAutoscaler alone scales it"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var warns []string
			c := newClient(t, &warns)
			ns := fmt.Sprintf("catalogue-order-%d", i)
			namespace(t, c, ns)
			createSeen(t, c, cfObject(t, ns, tc.first))
			second := cfObject(t, ns, tc.second)
			cfDenied(t, c.Create(context.Background(), second), "conflict-autoscaler", tc.field, tc.fragments...)
		})
	}
}

// TestConflictAutoscalerJudgesTheGeneratedHPAAtItsOwner: with AIBrix's HPA
// in the cluster beside its PodAutoscaler, a ScaledObject on the same
// Deployment is refused once, by conflict-autoscaler, not a second time by
// conflict-hpa for the HPA; the generated HPA, created by AIBrix's
// controller while a ScaledObject scales the Deployment, is admitted and
// never judged.
func TestConflictAutoscalerJudgesTheGeneratedHPAAtItsOwner(t *testing.T) {
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)
	ns := "catalogue-generated"
	namespace(t, c, ns)
	pa := cfObject(t, ns, fmt.Sprintf(caPodAutoscaler, "HPA"))
	createSeen(t, c, pa)
	hpa := cfObject(t, ns, fmt.Sprintf(cfHPA, "llm-pa-hpa", "llm"))
	hpa.SetOwnerReferences(ownerRef("autoscaling.aibrix.ai/v1alpha1", "PodAutoscaler", pa))
	createSeen(t, c, hpa)

	err := c.Create(ctx, cfObject(t, ns, fmt.Sprintf(cfScaledObject, "llm", cfOnDeployment)))
	cfDenied(t, err, "conflict-autoscaler", "spec.scaleTargetRef", `is already scaled by AIBrix PodAutoscaler "llm-pa" (scalingStrategy HPA: AIBrix creates the HPA "llm-pa-hpa")`)
	if status, ok := err.(apierrors.APIStatus); ok && strings.Contains(status.Status().Message, "[conflict-hpa]") {
		t.Errorf("the generated HPA was judged a second time:\n%s", status.Status().Message)
	}

	// A person's HPA on the Deployment is refused once too.
	err = c.Create(ctx, cfObject(t, ns, fmt.Sprintf(cfHPA, "llm-cpu", "llm")))
	cfDenied(t, err, "conflict-autoscaler", "spec.scaleTargetRef", `AIBrix PodAutoscaler "llm-pa"`)
	if status, ok := err.(apierrors.APIStatus); ok && strings.Contains(status.Status().Message, "[conflict-hpa]") {
		t.Errorf("the generated HPA was judged a second time:\n%s", status.Status().Message)
	}

	// AIBrix's controller creating its HPA where a ScaledObject already
	// scales the Deployment is not refused: its PodAutoscaler is where the
	// conflict is judged.
	ns2 := "catalogue-generated-late"
	namespace(t, c, ns2)
	createSeen(t, c, cfObject(t, ns2, fmt.Sprintf(cfScaledObject, "llm", cfOnDeployment)))
	late := cfObject(t, ns2, fmt.Sprintf(cfHPA, "llm-pa-hpa", "llm"))
	late.SetOwnerReferences(ownerRef("autoscaling.aibrix.ai/v1alpha1", "PodAutoscaler", pa))
	warns = nil
	if err := c.Create(ctx, late); err != nil {
		t.Fatalf("the generated HPA was refused: %v", err)
	}
	// Its controller owner is a guarded kind, so the webhook
	// configurations' matchCondition keeps it from the validating side
	// altogether (where it would only have been warned about): no
	// conflict finding reaches AIBrix's controller.
	if got := cfWarnings(warns); len(got) > 0 {
		t.Errorf("the generated HPA was judged: %q", got)
	}
}

// ownerRef is a controller owner reference to owner.
func ownerRef(apiVersion, kind string, owner client.Object) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: ptr.To(true)}}
}
