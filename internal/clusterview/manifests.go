// Package clusterview implements policies.ClusterView twice: over a fixed
// set of manifests (check) and over controller-runtime's informer cache
// (serve).
package clusterview

import (
	"sort"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	vpav1 "github.com/scaleguard/scaleguard/apis/vpa/v1"
	"github.com/scaleguard/scaleguard/policies"
)

// Manifests is a ClusterView over a fixed set of objects, the way check
// sees a folder of manifests. Objects without a namespace count as being in
// "default".
type Manifests struct {
	namespaces   map[string]*corev1.Namespace
	deployments  map[nsName]*appsv1.Deployment
	statefulSets map[nsName]*appsv1.StatefulSet
	modelServing map[nsName]*kthenav1alpha1.ModelServing
	isvcs        map[nsName]*kservev1beta1.InferenceService
	claimTmpls   map[nsName]*resourcev1.ResourceClaimTemplate
	rollouts     map[nsName]*argov1alpha1.Rollout
	lws          map[nsName]*lwsv1.LeaderWorkerSet
	claims       map[nsName]*resourcev1.ResourceClaim
	daemonSets   map[nsName]*appsv1.DaemonSet

	// Listed kinds are indexed by namespace, ScaledObjects and HPAs also
	// by target (as the cache indexes them) and ScaledObjects by the name
	// of their HPA, so that check judges each object in time independent
	// of how many others there are (listing.go).
	scaledObjects listing[*kedav1alpha1.ScaledObject]
	hpas          listing[*autoscalingv2.HorizontalPodAutoscaler]
	policies      listing[*kthenav1alpha1.AutoscalingPolicy]
	bindings      listing[*kthenav1alpha1.AutoscalingPolicyBinding]
	services      listing[*corev1.Service]
	podMonitors   listing[*monitoringv1.PodMonitor]
	svcMonitors   listing[*monitoringv1.ServiceMonitor]
	quotas        listing[*corev1.ResourceQuota]
	isvcList      listing[*kservev1beta1.InferenceService]
	vpas          listing[*vpav1.VerticalPodAutoscaler]
	// autoscalers holds the objects of the catalogue's autoscaler kinds,
	// by group and kind.
	autoscalers map[schema.GroupKind]*listing[*unstructured.Unstructured]
}

type nsName struct{ ns, name string }

var _ policies.ClusterView = &Manifests{}

// NewManifests indexes objects. Kinds the view does not serve are ignored.
func NewManifests(objs ...client.Object) *Manifests {
	m := &Manifests{
		namespaces:   map[string]*corev1.Namespace{},
		deployments:  map[nsName]*appsv1.Deployment{},
		statefulSets: map[nsName]*appsv1.StatefulSet{},
		modelServing: map[nsName]*kthenav1alpha1.ModelServing{},
		isvcs:        map[nsName]*kservev1beta1.InferenceService{},
		claimTmpls:   map[nsName]*resourcev1.ResourceClaimTemplate{},
		rollouts:     map[nsName]*argov1alpha1.Rollout{},
		lws:          map[nsName]*lwsv1.LeaderWorkerSet{},
		claims:       map[nsName]*resourcev1.ResourceClaim{},
		daemonSets:   map[nsName]*appsv1.DaemonSet{},
		autoscalers:  map[schema.GroupKind]*listing[*unstructured.Unstructured]{},
	}
	for _, o := range objs {
		m.Add(o)
	}
	return m
}

