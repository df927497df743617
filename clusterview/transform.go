package clusterview

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
)

// lastApplied is kubectl's copy of the whole object, never read by rules.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Transform strips what rules never read before an object enters the
// cache: managed fields, kubectl's last-applied copy, and for workloads
// everything in the pod template but what decides placement, resources and
// ports. It is the cache's DefaultTransform in serve.
func Transform(in any) (any, error) {
	if acc, err := meta.Accessor(in); err == nil {
		acc.SetManagedFields(nil)
		if a := acc.GetAnnotations(); a != nil {
			if _, ok := a[lastApplied]; ok {
				delete(a, lastApplied)
				acc.SetAnnotations(a)
			}
		}
	}
	switch o := in.(type) {
	case *appsv1.Deployment:
		trimPodSpec(&o.Spec.Template.Spec)
		o.Status = appsv1.DeploymentStatus{Replicas: o.Status.Replicas}
	case *appsv1.StatefulSet:
		trimPodSpec(&o.Spec.Template.Spec)
		o.Spec.VolumeClaimTemplates = nil
		o.Status = appsv1.StatefulSetStatus{Replicas: o.Status.Replicas}
	case *argov1alpha1.Rollout:
		trimPodSpec(&o.Spec.Template.Spec)
	case *corev1.Service:
		o.Status = corev1.ServiceStatus{}
	case *resourcev1.ResourceClaimTemplate:
		trimClaimSpec(&o.Spec.Spec)
	case *resourcev1.ResourceClaim:
		trimClaimSpec(&o.Spec)
		o.Status = resourcev1.ResourceClaimStatus{}
	}
	return in, nil
}

// trimClaimSpec keeps what a claim asks for (device classes and counts)
// and drops selectors, constraints and opaque driver configuration.
func trimClaimSpec(s *resourcev1.ResourceClaimSpec) {
	s.Devices.Constraints = nil
	s.Devices.Config = nil
	for i := range s.Devices.Requests {
		r := &s.Devices.Requests[i]
		if r.Exactly != nil {
			r.Exactly.Selectors = nil
		}
		for j := range r.FirstAvailable {
			r.FirstAvailable[j].Selectors = nil
		}
	}
}

// trimPodSpec keeps containers' names, images, ports and resources, and the
// scheduling fields of the pod.
func trimPodSpec(s *corev1.PodSpec) {
	s.Volumes = nil
	s.Containers = trimContainers(s.Containers)
	s.InitContainers = trimContainers(s.InitContainers)
	s.EphemeralContainers = nil
}

func trimContainers(cs []corev1.Container) []corev1.Container {
	if cs == nil {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{
			Name:          c.Name,
			Image:         c.Image,
			Ports:         c.Ports,
			Resources:     c.Resources,
			RestartPolicy: c.RestartPolicy,
		}
	}
	return out
}
