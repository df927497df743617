// Package gpu holds the GPU-tier rules: a ScaledObject whose target runs on
// GPUs is paused by default (gpu-paused-default), never reaches storage
// without a pause decision (gpu-unpaused), and is told what it costs idle
// (gpu-idle-cost), whether its namespace's quota lets it scale out
// (gpu-quota) and whether its cooldown is long enough (gpu-cooldown).
//
// Classify is shared with the pause keeper, which re-pauses what these
// rules cannot: un-pauses that expired, and ScaledObjects whose target
// appeared after them.
package gpu

import (
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/apis"
	kedahttpv1alpha1 "github.com/scaleguard/scaleguard/apis/kedahttp/v1alpha1"
	"github.com/scaleguard/scaleguard/policies"
)

// Rule IDs.
const (
	PausedDefaultID = "gpu-paused-default"
	UnpausedID      = "gpu-unpaused"
	IdleCostID      = "gpu-idle-cost"
	QuotaID         = "gpu-quota"
	CooldownID      = "gpu-cooldown"
)

const tierDoc = "A ScaledObject is on a GPU tier when its scale target (`scaleTargetRef`, by default an apps/v1 Deployment; a StatefulSet; an Argo Rollout, its template or the Deployment its workloadRef names; " +
	"a Kthena ModelServing, every role's entryTemplate and workerTemplate; a LeaderWorkerSet, its leaderTemplate and workerTemplate (`size` pods per replica); for a Deployment named `<isvc>-predictor` or `<isvc>-<name>-predictor`, " +
	"or a ScaledObject KServe generated, the InferenceService's predictor and workerSpec) has a pod template that requests or limits an accelerator " +
	"resource (`gpu.acceleratorResources`: nvidia.com/gpu, amd.com/gpu, gpu.intel.com/*, nvidia.com/mig-*, google.com/tpu, aws.amazon.com/neuron*), " +
	"claims a device whose ResourceClaimTemplate or ResourceClaim names a device class containing `gpu`, selects GPU nodes by nodeSelector or required " +
	"node affinity (`gpu.nodeLabels`) or tolerates the nvidia.com/gpu taint, or when its namespace is labelled `scaleguard.io/tier: gpu`."

var (
	scaledObjects = []schema.GroupVersionKind{apis.ScaledObject}
	// autoscalers are the kinds whose idle cost and cooldown are judged.
	autoscalers = []schema.GroupVersionKind{apis.ScaledObject, apis.HorizontalPodAutoscaler, apis.HTTPScaledObject}
)

// byKind dispatches a rule to the check of the object's kind.
func byKind(so func(*kedav1alpha1.ScaledObject, *policies.Input) []policies.Finding,
	hpa func(*autoscalingv2.HorizontalPodAutoscaler, *policies.Input) []policies.Finding,
	http func(*kedahttpv1alpha1.HTTPScaledObject, *policies.Input) []policies.Finding) policies.CheckFunc {
	return func(in *policies.Input) []policies.Finding {
		switch o := in.Object.(type) {
		case *kedav1alpha1.ScaledObject:
			return so(o, in)
		case *autoscalingv2.HorizontalPodAutoscaler:
			return hpa(o, in)
		case *kedahttpv1alpha1.HTTPScaledObject:
			return http(o, in)
		}
		return nil
	}
}

