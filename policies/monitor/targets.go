package monitor

import (
	"fmt"
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// podTemplate is one kind of pod a workload runs, as a monitor sees it.
type podTemplate struct {
	labelSet
	// kind and name name the workload, and part the template within it
	// (`role "decode" entry pods`), for messages (owner).
	kind, name, part string
	namespace        string
	// spec is the pod spec (containers and their ports).
	spec *corev1.PodSpec
	// portsUnknown is true when the pods' ports come from somewhere
	// scaleguard does not read (a KServe ServingRuntime).
	portsUnknown bool
}

// Labels controllers set on every pod they create with a value of their
// own: a monitor's selector on their value may or may not match.
var (
	deploymentVarying  = []string{"pod-template-hash"}
	statefulSetVarying = []string{"controller-revision-hash", "statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index"}
	daemonSetVarying   = []string{"controller-revision-hash", "pod-template-generation"}
	rolloutVarying     = []string{"rollouts-pod-template-hash"}
	// LeaderWorkerSet (sigs.k8s.io/lws api/leaderworkerset/v1): its pods
	// are made by StatefulSets.
	lwsVarying = append([]string{
		"leaderworkerset.sigs.k8s.io/group-index", "leaderworkerset.sigs.k8s.io/group-key",
		"leaderworkerset.sigs.k8s.io/template-revision-hash",
		"leaderworkerset.sigs.k8s.io/subgroup-index", "leaderworkerset.sigs.k8s.io/subgroup-key",
	}, statefulSetVarying...)
	// Kthena's ModelServing controller
	// (pkg/model-serving-controller/utils/utils.go createBasePod).
	modelServingVarying = []string{
		"modelserving.volcano.sh/group-name", "modelserving.volcano.sh/role-id",
		"modelserving.volcano.sh/revision", "modelserving.volcano.sh/role-template-hash",
	}
)

// lwsKind is the LeaderWorkerSet group and kind.
var lwsKind = schema.GroupKind{Group: lwsv1.GroupVersion.Group, Kind: "LeaderWorkerSet"}

// Label keys of LeaderWorkerSet pods.
const (
	lwsNameLabel        = "leaderworkerset.sigs.k8s.io/name"
	lwsWorkerIndexLabel = "leaderworkerset.sigs.k8s.io/worker-index"
)

// KServe's predictor pod labels (pkg/controller/v1beta1/inferenceservice:
// components/predictor.go buildObjectMeta, and the raw Deployment
// reconciler's app label).
const (
	kserveISVCLabel      = "serving.kserve.io/inferenceservice"
	kserveComponentLabel = "component"
)

// The varying sets, built once: templates share them read-only.
var (
	deploymentVaryingSet   = set(deploymentVarying)
	statefulSetVaryingSet  = set(statefulSetVarying)
	daemonSetVaryingSet    = set(daemonSetVarying)
	rolloutVaryingSet      = set(rolloutVarying)
	lwsLeaderVaryingSet    = set(lwsVarying)
	lwsWorkerVaryingSet    = set(lwsVarying, []string{lwsWorkerIndexLabel})
	modelServingVaryingSet = set(modelServingVarying)
)

func set(keys ...[]string) map[string]bool {
	out := map[string]bool{}
	for _, ks := range keys {
		for _, k := range ks {
			out[k] = true
		}
	}
	return out
}

// merged returns base with the template's labels over it (a template's
// labels win, as Kthena's and KServe's controllers apply them).
func merged(base, over map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, over)
	return out
}

// owned reports whether obj is controlled by an object of the given kind.
func owned(obj metav1.Object, kind string) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.Kind == kind
}

func deploymentTemplate(d *appsv1.Deployment) podTemplate {
	return podTemplate{
		labelSet: labelSet{known: d.Spec.Template.Labels, varying: deploymentVaryingSet},
		kind:     "Deployment", name: d.Name, namespace: d.Namespace, spec: &d.Spec.Template.Spec,
	}
}

func statefulSetTemplate(s *appsv1.StatefulSet) podTemplate {
	return podTemplate{
		labelSet: labelSet{known: s.Spec.Template.Labels, varying: statefulSetVaryingSet},
		kind:     "StatefulSet", name: s.Name, namespace: s.Namespace, spec: &s.Spec.Template.Spec,
	}
}

func daemonSetTemplate(d *appsv1.DaemonSet) podTemplate {
	return podTemplate{
		labelSet: labelSet{known: d.Spec.Template.Labels, varying: daemonSetVaryingSet},
		kind:     "DaemonSet", name: d.Name, namespace: d.Namespace, spec: &d.Spec.Template.Spec,
	}
}

