package gpu

import (
	"fmt"
	"slices"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	"github.com/scaleguard/scaleguard/policies"
)

// ownerInferenceService is the InferenceService whose controller generated
// the ScaledObject (KServe with autoscalerClass keda).
func ownerInferenceService(so *kedav1alpha1.ScaledObject, ns string, view policies.ClusterView) (*kservev1beta1.InferenceService, bool) {
	name := generatedBy(so)
	if name == "" {
		return nil, false
	}
	return view.InferenceService(ns, name)
}

// predictorOf finds the InferenceService whose predictor Deployment is
// named deployment: <isvc>-predictor, or <isvc>-<name>-predictor when the
// predictor is named.
func predictorOf(deployment, ns string, view policies.ClusterView) (*kservev1beta1.InferenceService, bool) {
	base, ok := strings.CutSuffix(deployment, "-predictor")
	if !ok {
		return nil, false
	}
	if isvc, ok := view.InferenceService(ns, base); ok && isvc.Spec.Predictor.Name == "" {
		return isvc, true
	}
	for _, isvc := range view.InferenceServices(ns) {
		if p := isvc.Spec.Predictor.Name; p != "" && isvc.Name+"-"+p == base {
			return isvc, true
		}
	}
	return nil, false
}

// PredictorDeployment is the name of the Deployment KServe runs an
// InferenceService's predictor in.
func PredictorDeployment(isvc *kservev1beta1.InferenceService) string {
	if p := isvc.Spec.Predictor.Name; p != "" {
		return isvc.Name + "-" + p + "-predictor"
	}
	return isvc.Name + "-predictor"
}

func predictorShapes(isvc *kservev1beta1.InferenceService, t *Tier) []podShape {
	t.Object = isvc
	t.Target = fmt.Sprintf("InferenceService %q (predictor Deployment %q)", isvc.Name, PredictorDeployment(isvc))
	p := &isvc.Spec.Predictor
	spec := podSpecOf(p.PodSpec)
	// A model or framework predictor's container is the ServingRuntime's
	// container merged with what the predictor declares; scaleguard reads
	// only the latter.
	var runtime string
	if p.Model != nil {
		spec.Containers = append(spec.Containers, corev1.Container{Name: "kserve-container", Resources: p.Model.Resources})
		runtime = fmt.Sprintf("the ServingRuntime KServe selects for model format %q", p.Model.ModelFormat.Name)
		if p.Model.Runtime != nil && *p.Model.Runtime != "" {
			runtime = fmt.Sprintf("(Cluster)ServingRuntime %q", *p.Model.Runtime)
		}
	}
	for _, fw := range []struct {
		name string
		spec *kservev1beta1.FrameworkSpec
	}{
		{"sklearn", p.SKLearn}, {"xgboost", p.XGBoost}, {"tensorflow", p.Tensorflow}, {"pytorch", p.PyTorch},
		{"triton", p.Triton}, {"onnx", p.ONNX}, {"huggingface", p.HuggingFace}, {"pmml", p.PMML},
		{"lightgbm", p.LightGBM}, {"paddle", p.Paddle},
	} {
		if fw.spec != nil {
			spec.Containers = append(spec.Containers, corev1.Container{Name: fw.name, Resources: fw.spec.Resources})
			if runtime == "" {
				runtime = fmt.Sprintf("the ServingRuntime KServe selects for the %s predictor", fw.name)
			}
		}
	}
	if runtime != "" && len(p.Containers) == 0 && !declaresResources(spec.Containers) {
		t.Runtime = runtime
		t.Why = fmt.Sprintf("the predictor of InferenceService %q declares no resources or containers of its own, so its model container "+
			"takes them from %s, which scaleguard does not read", isvc.Name, runtime)
	}
	shapes := []podShape{{where: "predictor", spec: spec, pods: 1}}
	if p.WorkerSpec != nil {
		// Multi-node workers run in their own Deployment that the
		// ScaledObject does not scale: they decide the tier, uncounted.
		shapes = append(shapes, podShape{where: "predictor workerSpec", spec: podSpecOf(p.WorkerSpec.PodSpec), pods: 0})
	}
	return shapes
}

