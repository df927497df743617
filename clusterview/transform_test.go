package clusterview_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/clusterview"
)

func TestTransformKeepsWhatRulesReadOnly(t *testing.T) {
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "llm", Namespace: "serving",
			Labels:        map[string]string{"app": "llm"},
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}", "keep": "me"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"cloud.google.com/gke-accelerator": "nvidia-l4"},
			Tolerations:  []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists}},
			Volumes:      []corev1.Volume{{Name: "cache"}},
			Containers: []corev1.Container{{
				Name: "vllm", Image: "vllm", Args: []string{"--model", "x"}, Env: []corev1.EnvVar{{Name: "HF_TOKEN", Value: "secret"}},
				Ports:     []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}},
				Resources: corev1.ResourceRequirements{Limits: gpu},
			}},
		}}},
		Status: appsv1.DeploymentStatus{Replicas: 2, Conditions: []appsv1.DeploymentCondition{{Type: "Available"}}},
	}
	out, err := clusterview.Transform(d)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*appsv1.Deployment)
	if got.ManagedFields != nil {
		t.Error("managed fields kept")
	}
	if _, ok := got.Annotations["kubectl.kubernetes.io/last-applied-configuration"]; ok || got.Annotations["keep"] != "me" {
		t.Errorf("annotations = %v", got.Annotations)
	}
	spec := got.Spec.Template.Spec
	c := spec.Containers[0]
	if c.Env != nil || c.Args != nil || spec.Volumes != nil {
		t.Errorf("unread fields kept: env %v args %v volumes %v", c.Env, c.Args, spec.Volumes)
	}
	if c.Name != "vllm" || len(c.Ports) != 1 || !c.Resources.Limits["nvidia.com/gpu"].Equal(resource.MustParse("1")) {
		t.Errorf("container lost what rules read: %+v", c)
	}
	if spec.NodeSelector["cloud.google.com/gke-accelerator"] != "nvidia-l4" || len(spec.Tolerations) != 1 {
		t.Errorf("placement lost: %+v", spec)
	}
	if got.Status.Replicas != 2 || got.Status.Conditions != nil {
		t.Errorf("status = %+v", got.Status)
	}
}
