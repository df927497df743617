package clusterview

import (
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
)

// The workload lists a monitor's selector is resolved against. Namespace ""
// lists every namespace.

// Deployments implements policies.ClusterView.
func (v *Cache) Deployments(ns string) []*appsv1.Deployment {
	l := &appsv1.DeploymentList{}
	v.list(gvkDeployment, l, client.InNamespace(ns))
	return ptrs(l.Items)
}

// StatefulSets implements policies.ClusterView.
func (v *Cache) StatefulSets(ns string) []*appsv1.StatefulSet {
	l := &appsv1.StatefulSetList{}
	v.list(gvkStatefulSet, l, client.InNamespace(ns))
	return ptrs(l.Items)
}

// DaemonSets implements policies.ClusterView.
func (v *Cache) DaemonSets(ns string) []*appsv1.DaemonSet {
	l := &appsv1.DaemonSetList{}
	v.list(gvkDaemonSet, l, client.InNamespace(ns))
	return ptrs(l.Items)
}

// Rollouts implements policies.ClusterView.
func (v *Cache) Rollouts(ns string) []*argov1alpha1.Rollout {
	l := &argov1alpha1.RolloutList{}
	v.list(gvkRollout, l, client.InNamespace(ns))
	return ptrs(l.Items)
}

// LeaderWorkerSets implements policies.ClusterView.
func (v *Cache) LeaderWorkerSets(ns string) []*lwsv1.LeaderWorkerSet {
	l := &lwsv1.LeaderWorkerSetList{}
	v.list(gvkLWS, l, client.InNamespace(ns))
	return ptrs(l.Items)
}

// ModelServings implements policies.ClusterView.
func (v *Cache) ModelServings(ns string) []*kthenav1alpha1.ModelServing {
	l := &kthenav1alpha1.ModelServingList{}
	v.list(gvkModelServing, l, client.InNamespace(ns))
	return ptrs(l.Items)
}

// PodMonitorPortNumber implements policies.ClusterView: what the installed
// PodMonitor CRD says, once WatchPodMonitorSchema has read it; false until
// then and without it (targetPort, which every version has, is then used).
func (v *Cache) PodMonitorPortNumber() bool {
	return v.podMonitorSchema != nil && v.podMonitorSchema.portNumber.Load()
}