// rolloutTemplates is a Rollout's pod template; with a workloadRef, the
// pods are made from the template of the Deployment it names.
func rolloutTemplates(r *argov1alpha1.Rollout, view policies.ClusterView) []podTemplate {
	tmpl := &r.Spec.Template
	if ref := r.Spec.WorkloadRef; ref != nil {
		if ref.Kind != "Deployment" {
			return nil
		}
		d, ok := view.Deployment(r.Namespace, ref.Name)
		if !ok {
			return nil
		}
		tmpl = &d.Spec.Template
	}
	return []podTemplate{{
		labelSet: labelSet{known: tmpl.Labels, varying: rolloutVaryingSet},
		kind:     "Rollout", name: r.Name, namespace: r.Namespace, spec: &tmpl.Spec,
	}}
}

// lwsTemplates are a LeaderWorkerSet's leader pods (worker index 0) and,
// when a group has more than one pod, its workers.
func lwsTemplates(l *lwsv1.LeaderWorkerSet) []podTemplate {
	lwt := &l.Spec.LeaderWorkerTemplate
	leader := &lwt.WorkerTemplate
	if lwt.LeaderTemplate != nil {
		leader = lwt.LeaderTemplate
	}
	out := []podTemplate{{
		labelSet: labelSet{
			known:   merged(leader.Labels, map[string]string{lwsNameLabel: l.Name, lwsWorkerIndexLabel: "0"}),
			varying: lwsLeaderVaryingSet,
		},
		kind: "LeaderWorkerSet", name: l.Name, part: "leader pods", namespace: l.Namespace, spec: &leader.Spec,
	}}
	if lwt.Size != nil && *lwt.Size > 1 {
		out = append(out, podTemplate{
			labelSet: labelSet{
				known:   merged(lwt.WorkerTemplate.Labels, map[string]string{lwsNameLabel: l.Name}),
				varying: lwsWorkerVaryingSet,
				never:   map[string]string{lwsWorkerIndexLabel: "0"},
			},
			kind: "LeaderWorkerSet", name: l.Name, part: "worker pods", namespace: l.Namespace, spec: &lwt.WorkerTemplate.Spec,
		})
	}
	return out
}

// modelServingTemplates are, per role, the entry pods and the worker pods
// of a ModelServing, with the labels Kthena's controller adds.
func modelServingTemplates(ms *kthenav1alpha1.ModelServing) []podTemplate {
	var out []podTemplate
	for i := range ms.Spec.Template.Roles {
		role := &ms.Spec.Template.Roles[i]
		base := map[string]string{kthenav1alpha1.ModelServingNameLabel: ms.Name, kthenav1alpha1.RoleLabel: role.Name}
		entry := merged(base, map[string]string{kthenav1alpha1.EntryLabel: "true"})
		if md := role.EntryTemplate.Metadata; md != nil {
			entry = merged(entry, md.Labels)
		}
		out = append(out, podTemplate{
			labelSet: labelSet{known: entry, varying: modelServingVaryingSet},
			kind:     "ModelServing", name: ms.Name, part: fmt.Sprintf("role %q entry pods", role.Name), namespace: ms.Namespace,
			spec: &role.EntryTemplate.Spec,
		})
		if role.WorkerTemplate != nil && role.WorkerReplicas > 0 {
			worker := base
			if md := role.WorkerTemplate.Metadata; md != nil {
				worker = merged(base, md.Labels)
			}
			out = append(out, podTemplate{
				labelSet: labelSet{known: worker, varying: modelServingVaryingSet},
				kind:     "ModelServing", name: ms.Name, part: fmt.Sprintf("role %q worker pods", role.Name), namespace: ms.Namespace,
				spec: &role.WorkerTemplate.Spec,
			})
		}
	}
	return out
}

// predictorTemplate is the pods of an InferenceService's predictor before
// KServe has created their Deployment: the labels KServe gives them, open
// to the ServingRuntime's and the predictor's own, and ports that are
// known only when the predictor declares its containers itself.
func predictorTemplate(isvc *kservev1beta1.InferenceService) podTemplate {
	p := &isvc.Spec.Predictor
	deployment := gpu.PredictorDeployment(isvc)
	labels := merged(isvc.Labels, map[string]string{
		kserveISVCLabel: isvc.Name, kserveComponentLabel: "predictor", "app": "isvc." + deployment,
	})
	fromRuntime := p.Model != nil || p.SKLearn != nil || p.XGBoost != nil || p.Tensorflow != nil || p.PyTorch != nil ||
		p.Triton != nil || p.ONNX != nil || p.HuggingFace != nil || p.PMML != nil || p.LightGBM != nil || p.Paddle != nil
	return podTemplate{
		labelSet: labelSet{known: labels, varying: deploymentVaryingSet, open: true},
		kind:     "InferenceService", name: isvc.Name, part: "predictor",
		namespace:    isvc.Namespace,
		spec:         &corev1.PodSpec{Containers: p.Containers, InitContainers: p.InitContainers},
		portsUnknown: fromRuntime || len(p.Containers) == 0,
	}
}