// declaresResources reports whether any container requests or limits
// anything.
func declaresResources(cs []corev1.Container) bool {
	for _, c := range cs {
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 || len(c.Resources.Claims) > 0 {
			return true
		}
	}
	return false
}

func podSpecOf(p kservev1beta1.PodSpec) *corev1.PodSpec {
	// The slices are clipped: the InferenceService may be the informer
	// cache's own object, and appending the model container to a slice with
	// spare capacity would write into it.
	return &corev1.PodSpec{
		Containers:     slices.Clip(p.Containers),
		InitContainers: slices.Clip(p.InitContainers),
		NodeSelector:   p.NodeSelector,
		Affinity:       p.Affinity,
		Tolerations:    p.Tolerations,
		ResourceClaims: p.ResourceClaims,
	}
}

// modelServingShapes are a ModelServing replica's pods: per role, replicas
// × (one entry pod + workerReplicas worker pods).
func modelServingShapes(ms *kthenav1alpha1.ModelServing) []podShape {
	var out []podShape
	for i := range ms.Spec.Template.Roles {
		role := &ms.Spec.Template.Roles[i]
		n := int64(1)
		if role.Replicas != nil {
			n = int64(*role.Replicas)
		}
		out = append(out, podShape{where: fmt.Sprintf("role %q entryTemplate", role.Name), spec: &role.EntryTemplate.Spec, pods: n})
		if role.WorkerTemplate != nil {
			out = append(out, podShape{
				where: fmt.Sprintf("role %q workerTemplate", role.Name), spec: &role.WorkerTemplate.Spec,
				pods: n * int64(max(role.WorkerReplicas, 0)),
			})
		}
	}
	return out
}

// leaderWorkerSetShapes are one LeaderWorkerSet replica's pods: a group of
// size pods, the leader (its own template, else the workers') and size-1
// workers.
func leaderWorkerSetShapes(lws *lwsv1.LeaderWorkerSet) []podShape {
	t := &lws.Spec.LeaderWorkerTemplate
	size := int64(1)
	if t.Size != nil {
		size = max(int64(*t.Size), 1)
	}
	if t.LeaderTemplate == nil {
		return []podShape{{where: "workerTemplate", spec: &t.WorkerTemplate.Spec, pods: size}}
	}
	return []podShape{
		{where: "leaderTemplate", spec: &t.LeaderTemplate.Spec, pods: 1},
		{where: "workerTemplate", spec: &t.WorkerTemplate.Spec, pods: size - 1},
	}
}

// rolloutShapes is a Rollout's pod template, or, with spec.workloadRef, the
// template of the Deployment it names.
func rolloutShapes(ro *argov1alpha1.Rollout, ns string, view policies.ClusterView, t *Tier) ([]podShape, bool) {
	t.Object = ro
	ref := ro.Spec.WorkloadRef
	if ref == nil {
		return []podShape{{spec: &ro.Spec.Template.Spec, pods: 1}}, true
	}
	if ref.Kind != "Deployment" {
		t.Why = fmt.Sprintf("the workloadRef of %s names a %s, whose pod template scaleguard does not read", t.Target, ref.Kind)
		return nil, false
	}
	d, ok := view.Deployment(ns, ref.Name)
	if !ok {
		t.Why = fmt.Sprintf("Deployment %q, whose pod template %s runs, does not exist in namespace %q yet", ref.Name, t.Target, ns)
		t.Absent = true
		return nil, false
	}
	return []podShape{{where: fmt.Sprintf("workloadRef Deployment %q", d.Name), spec: &d.Spec.Template.Spec, pods: 1}}, true
}
