package policies

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
)

// TemplateLabelIndex is a ClusterView that also finds workloads by a label
// their pod templates carry. A monitor's selector then reads the
// workloads that may match it rather than every workload of its
// namespaces: serve's informer cache implements it, so that a PodMonitor
// in a namespace of thousands of workloads costs what it selects.
type TemplateLabelIndex interface {
	// TemplateLabelled lists the workloads of a namespace ("" for every
	// namespace) with a pod template whose own labels carry key=value: a
	// Deployment's, StatefulSet's, DaemonSet's or Rollout's
	// spec.template.metadata.labels, a LeaderWorkerSet's leader or worker
	// template's, a ModelServing's role entry or worker template's. Labels
	// the workload's controller adds to its pods are not indexed: callers
	// read those otherwise.
	TemplateLabelled(namespace, key, value string) Workloads
}

// Workloads are workloads whose pod templates a monitor may select, by
// kind.
type Workloads struct {
	Deployments      []*appsv1.Deployment
	StatefulSets     []*appsv1.StatefulSet
	DaemonSets       []*appsv1.DaemonSet
	Rollouts         []*argov1alpha1.Rollout
	LeaderWorkerSets []*lwsv1.LeaderWorkerSet
	ModelServings    []*kthenav1alpha1.ModelServing
}

// TemplateLabelPairs lists the key=value pairs TemplateLabelIndex indexes
// a workload by (nil for other kinds): the index function of a view
// implementing it.
func TemplateLabelPairs(obj any) []string {
	var maps []map[string]string
	switch o := obj.(type) {
	case *appsv1.Deployment:
		maps = append(maps, o.Spec.Template.Labels)
	case *appsv1.StatefulSet:
		maps = append(maps, o.Spec.Template.Labels)
	case *appsv1.DaemonSet:
		maps = append(maps, o.Spec.Template.Labels)
	case *argov1alpha1.Rollout:
		maps = append(maps, o.Spec.Template.Labels)
	case *lwsv1.LeaderWorkerSet:
		lwt := &o.Spec.LeaderWorkerTemplate
		if lwt.LeaderTemplate != nil {
			maps = append(maps, lwt.LeaderTemplate.Labels)
		}
		maps = append(maps, lwt.WorkerTemplate.Labels)
	case *kthenav1alpha1.ModelServing:
		for i := range o.Spec.Template.Roles {
			r := &o.Spec.Template.Roles[i]
			if md := r.EntryTemplate.Metadata; md != nil {
				maps = append(maps, md.Labels)
			}
			if r.WorkerTemplate != nil && r.WorkerTemplate.Metadata != nil {
				maps = append(maps, r.WorkerTemplate.Metadata.Labels)
			}
		}
	}
	var out []string
	for _, m := range maps {
		for k, v := range m {
			pair := k + "=" + v
			if !slices.Contains(out, pair) {
				out = append(out, pair)
			}
		}
	}
	return out
}
