package clusterview

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	"github.com/scaleguard/scaleguard/policies"
)

// The workload lists a monitor's selector is resolved against. Namespace ""
// lists every namespace.

// Deployments implements policies.ClusterView.
func (v *Cache) Deployments(ns string) []*appsv1.Deployment {
	return listed[appsv1.Deployment](v, gvkDeployment, ns, "", "", newOf[appsv1.DeploymentList])
}

// StatefulSets implements policies.ClusterView.
func (v *Cache) StatefulSets(ns string) []*appsv1.StatefulSet {
	return listed[appsv1.StatefulSet](v, gvkStatefulSet, ns, "", "", newOf[appsv1.StatefulSetList])
}

// DaemonSets implements policies.ClusterView.
func (v *Cache) DaemonSets(ns string) []*appsv1.DaemonSet {
	return listed[appsv1.DaemonSet](v, gvkDaemonSet, ns, "", "", newOf[appsv1.DaemonSetList])
}

// Rollouts implements policies.ClusterView.
func (v *Cache) Rollouts(ns string) []*argov1alpha1.Rollout {
	return listed[argov1alpha1.Rollout](v, gvkRollout, ns, "", "", newOf[argov1alpha1.RolloutList])
}

// LeaderWorkerSets implements policies.ClusterView.
func (v *Cache) LeaderWorkerSets(ns string) []*lwsv1.LeaderWorkerSet {
	return listed[lwsv1.LeaderWorkerSet](v, gvkLWS, ns, "", "", newOf[lwsv1.LeaderWorkerSetList])
}

// ModelServings implements policies.ClusterView.
func (v *Cache) ModelServings(ns string) []*kthenav1alpha1.ModelServing {
	return listed[kthenav1alpha1.ModelServing](v, gvkModelServing, ns, "", "", newOf[kthenav1alpha1.ModelServingList])
}

// PodMonitorPortNumber implements policies.ClusterView: what the installed
// PodMonitor CRD says, once WatchPodMonitorSchema has read it; false until
// then and without it (targetPort, which every version has, is then used).
func (v *Cache) PodMonitorPortNumber() bool {
	return v.podMonitorSchema != nil && v.podMonitorSchema.portNumber.Load()
}

// TemplateLabelled implements policies.TemplateLabelIndex, through each
// workload kind's templateLabelIndex and, for a value that may be a
// workload's own name (which the index leaves out), a read by name; in
// every namespace (ns ""), namespace by namespace.
func (v *Cache) TemplateLabelled(ns, key, value string) policies.Workloads {
	pair := key + "=" + value
	return policies.Workloads{
		Deployments:      labelled[appsv1.Deployment](v, gvkDeployment, ns, pair, value, newOf[appsv1.DeploymentList]),
		StatefulSets:     labelled[appsv1.StatefulSet](v, gvkStatefulSet, ns, pair, value, newOf[appsv1.StatefulSetList]),
		DaemonSets:       labelled[appsv1.DaemonSet](v, gvkDaemonSet, ns, pair, value, newOf[appsv1.DaemonSetList]),
		Rollouts:         labelled[argov1alpha1.Rollout](v, gvkRollout, ns, pair, value, newOf[argov1alpha1.RolloutList]),
		LeaderWorkerSets: labelled[lwsv1.LeaderWorkerSet](v, gvkLWS, ns, pair, value, newOf[lwsv1.LeaderWorkerSetList]),
		ModelServings:    labelled[kthenav1alpha1.ModelServing](v, gvkModelServing, ns, pair, value, newOf[kthenav1alpha1.ModelServingList]),
	}
}

// labelled lists a workload kind's objects in ns whose templates carry
// pair: the index's and the one named value when it carries it. In every
// namespace (ns ""), it asks each namespace that holds objects of the
// kind, so that the cost follows the namespaces and what carries the
// pair, not every workload of the cluster.
func labelled[T any, L client.ObjectList, PT interface {
	*T
	client.Object
}](v *Cache, gvk schema.GroupVersionKind, ns, pair, value string, newList func() L) []PT {
	if ns == "" {
		names, ok := v.namespacesOf(gvk)
		if !ok {
			var out []PT
			for _, o := range listed[T](v, gvk, "", "", "", newList) {
				if slices.Contains(policies.TemplateLabelPairs(PT(o)), pair) {
					out = append(out, PT(o))
				}
			}
			return out
		}
		var out []PT
		for _, n := range names {
			out = append(out, labelled[T, L, PT](v, gvk, n, pair, value, newList)...)
		}
		return out
	}
	found := listed[T](v, gvk, ns, templateLabelIndex, pair, newList)
	out := make([]PT, len(found), len(found)+1)
	for i, o := range found {
		out[i] = o
	}
	return ownNamed(v, gvk, ns, value, out, func(o PT) bool { return slices.Contains(policies.TemplateLabelPairs(o), pair) })
}