// Add indexes one more object; a later object with the same kind,
// namespace and name replaces the earlier one, as a second apply would.
func (m *Manifests) Add(obj client.Object) {
	if _, isNS := obj.(*corev1.Namespace); !isNS && obj.GetNamespace() == "" {
		obj = obj.DeepCopyObject().(client.Object)
		obj.SetNamespace("default")
	}
	key := nsName{obj.GetNamespace(), obj.GetName()}
	switch o := obj.(type) {
	case *corev1.Namespace:
		m.namespaces[o.Name] = o
	case *appsv1.Deployment:
		m.deployments[key] = o
	case *appsv1.StatefulSet:
		m.statefulSets[key] = o
	case *kthenav1alpha1.ModelServing:
		m.modelServing[key] = o
	case *kservev1beta1.InferenceService:
		m.isvcs[key] = o
		m.isvcList.put(o)
	case *resourcev1.ResourceClaimTemplate:
		m.claimTmpls[key] = o
	case *argov1alpha1.Rollout:
		m.rollouts[key] = o
	case *lwsv1.LeaderWorkerSet:
		m.lws[key] = o
	case *resourcev1.ResourceClaim:
		m.claims[key] = o
	case *appsv1.DaemonSet:
		m.daemonSets[key] = o
	case *kedav1alpha1.ScaledObject:
		m.scaledObjects.put(o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		m.hpas.put(o)
	case *kthenav1alpha1.AutoscalingPolicy:
		m.policies.put(o)
	case *kthenav1alpha1.AutoscalingPolicyBinding:
		m.bindings.put(o)
	case *corev1.Service:
		m.services.put(o)
	case *monitoringv1.PodMonitor:
		m.podMonitors.put(o)
	case *monitoringv1.ServiceMonitor:
		m.svcMonitors.put(o)
	case *corev1.ResourceQuota:
		m.quotas.put(o)
	case *vpav1.VerticalPodAutoscaler:
		m.vpas.put(o)
	case *unstructured.Unstructured:
		gk := o.GroupVersionKind().GroupKind()
		l := m.autoscalers[gk]
		if l == nil {
			l = &listing[*unstructured.Unstructured]{}
			m.autoscalers[gk] = l
		}
		l.put(o)
	}
}

func lookup[T any](m map[nsName]T, ns, name string) (T, bool) {
	v, ok := m[nsName{ns, name}]
	return v, ok
}

// Namespace implements policies.ClusterView.
func (m *Manifests) Namespace(name string) (*corev1.Namespace, bool) {
	ns, ok := m.namespaces[name]
	return ns, ok
}

// Deployment implements policies.ClusterView.
func (m *Manifests) Deployment(ns, name string) (*appsv1.Deployment, bool) {
	return lookup(m.deployments, ns, name)
}

// StatefulSet implements policies.ClusterView.
func (m *Manifests) StatefulSet(ns, name string) (*appsv1.StatefulSet, bool) {
	return lookup(m.statefulSets, ns, name)
}

// ModelServing implements policies.ClusterView.
func (m *Manifests) ModelServing(ns, name string) (*kthenav1alpha1.ModelServing, bool) {
	return lookup(m.modelServing, ns, name)
}

// InferenceService implements policies.ClusterView.
func (m *Manifests) InferenceService(ns, name string) (*kservev1beta1.InferenceService, bool) {
	return lookup(m.isvcs, ns, name)
}

// InferenceServices implements policies.ClusterView.
func (m *Manifests) InferenceServices(ns string) []*kservev1beta1.InferenceService {
	return m.isvcList.in(ns)
}

// ScaledObjects implements policies.ClusterView.
func (m *Manifests) ScaledObjects(ns string) []*kedav1alpha1.ScaledObject {
	return m.scaledObjects.in(ns)
}

// ScaledObjectsFor implements policies.ClusterView.
func (m *Manifests) ScaledObjectsFor(target policies.WorkloadRef) []*kedav1alpha1.ScaledObject {
	return m.scaledObjects.by(soTarget, target.Key())
}

// ScaledObjectsWithHPAName implements policies.HPANameIndex.
func (m *Manifests) ScaledObjectsWithHPAName(ns, name string) []*kedav1alpha1.ScaledObject {
	return m.scaledObjects.by(soHPAName, ns+"/"+name)
}

// HPAs implements policies.ClusterView.
func (m *Manifests) HPAs(ns string) []*autoscalingv2.HorizontalPodAutoscaler {
	return m.hpas.in(ns)
}

// HPAsFor implements policies.ClusterView.
func (m *Manifests) HPAsFor(target policies.WorkloadRef) []*autoscalingv2.HorizontalPodAutoscaler {
	return m.hpas.by(hpaTarget, target.Key())
}

// AutoscalingPolicies implements policies.ClusterView.
func (m *Manifests) AutoscalingPolicies(ns string) []*kthenav1alpha1.AutoscalingPolicy {
	return m.policies.in(ns)
}

// AutoscalingPolicyBindings implements policies.ClusterView.
func (m *Manifests) AutoscalingPolicyBindings(ns string) []*kthenav1alpha1.AutoscalingPolicyBinding {
	return m.bindings.in(ns)
}

// Services implements policies.ClusterView.
func (m *Manifests) Services(ns string) []*corev1.Service { return m.services.in(ns) }

// PodMonitors implements policies.ClusterView.
func (m *Manifests) PodMonitors(ns string) []*monitoringv1.PodMonitor {
	return m.podMonitors.in(ns)
}

// ServiceMonitors implements policies.ClusterView.
func (m *Manifests) ServiceMonitors(ns string) []*monitoringv1.ServiceMonitor {
	return m.svcMonitors.in(ns)
}

// ResourceQuotas implements policies.ClusterView.
func (m *Manifests) ResourceQuotas(ns string) []*corev1.ResourceQuota {
	return m.quotas.in(ns)
}

// ResourceClaimTemplate implements policies.ClusterView.
func (m *Manifests) ResourceClaimTemplate(ns, name string) (*resourcev1.ResourceClaimTemplate, bool) {
	return lookup(m.claimTmpls, ns, name)
}

// ResourceClaim implements policies.ClusterView.
func (m *Manifests) ResourceClaim(ns, name string) (*resourcev1.ResourceClaim, bool) {
	return lookup(m.claims, ns, name)
}

// LeaderWorkerSet implements policies.ClusterView.
func (m *Manifests) LeaderWorkerSet(ns, name string) (*lwsv1.LeaderWorkerSet, bool) {
	o, ok := m.lws[nsName{ns, name}]
	return o, ok
}

// Rollout implements policies.ClusterView.
func (m *Manifests) Rollout(ns, name string) (*argov1alpha1.Rollout, bool) {
	return lookup(m.rollouts, ns, name)
}

// values lists a map's objects of one namespace ("" for all), sorted by
// namespace and name.
func values[T client.Object](m map[nsName]T, ns string) []T {
	keys := make([]nsName, 0, len(m))
	for k := range m {
		if ns == "" || k.ns == ns {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].ns != keys[j].ns {
			return keys[i].ns < keys[j].ns
		}
		return keys[i].name < keys[j].name
	})
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// Deployments implements policies.ClusterView.
func (m *Manifests) Deployments(ns string) []*appsv1.Deployment { return values(m.deployments, ns) }

// StatefulSets implements policies.ClusterView.
func (m *Manifests) StatefulSets(ns string) []*appsv1.StatefulSet {
	return values(m.statefulSets, ns)
}

// DaemonSets implements policies.ClusterView.
func (m *Manifests) DaemonSets(ns string) []*appsv1.DaemonSet { return values(m.daemonSets, ns) }

// Rollouts implements policies.ClusterView.
func (m *Manifests) Rollouts(ns string) []*argov1alpha1.Rollout { return values(m.rollouts, ns) }

// LeaderWorkerSets implements policies.ClusterView.
func (m *Manifests) LeaderWorkerSets(ns string) []*lwsv1.LeaderWorkerSet { return values(m.lws, ns) }

// ModelServings implements policies.ClusterView.
func (m *Manifests) ModelServings(ns string) []*kthenav1alpha1.ModelServing {
	return values(m.modelServing, ns)
}

// Autoscalers implements policies.ClusterView.
func (m *Manifests) Autoscalers(kind schema.GroupKind, ns string) []*unstructured.Unstructured {
	if l := m.autoscalers[kind]; l != nil {
		return l.in(ns)
	}
	return nil
}

// VerticalPodAutoscalers implements policies.ClusterView.
func (m *Manifests) VerticalPodAutoscalers(ns string) []*vpav1.VerticalPodAutoscaler {
	return m.vpas.in(ns)
}

// PodMonitorPortNumber implements policies.ClusterView: a manifest set is
// judged for a current prometheus-operator, whose PodMonitor has
// portNumber (v0.79 and later).
func (m *Manifests) PodMonitorPortNumber() bool { return true }
