package clusterview_test

import (
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

func TestManifestsView(t *testing.T) {
	so := func(ns, name, kind, target string) *kedav1alpha1.ScaledObject {
		return &kedav1alpha1.ScaledObject{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Kind: kind, Name: target}},
		}
	}
	v := clusterview.NewManifests(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "serving"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "llm"}}, // no namespace: default
		so("", "a", "", "llm"),
		so("default", "b", "Deployment", "llm"),
		so("default", "c", "StatefulSet", "llm"),
		so("other", "d", "", "llm"),
		so("default", "a", "", "other"), // same name: replaces "a"
		&autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "default"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: "apps/v1", Kind: "Deployment", Name: "llm"}},
		},
	)
	if _, ok := v.Namespace("serving"); !ok {
		t.Error("namespace not found")
	}
	if _, ok := v.Deployment("default", "llm"); !ok {
		t.Error("a Deployment without a namespace belongs to default")
	}
	target := policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "default", Name: "llm"}
	var names []string
	for _, s := range v.ScaledObjectsFor(target) {
		names = append(names, s.Name)
	}
	if len(names) != 1 || names[0] != "b" {
		t.Errorf("ScaledObjectsFor = %v, want [b] (a was replaced, c is a StatefulSet, d in another namespace)", names)
	}
	if len(v.ScaledObjects("default")) != 3 || len(v.ScaledObjects("")) != 4 {
		t.Errorf("ScaledObjects: %d in default, %d in all", len(v.ScaledObjects("default")), len(v.ScaledObjects("")))
	}
	if h := v.HPAsFor(target); len(h) != 1 || h[0].Name != "h" {
		t.Errorf("HPAsFor = %v", h)
	}
	if len(v.HPAsFor(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "other", Name: "llm"})) != 0 {
		t.Error("HPAsFor crosses namespaces")
	}
}
