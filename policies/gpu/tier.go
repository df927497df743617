package gpu

import (
	"fmt"
	"sort"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kedahttpv1alpha1 "github.com/scaleguard/scaleguard/apis/kedahttp/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
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
	// Runtime names the (Cluster)ServingRuntime a KServe predictor takes
	// its container resources from, which scaleguard does not read: the
	// tier is undetermined unless another signal decides it, and the
	// runtime's GPUs are never counted.
	Runtime string
	// Signals are the reasons the target is on a GPU tier.
	Signals []string
	// origins are the kinds of evidence Signals are, index by index.
	origins []origin
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

// Origin says where the GPU tier came from, for messages. When scaleguard
// counted accelerator units it is Reason; otherwise it also names the kind
// of evidence (placement, the namespace label, a device claim), so that no
// message claims GPUs scaleguard cannot count.
func (t Tier) Origin() string {
	if len(t.Signals) == 0 || len(t.origins) == 0 || t.GPUsPerReplica() > 0 {
		return t.Reason()
	}
	kind := "accelerators of pods that do not scale with this ScaledObject"
	switch t.origins[0] {
	case fromPlacement:
		kind = "placement only, no accelerator requested"
		if t.Runtime != "" {
			kind = "placement only"
		}
	case fromNamespace:
		kind = "the namespace label only"
	case fromClaim:
		kind = "a device claim scaleguard cannot count per replica"
	}
	if t.Runtime != "" {
		kind += ", container resources from " + t.Runtime + " unread"
	}
	return kind + ": " + t.Reason()
}

// scaled is what an autoscaler scales, as Classify resolves it.
type scaled struct {
	// ref is the scale target with its defaults applied; ok is false when
	// the autoscaler names none.
	ref WorkloadRef
	ok  bool
	// isvc is the InferenceService whose controller generated the
	// autoscaler (KServe), "" for one a person wrote.
	isvc string
}

// WorkloadRef is policies.WorkloadRef, named here for brevity.
type WorkloadRef = policies.WorkloadRef

// Classify resolves the ScaledObject's scale target through the view and
// reads its pod templates, and the namespace's labels, for GPU signals.
func Classify(so *kedav1alpha1.ScaledObject, view policies.ClusterView, s *policies.GPUSettings) Tier {
	ref, ok := policies.KEDATarget(so)
	return classifyTarget(scaled{ref: ref, ok: ok && ref.Name != "", isvc: generatedBy(so)}, objectNamespace(so.Namespace), view, s)
}

// ClassifyHPA is Classify for a HorizontalPodAutoscaler's target.
func ClassifyHPA(hpa *autoscalingv2.HorizontalPodAutoscaler, view policies.ClusterView, s *policies.GPUSettings) Tier {
	ref := policies.HPATarget(hpa)
	isvc := ""
	if o := metav1.GetControllerOf(hpa); o != nil && o.Kind == "InferenceService" && apiGroup(o.APIVersion) == kservev1beta1.GroupVersion.Group {
		isvc = o.Name
	}
	return classifyTarget(scaled{ref: ref, ok: ref.Name != "", isvc: isvc}, objectNamespace(hpa.Namespace), view, s)
}

// ClassifyHTTP is Classify for the target of a KEDA HTTP add-on
// HTTPScaledObject (KEDA's defaults apply, as in the ScaledObject the
// add-on generates).
func ClassifyHTTP(h *kedahttpv1alpha1.HTTPScaledObject, view policies.ClusterView, s *policies.GPUSettings) Tier {
	r := h.Spec.ScaleTargetRef
	so := &kedav1alpha1.ScaledObject{Spec: kedav1alpha1.ScaledObjectSpec{
		ScaleTargetRef: &kedav1alpha1.ScaleTarget{APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name},
	}}
	so.Namespace = h.Namespace
	ref, ok := policies.KEDATarget(so)
	return classifyTarget(scaled{ref: ref, ok: ok && ref.Name != ""}, objectNamespace(h.Namespace), view, s)
}

func objectNamespace(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

func classifyTarget(target scaled, ns string, view policies.ClusterView, s *policies.GPUSettings) Tier {
	var t Tier
	nsSignal := namespaceSignal(ns, view, s)
	shapes, found := resolve(target, ns, view, &t)
	if found {
		t.Determined = true
		units := map[string]int64{}
		for _, sh := range shapes {
			r := readPod(sh.spec, ns, view, s)
			for _, sig := range r.signals {
				if sh.where != "" {
					sig.text = sh.where + ": " + sig.text
				}
				t.Signals = append(t.Signals, sig.text)
				t.origins = append(t.origins, sig.origin)
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
		t.origins = append(t.origins, fromNamespace)
	}
	if t.Runtime != "" {
		if len(t.Signals) > 0 {
			// Another signal decides: the runtime's resources could only
			// add GPUs.
			t.Why = ""
		} else {
			t.Determined = false
		}
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
func resolve(target scaled, ns string, view policies.ClusterView, t *Tier) ([]podShape, bool) {
	owner := func() (*kservev1beta1.InferenceService, bool) {
		if target.isvc == "" {
			return nil, false
		}
		return view.InferenceService(ns, target.isvc)
	}
	if !target.ok {
		if isvc, ok := owner(); ok {
			return predictorShapes(isvc, t), true
		}
		t.Target = "the scale target"
		t.Why = "spec.scaleTargetRef names no workload"
		return nil, false
	}
	ref := target.ref
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
		if isvc, ok := owner(); ok {
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
	case policies.LeaderWorkerSetKind:
		if lws, ok := view.LeaderWorkerSet(ns, ref.Name); ok {
			t.Object = lws
			return leaderWorkerSetShapes(lws), true
		}
	case RolloutKind:
		if ro, ok := view.Rollout(ns, ref.Name); ok {
			return rolloutShapes(ro, ns, view, t)
		}
	default:
		gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
		t.Why = fmt.Sprintf("the pod template of %s (kind %s) is not something scaleguard reads", t.Target, gk)
		if op, ok := operatorKinds[gk]; ok {
			t.Why = fmt.Sprintf("%s is %s makes the pods from a spec scaleguard does not read", t.Target, op)
		}
		return nil, false
	}
	t.Why = fmt.Sprintf("%s does not exist in namespace %q yet", t.Target, ns)
	t.Absent = true
	return nil, false
}

// operatorKinds are kinds with a /scale subresource whose pods an operator
// makes from a spec scaleguard does not read, so their GPU tier is
// undetermined unless the namespace label decides.
var operatorKinds = map[schema.GroupKind]string{
	// production-stack operator/api/v1alpha1/vllmruntime_types.go: /scale
	// over spec.deploymentConfig.replicas.
	{Group: "production-stack.vllm.ai", Kind: "VLLMRuntime"}: "a vLLM production-stack VLLMRuntime, whose operator",
	// Dynamo's operator creates one adapter per service of a
	// DynamoGraphDeployment (docs/kubernetes/autoscaling.md).
	{Group: "nvidia.com", Kind: "DynamoGraphDeploymentScalingAdapter"}: "an NVIDIA Dynamo scaling adapter, whose DynamoGraphDeployment's operator",
}

// apiGroup is the group of an apiVersion, its raw text when malformed.
func apiGroup(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return apiVersion
	}
	return gv.Group
}
