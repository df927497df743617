package clusterview

import (
	"slices"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
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
// whether the applied manifest sets spec.replicas), status no rule reads,
// and for workloads everything in the pod template but its labels and what
// decides placement, resources and ports. Values equal to another cached
// object's (labels, annotations, containers, resource lists, strings) are
// shared with it: see share.go for why and why it is safe. It is the
// cache's DefaultTransform in serve.
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
		if _, ok := in.(*unstructured.Unstructured); !ok {
			shareMeta(acc)
		}
	}
	switch o := in.(type) {
	case *appsv1.Deployment:
		shareTemplate(&o.Spec.Template, o.Name)
		o.Spec = appsv1.DeploymentSpec{Replicas: o.Spec.Replicas, Selector: shareSelector(o.Spec.Selector, o.Name), Template: o.Spec.Template}
		o.Status = appsv1.DeploymentStatus{Replicas: o.Status.Replicas}
	case *appsv1.StatefulSet:
		shareTemplate(&o.Spec.Template, o.Name)
		o.Spec.Selector = shareSelector(o.Spec.Selector, o.Name)
		o.Spec.VolumeClaimTemplates = nil
		o.Status = appsv1.StatefulSetStatus{Replicas: o.Status.Replicas}
	case *appsv1.DaemonSet:
		shareTemplate(&o.Spec.Template, o.Name)
		o.Status = appsv1.DaemonSetStatus{}
	case *argov1alpha1.Rollout:
		shareTemplate(&o.Spec.Template, o.Name)
	case *lwsv1.LeaderWorkerSet:
		if o.Spec.LeaderWorkerTemplate.LeaderTemplate != nil {
			shareTemplate(o.Spec.LeaderWorkerTemplate.LeaderTemplate, o.Name)
		}
		shareTemplate(&o.Spec.LeaderWorkerTemplate.WorkerTemplate, o.Name)
	case *kthenav1alpha1.ModelServing:
		for i := range o.Spec.Template.Roles {
			r := &o.Spec.Template.Roles[i]
			trimRoleTemplate(&r.EntryTemplate, o.Name)
			if r.WorkerTemplate != nil {
				trimRoleTemplate(r.WorkerTemplate, o.Name)
			}
		}
		if len(o.Spec.Template.Roles) > 0 {
			o.Spec.Template.Roles = shareJSON(roleLists, slices.Clip(o.Spec.Template.Roles))
		}
	case *kedav1alpha1.ScaledObject:
		if r := o.Spec.ScaleTargetRef; r != nil {
			r.APIVersion, r.Kind = intern(r.APIVersion), intern(r.Kind)
			if r.Name == o.Name {
				r.Name = o.Name
			}
		}
		for i := range o.Spec.Triggers {
			t := &o.Spec.Triggers[i]
			t.Type, t.Name, t.MetricType = intern(t.Type), intern(t.Name), autoscalingv2.MetricTargetType(intern(string(t.MetricType)))
			t.Metadata = shareStrings(triggerMetadata, t.Metadata, o.Name)
		}
		o.Status = kedav1alpha1.ScaledObjectStatus{}
	case *corev1.Service:
		o.Spec.Selector = shareStrings(labelMaps, o.Spec.Selector, o.Name)
		if len(o.Spec.Ports) > 0 {
			o.Spec.Ports = shareJSON(servicePorts, slices.Clip(o.Spec.Ports))
		}
		o.Spec.Type, o.Spec.SessionAffinity = corev1.ServiceType(intern(string(o.Spec.Type))), corev1.ServiceAffinity(intern(string(o.Spec.SessionAffinity)))
		if len(o.Spec.IPFamilies) > 0 {
			o.Spec.IPFamilies = shareJSON(ipFamilies, slices.Clip(o.Spec.IPFamilies))
		}
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
				FieldsType: "FieldsV1", FieldsV1: replicasOnly, // shared: see share.go
			})
		}
	}
	return out
}

// trimPodSpec keeps of a pod what rules read: containers' names, images,
// ports and resources, and the pod's placement (node selector, affinity,
// tolerations) and claims. Containers, ports, resource lists, node
// selectors, tolerations and affinities equal to another object's are
// shared with it (see share.go).
func trimPodSpec(s *corev1.PodSpec) {
	*s = corev1.PodSpec{
		Containers:     shareContainers(trimContainers(s.Containers)),
		InitContainers: shareContainers(trimContainers(s.InitContainers)),
		NodeSelector:   shareStrings(labelMaps, s.NodeSelector, ""),
		Affinity:       s.Affinity,
		Tolerations:    s.Tolerations,
		ResourceClaims: s.ResourceClaims,
		Resources:      s.Resources,
	}
	if s.Affinity != nil {
		s.Affinity = shareJSON(affinities, s.Affinity)
	}
	if len(s.Tolerations) > 0 {
		s.Tolerations = shareJSON(tolerations, slices.Clip(s.Tolerations))
	}
}

// trimRoleTemplate trims a ModelServing role's pod template like a
// Deployment's.
func trimRoleTemplate(t *kthenav1alpha1.PodTemplateSpec, name string) {
	if t.Metadata != nil {
		t.Metadata = &kthenav1alpha1.TemplateMetadata{Labels: shareStrings(labelMaps, t.Metadata.Labels, name)}
	}
	trimPodSpec(&t.Spec)
}

// shareSelector shares the match labels of a workload's selector.
func shareSelector(s *metav1.LabelSelector, name string) *metav1.LabelSelector {
	if s != nil {
		s.MatchLabels = shareStrings(labelMaps, s.MatchLabels, name)
	}
	return s
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