func init() {
	policies.MustRegister(
		policies.Rule{
			ID: PausedDefaultID, Kinds: scaledObjects, Action: policies.Mutate, MutatesOnlyIf: UndecidedCondition,
			Summary: "a GPU-tier ScaledObject with no pause decision gets autoscaling.keda.sh/paused: \"true\"",
			Doc: "An un-paused ScaledObject owns the replicas of its target: with `minReplicaCount: 1` it keeps a GPU node up around the clock and " +
				"overrides a manual scale-down. So on a GPU tier, pausing is the default: a ScaledObject with neither `autoscaling.keda.sh/paused` " +
				"(any value, \"false\" included) nor `autoscaling.keda.sh/paused-replicas` gets `autoscaling.keda.sh/paused: \"true\"`, on CREATE and on " +
				"every UPDATE that drops it (KServe and KEDA rewrite ScaledObjects with full updates). The patch touches only that annotation.\n\n" +
				tierDoc + "\n\n" +
				"When the target does not exist yet and the namespace is not labelled, the tier is undetermined: the object is admitted as it is with a " +
				"warning, and scaleguard's pause keeper pauses it once its target appears on a GPU tier. A target of a kind KEDA scales " +
				"(`targetRef.scalableKinds`) whose pod template scaleguard does not read is admitted with a warning too (the vLLM production-stack operator's " +
				"VLLMRuntime and NVIDIA Dynamo's DynamoGraphDeploymentScalingAdapter make their pods from specs scaleguard does not read); other kinds are left alone. " +
				"So is a KServe predictor that declares neither resources nor containers of its own (a `model` or framework predictor): its container's " +
				"resources come from the (Cluster)ServingRuntime, which scaleguard does not read, so unless another signal decides (a toleration, a " +
				"node selector, the namespace label) the warning asks to label the namespace `scaleguard.io/tier: gpu` or to write the pause " +
				"annotation by hand.\n\n" +
				"An UPDATE is paused too when it drops the stored object's decision (a controller's full update) or when the stored object never had " +
				"one (it predates scaleguard, or was admitted before its target existed); the warning says which.\n\n" +
				"To let KEDA scale, write `autoscaling.keda.sh/paused: \"false\"` with `scaleguard.io/unpause-until: <RFC 3339 time>`; the keeper " +
				"re-pauses it then. For a ScaledObject KServe generates, annotate the generated ScaledObject itself: KServe updates it only when its " +
				"`.spec` differs from what the InferenceService asks for, so an annotation-only change of the InferenceService never reaches it (and " +
				"InferenceService annotations land on the predictor pods too). KServe's next spec-changing update replaces the ScaledObject's " +
				"annotations with its own, dropping the un-pause, and scaleguard pauses it again.\n\n" +
				"The ScaledObject the KEDA HTTP add-on generates for an HTTPScaledObject (controller owner reference to it) is never paused, by the webhook " +
				"or the pause keeper: the add-on's interceptor holds requests while KEDA scales the target from zero, and a paused ScaledObject never would. " +
				"The HTTPScaledObject is judged instead (gpu-idle-cost, gpu-cooldown).",
			Check: policies.On(checkPausedDefault),
		},
		policies.Rule{
			ID: UnpausedID, Kinds: scaledObjects, Action: policies.Deny, KeepOnUpdate: true,
			Summary: "a GPU-tier ScaledObject reaches validation with no pause decision, or un-paused without a valid scaleguard.io/unpause-until",
			Doc: "The final-state check behind gpu-paused-default: the mutating webhook fails open, so a GPU-tier ScaledObject can reach validation " +
				"without a pause decision; it is denied, on UPDATE too (a controller's full update that drops the annotation is caught even when the " +
				"object was stored without one). The webhooks read an informer cache: a ScaledObject applied a moment after its target can be " +
				"mutated before the cache has seen the target and validated after, and is then refused once; applying it again pauses it.\n\n" +
				"An explicit `autoscaling.keda.sh/paused: \"false\"` should end: `scaleguard.io/unpause-until` is an RFC 3339 time no further than " +
				"`gpu.maxUnpauseWindow` (8h) ahead, after which the pause keeper sets `paused: \"true\"` again. A missing, malformed or too distant " +
				"expiry is a warning, or a denial when `gpu.requireUnpauseExpiry` is set. The expiry is judged when it is written (CREATE, or an UPDATE " +
				"that changes `paused` or `unpause-until`); other updates of an un-paused object are not re-judged against the clock.\n\n" +
				"Objects being deleted are never judged.",
			Check: policies.On(checkUnpaused),
		},
		policies.Rule{
			ID: IdleCostID, Kinds: autoscalers, Action: policies.Warn,
			Summary: "minReplicaCount (an HPA's minReplicas, an HTTPScaledObject's replicas.min) >= 1 on a GPU tier: say how many GPU-hours (and how much money) an idle month keeps allocated",
			Doc: "`minReplicaCount` replicas stay up with no load (KEDA's default is 0; an `idleReplicaCount` below it is what stays up when no trigger " +
				"is active). On a GPU tier that is N GPUs for 730 hours a month. A paused ScaledObject is warned about too, since un-pausing is one " +
				"annotation away: while paused KEDA leaves the replicas where they are (or holds `paused-replicas`), and minReplicaCount applies again " +
				"once un-paused; the message says so. GPUs per replica are summed over the target's pod templates (for a ModelServing: every role's " +
				"replicas × (entry pod + workerReplicas worker pods); a pod's count is Kubernetes' effective request: app containers plus sidecar init " +
				"containers, or a one-shot init container plus the sidecars declared before it, whichever is larger). When the tier comes from " +
				"placement or the namespace label alone, no accelerator is requested and the message says the GPUs cannot be counted. " +
				"With `gpu.hourlyPrice` set, the message gives the money too.\n\n" +
				"The fix is `minReplicaCount: 0`, except where KEDA refuses it: when every trigger is `cpu` or `memory` (KEDA counts those as always " +
				"active, so it rejects minReplicaCount 0 and never applies an idleReplicaCount), the message asks for a trigger that drops to 0 with no " +
				"load, or for keeping the ScaledObject paused with the target at 0 (`autoscaling.keda.sh/paused-replicas: \"0\"`). For a ScaledObject " +
				"KServe generates it names the InferenceService's `spec.predictor.minReplicas` (and `spec.predictor.autoScaling.metrics`), which KServe " +
				"writes into the ScaledObject over edits made there.\n\n" +
				"A HorizontalPodAutoscaler on a GPU tier is judged the same way on `spec.minReplicas` (unset: 1); an HPA never scales below 1 replica " +
				"(minReplicas 0 needs the alpha feature gate HPAScaleToZero), so the fix is a KEDA ScaledObject with `minReplicaCount: 0` in its place " +
				"(for KServe's HPA, `serving.kserve.io/autoscalerClass: keda` with `spec.predictor.minReplicas: 0`). KEDA's own HPAs are judged through their ScaledObject. " +
				"A KEDA HTTP add-on HTTPScaledObject is judged on `spec.replicas.min` (unset: 0), at the HTTPScaledObject: the add-on copies it into the " +
				"ScaledObject it generates, which the GPU rules leave alone.",
			Check: byKind(checkIdleCost, checkIdleCostHPA, checkIdleCostHTTP),
		},
		policies.Rule{
			ID: QuotaID, Kinds: scaledObjects, Action: policies.Warn,
			Summary: "maxReplicaCount × GPUs per replica exceeds the namespace's ResourceQuota requests.<gpu resource>",
			Doc: "KEDA asks for up to `maxReplicaCount` replicas (default 100). When that many replicas need more of an accelerator resource than a " +
				"ResourceQuota of the namespace allows (`requests.nvidia.com/gpu`, say), the scale-out beyond the quota cannot happen: pods are refused " +
				"and KEDA reports a scale that never materialises. Lower maxReplicaCount to what the quota holds, or raise the quota.",
			Check: policies.On(checkQuota),
		},
		policies.Rule{
			ID: CooldownID, Kinds: autoscalers, Action: policies.Warn,
			Summary: "a GPU-tier ScaledObject, HPA or HTTPScaledObject scales down faster than gpu.minCooldownSeconds (300 s)",
			Doc: "GPU replicas take minutes to start and load a model, so scaling them away after a short quiet spell makes the next burst wait for a " +
				"cold start, and replicas flap. `cooldownPeriod` (KEDA's default 300 s) governs the last replica's removal when the ScaledObject can " +
				"scale to zero (`minReplicaCount` 0, or an `idleReplicaCount`, with a trigger other than cpu or memory: those are always active); the HPA's " +
				"`advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds` (Kubernetes' default 300 s) governs " +
				"scale-down between 1 and N. Either below `gpu.minCooldownSeconds` is warned about.\n\n" +
				"A HorizontalPodAutoscaler on a GPU tier is judged on `spec.behavior.scaleDown.stabilizationWindowSeconds`; a KEDA HTTP add-on HTTPScaledObject " +
				"that scales to zero (`replicas.min` 0, its default) on `spec.scaledownPeriod` (unset: 300 s), which the add-on makes the cooldownPeriod of the " +
				"ScaledObject it generates.",
			Check: byKind(checkCooldown, checkCooldownHPA, checkCooldownHTTP),
		},
	)
}

var (
	annotationsPath  = field.NewPath("metadata", "annotations")
	pausedPath       = annotationsPath.Key(PausedAnnotation)
	unpauseUntilPath = annotationsPath.Key(UnpauseUntilAnnotation)
)

// tierKey keys the shared classification in Input.Memo.
type tierKey struct{}

// classify is Classify for a rule, nil for an object on its way out. The
// family's rules share one classification per judgement.
func classify(so *kedav1alpha1.ScaledObject, in *policies.Input) *Tier {
	if so.DeletionTimestamp != nil || HTTPAddOnOwner(so) != "" {
		// Being deleted, or generated by the KEDA HTTP add-on from an
		// HTTPScaledObject, which is judged instead.
		return nil
	}
	return in.Memo(tierKey{}, func() any {
		t := Classify(so, in.View, &in.Settings.GPU)
		return &t
	}).(*Tier)
}
