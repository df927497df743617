package clusterview

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	"github.com/scaleguard/scaleguard/policies"
)

// Records of what was applied, cut down to the one thing rules read of
// them: whether the applied manifest sets spec.replicas.
var (
	appliedWithReplicas    = `{"spec":{"replicas":"set"}}`
	appliedWithoutReplicas = `{}`
	replicasOnly           = &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:replicas":{}}}`)}
)

// Transform strips what rules never read before an object enters the
// cache: managed fields and kubectl's last-applied copy (both cut down to
// whether the applied manifest sets spec.replicas), and for workloads
// everything in the pod template but what decides placement, resources and
// ports. It is the cache's DefaultTransform in serve.
func Transform(in any) (any, error) {
	if acc, err := meta.Accessor(in); err == nil {
		acc.SetManagedFields(replicaAppliers(acc.GetManagedFields()))
		if a := acc.GetAnnotations(); a != nil {
			if raw, ok := a[policies.LastAppliedAnnotation]; ok {
				a[policies.LastAppliedAnnotation] = appliedWithoutReplicas
				if set, _ := policies.LastAppliedSetsReplicas(raw); set {
					a[policies.LastAppliedAnnotation] = appliedWithReplicas
				}
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
	case *appsv1.DaemonSet:
		trimPodSpec(&o.Spec.Template.Spec)
		o.Status = appsv1.DaemonSetStatus{}
	case *argov1alpha1.Rollout:
		trimPodSpec(&o.Spec.Template.Spec)
	case *lwsv1.LeaderWorkerSet:
		if o.Spec.LeaderWorkerTemplate.LeaderTemplate != nil {
			trimPodSpec(&o.Spec.LeaderWorkerTemplate.LeaderTemplate.Spec)
		}
		trimPodSpec(&o.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec)
	case *corev1.Service:
		o.Status = corev1.ServiceStatus{}
	case *resourcev1.ResourceClaimTemplate:
		trimClaimSpec(&o.Spec.Spec)
	case *resourcev1.ResourceClaim:
		trimClaimSpec(&o.Spec)
		o.Status = resourcev1.ResourceClaimStatus{}
	case *unstructured.Unstructured:
		trimAutoscaler(o)
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

// replicaAppliers keeps the server-side appliers of spec.replicas (a
// GitOps tool that would reset what an autoscaler chose), each cut down to
// its manager and that one field.
func replicaAppliers(mfs []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, mf := range mfs {
		if policies.AppliesSpecReplicas(mf) {
			out = append(out, metav1.ManagedFieldsEntry{
				Manager: mf.Manager, Operation: mf.Operation, APIVersion: mf.APIVersion,
				FieldsType: "FieldsV1", FieldsV1: replicasOnly.DeepCopy(),
			})
		}
	}
	return out
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
