package gpu_test

import (
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// TestClassifyNeverWritesIntoViewObjects: in serve the view hands out the
// informer cache's own objects; a slice with spare capacity must not be
// appended to in place.
func TestClassifyNeverWritesIntoViewObjects(t *testing.T) {
	containers := make([]corev1.Container, 1, 4)
	containers[0] = corev1.Container{Name: "sidecar"}
	model := "llama"
	isvc := &kservev1beta1.InferenceService{
		ObjectMeta: metav1.ObjectMeta{Name: "llama", Namespace: "kserve-demo"},
		Spec: kservev1beta1.InferenceServiceSpec{Predictor: kservev1beta1.PredictorSpec{
			PodSpec: kservev1beta1.PodSpec{Containers: containers},
			Model: &kservev1beta1.ModelSpec{
				ModelFormat: kservev1beta1.ModelFormat{Name: model},
				Resources:   corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}},
			},
		}},
	}
	view := clusterview.NewManifests(isvc)
	shared, _ := view.InferenceService("kserve-demo", "llama")
	so := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "kserve-demo"},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "llama-predictor"}},
	}
	tier := gpu.Classify(so, view, &policies.DefaultSettings().GPU)
	if !tier.GPU {
		t.Fatalf("the model container's GPU must count: %+v", tier)
	}
	spare := shared.Spec.Predictor.Containers[:cap(shared.Spec.Predictor.Containers)]
	for i, c := range spare[1:] {
		if c.Name != "" {
			t.Fatalf("Classify wrote container %q into slot %d of the view's object", c.Name, i+1)
		}
	}
}
