package gpu

import (
	"fmt"
	"sort"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// RolloutKind is Argo Rollouts' Rollout.
var RolloutKind = schema.GroupKind{Group: argov1alpha1.GroupVersion.Group, Kind: "Rollout"}

// Tier is what scaleguard can tell of the tier a ScaledObject's target
// runs on.
type Tier struct {
	// GPU is true when the target runs on a GPU tier.
	GPU bool
	// Determined is false when neither the target nor the namespace could
	// decide (the target does not exist yet, or scaleguard cannot read it).
	Determined bool
	// Target names what was judged, for messages: `Deployment "raw-vllm"`.
	Target string
	// Why says why the tier is undetermined.
	Why string
	// Absent is true when the tier is undetermined because the target does
	// not exist yet (rather than because scaleguard cannot read it).
	Absent bool
	// Signals are the reasons the target is on a GPU tier.
	Signals []string
	// Accelerators are the accelerator units one replica of the scaled
	// workload asks for, sorted by name.
	Accelerators []Accelerator
	// Object is the object the pod templates were read from (a Deployment,
	// StatefulSet, ModelServing or InferenceService); nil when none was
	// found.
	Object client.Object
}

// Accelerator is a number of accelerator units per replica.
type Accelerator struct {
	// Name is the extended resource name (nvidia.com/gpu), or "device class
	// X" for devices claimed through dynamic resource allocation.
	Name string
	// PerReplica is the number of units one replica asks for.
	PerReplica int64
}

// ExtendedResource reports whether the accelerator is an extended resource
// (which a ResourceQuota caps as requests.<name>).
func (a Accelerator) ExtendedResource() bool { return !strings.HasPrefix(a.Name, "device class ") }

// GPUsPerReplica sums the accelerator units of one replica.
func (t Tier) GPUsPerReplica() int64 {
	var n int64
	for _, a := range t.Accelerators {
		n += a.PerReplica
	}
	return n
}

// Reason renders the first signal, and how many more there are.
func (t Tier) Reason() string {
	switch len(t.Signals) {
	case 0:
		return ""
	case 1:
		return t.Signals[0]
	}
	return fmt.Sprintf("%s, and %d more", t.Signals[0], len(t.Signals)-1)
}

// Classify resolves the ScaledObject's scale target through the view and
// reads its pod templates, and the namespace's labels, for GPU signals.
func Classify(so *kedav1alpha1.ScaledObject, view policies.ClusterView, s *policies.GPUSettings) Tier {
	ns := so.Namespace
	if ns == "" {
		ns = "default"
	}
	var t Tier
	nsSignal := namespaceSignal(ns, view, s)
	shapes, found := resolve(so, ns, view, &t)
	if found {
		t.Determined = true
		units := map[string]int64{}
		for _, sh := range shapes {
			r := readPod(sh.spec, ns, view, s)
			for _, sig := range r.signals {
				if sh.where != "" {
					sig = sh.where + ": " + sig
				}
				t.Signals = append(t.Signals, sig)
			}
			for name, n := range r.units {
				units[name] += sh.pods * n
			}
		}
		for name, n := range units {
			if n > 0 {
				t.Accelerators = append(t.Accelerators, Accelerator{Name: name, PerReplica: n})
			}
		}
		sort.Slice(t.Accelerators, func(i, j int) bool { return t.Accelerators[i].Name < t.Accelerators[j].Name })
	}
	if nsSignal != "" {
		t.Determined = true
		t.Signals = append(t.Signals, nsSignal)
	}
	t.GPU = len(t.Signals) > 0
	return t
}

func namespaceSignal(ns string, view policies.ClusterView, s *policies.GPUSettings) string {
	if len(s.NamespaceLabels) == 0 {
		return ""
	}
	obj, ok := view.Namespace(ns)
	if !ok {
		return ""
	}
	var pairs []string
	for k, v := range s.NamespaceLabels {
		if got, ok := obj.Labels[k]; !ok || got != v {
			return ""
		}
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return fmt.Sprintf("namespace %q is labelled %s", ns, strings.Join(pairs, ","))
}

// resolve finds the pod templates of the scale target. It fills t.Target,
// t.Object and, when nothing is found, t.Why.
func resolve(so *kedav1alpha1.ScaledObject, ns string, view policies.ClusterView, t *Tier) ([]podShape, bool) {
	ref, ok := policies.KEDATarget(so)
	if !ok || ref.Name == "" {
		if isvc, ok := ownerInferenceService(so, ns, view); ok {
			return predictorShapes(isvc, t), true
		}
		t.Target = "the scale target"
		t.Why = "spec.scaleTargetRef names no workload"
		return nil, false
	}
	ref.Namespace = ns
	t.Target = fmt.Sprintf("%s %q", ref.Kind, ref.Name)
	switch ref.GroupKind() {
	case policies.DeploymentKind:
		if d, ok := view.Deployment(ns, ref.Name); ok {
			t.Object = d
			return []podShape{{spec: &d.Spec.Template.Spec, pods: 1}}, true
		}
		// KServe's predictor Deployment may not exist yet (or in check, at
		// all): judge the InferenceService that generates it.
		if isvc, ok := ownerInferenceService(so, ns, view); ok {
			return predictorShapes(isvc, t), true
		}
		if isvc, ok := predictorOf(ref.Name, ns, view); ok {
			return predictorShapes(isvc, t), true
		}
	case policies.StatefulSetKind:
		if st, ok := view.StatefulSet(ns, ref.Name); ok {
			t.Object = st
			return []podShape{{spec: &st.Spec.Template.Spec, pods: 1}}, true
		}
	case policies.ModelServingKind:
		if ms, ok := view.ModelServing(ns, ref.Name); ok {
			t.Object = ms
			return modelServingShapes(ms), true
		}
	case RolloutKind:
		if ro, ok := view.Rollout(ns, ref.Name); ok {
			return rolloutShapes(ro, ns, view, t)
		}
	default:
		t.Why = fmt.Sprintf("the pod template of %s (kind %s) is not something scaleguard reads", t.Target, schema.GroupKind{Group: ref.Group, Kind: ref.Kind})
		return nil, false
	}
	t.Why = fmt.Sprintf("%s does not exist in namespace %q yet", t.Target, ns)
	t.Absent = true
	return nil, false
}

// ownerInferenceService is the InferenceService whose controller generated
// the ScaledObject (KServe with autoscalerClass keda).
func ownerInferenceService(so *kedav1alpha1.ScaledObject, ns string, view policies.ClusterView) (*kservev1beta1.InferenceService, bool) {
	ref := metav1.GetControllerOf(so)
	if ref == nil || ref.Kind != "InferenceService" {
		return nil, false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil || gv.Group != kservev1beta1.GroupVersion.Group {
		return nil, false
	}
	return view.InferenceService(ns, ref.Name)
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
	if p.Model != nil {
		spec.Containers = append(spec.Containers, corev1.Container{Name: "kserve-container", Resources: p.Model.Resources})
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
		}
	}
	shapes := []podShape{{where: "predictor", spec: spec, pods: 1}}
	if p.WorkerSpec != nil {
		// Multi-node workers run in their own Deployment that the
		// ScaledObject does not scale: they decide the tier, uncounted.
		shapes = append(shapes, podShape{where: "predictor workerSpec", spec: podSpecOf(p.WorkerSpec.PodSpec), pods: 0})
	}
	return shapes
}

func podSpecOf(p kservev1beta1.PodSpec) *corev1.PodSpec {
	return &corev1.PodSpec{
		Containers:     p.Containers,
		InitContainers: p.InitContainers,
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