// templatesIn lists the pod templates of every workload in a namespace (""
// for all).
func templatesIn(view policies.ClusterView, ns string) []podTemplate {
	var out []podTemplate
	eachTemplate(view, ns, func(t podTemplate) { out = append(out, t) })
	return out
}

// eachTemplate visits the pod templates of every workload in a namespace
// ("" for all).
func eachTemplate(view policies.ClusterView, ns string, visit func(podTemplate)) {
	walkTemplates(view, policies.Workloads{
		Deployments:      view.Deployments(ns),
		StatefulSets:     view.StatefulSets(ns),
		DaemonSets:       view.DaemonSets(ns),
		Rollouts:         view.Rollouts(ns),
		LeaderWorkerSets: view.LeaderWorkerSets(ns),
		ModelServings:    view.ModelServings(ns),
	}, view.InferenceServices(ns), visit)
}

// walkTemplates visits the pod templates of the workloads given and of
// the InferenceServices' predictors. A StatefulSet a LeaderWorkerSet made
// is read as the LeaderWorkerSet, a Rollout with a workloadRef as its
// Deployment, and an InferenceService only until its predictor Deployment
// exists.
func walkTemplates(view policies.ClusterView, w policies.Workloads, isvcs []*kservev1beta1.InferenceService, visit func(podTemplate)) {
	for _, d := range w.Deployments {
		visit(deploymentTemplate(d))
	}
	for _, s := range w.StatefulSets {
		if !owned(s, "LeaderWorkerSet") {
			visit(statefulSetTemplate(s))
		}
	}
	for _, d := range w.DaemonSets {
		visit(daemonSetTemplate(d))
	}
	for _, r := range w.Rollouts {
		if r.Spec.WorkloadRef == nil {
			for _, t := range rolloutTemplates(r, view) {
				visit(t)
			}
		}
	}
	for _, l := range w.LeaderWorkerSets {
		for _, t := range lwsTemplates(l) {
			visit(t)
		}
	}
	for _, ms := range w.ModelServings {
		for _, t := range modelServingTemplates(ms) {
			visit(t)
		}
	}
	for _, isvc := range isvcs {
		if _, made := view.Deployment(isvc.Namespace, gpu.PredictorDeployment(isvc)); !made {
			visit(predictorTemplate(isvc))
		}
	}
}

// templatesOf lists the pod templates of one workload, and names it; false
// when the view does not hold it (or scaleguard cannot read its kind).
func templatesOf(view policies.ClusterView, ref policies.WorkloadRef) ([]podTemplate, bool) {
	ns := ref.Namespace
	switch ref.GroupKind() {
	case policies.DeploymentKind:
		if d, ok := view.Deployment(ns, ref.Name); ok {
			return []podTemplate{deploymentTemplate(d)}, true
		}
		// KServe's predictor Deployment before KServe has created it.
		if strings.HasSuffix(ref.Name, "-predictor") {
			for _, isvc := range view.InferenceServices(ns) {
				if gpu.PredictorDeployment(isvc) == ref.Name {
					return []podTemplate{predictorTemplate(isvc)}, true
				}
			}
		}
	case policies.StatefulSetKind:
		if s, ok := view.StatefulSet(ns, ref.Name); ok {
			return []podTemplate{statefulSetTemplate(s)}, true
		}
	case policies.ModelServingKind:
		if ms, ok := view.ModelServing(ns, ref.Name); ok {
			return modelServingTemplates(ms), true
		}
	case gpu.RolloutKind:
		if r, ok := view.Rollout(ns, ref.Name); ok {
			ts := rolloutTemplates(r, view)
			return ts, len(ts) > 0
		}
	case lwsKind:
		if l, ok := view.LeaderWorkerSet(ns, ref.Name); ok {
			return lwsTemplates(l), true
		}
	}
	return nil, false
}

// owner names the workload and template in messages: `Deployment
// "chat"`, `ModelServing "llm" role "decode" entry pods`.
func (t podTemplate) owner() string {
	s := fmt.Sprintf("%s %q", t.kind, t.name)
	if t.part != "" {
		s += " " + t.part
	}
	return s
}

// ports lists a template's declared container ports (init containers
// included: Prometheus discovers sidecars' ports too).
func (t podTemplate) ports() []corev1.ContainerPort {
	if t.spec == nil {
		return nil
	}
	var out []corev1.ContainerPort
	for _, cs := range [][]corev1.Container{t.spec.Containers, t.spec.InitContainers} {
		for _, c := range cs {
			out = append(out, c.Ports...)
		}
	}
	return out
}
