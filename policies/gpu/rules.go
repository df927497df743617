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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/apis"
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
	"a Kthena ModelServing, every role's entryTemplate and workerTemplate; for a Deployment named `<isvc>-predictor` or `<isvc>-<name>-predictor`, " +
	"or a ScaledObject KServe generated, the InferenceService's predictor and workerSpec) has a pod template that requests or limits an accelerator " +
	"resource (`gpu.acceleratorResources`: nvidia.com/gpu, amd.com/gpu, gpu.intel.com/*, nvidia.com/mig-*, google.com/tpu, aws.amazon.com/neuron*), " +
	"claims a device whose ResourceClaimTemplate or ResourceClaim names a device class containing `gpu`, selects GPU nodes by nodeSelector or required " +
	"node affinity (`gpu.nodeLabels`) or tolerates the nvidia.com/gpu taint, or when its namespace is labelled `scaleguard.io/tier: gpu`."

var scaledObjects = []schema.GroupVersionKind{apis.ScaledObject}

func init() {
	policies.MustRegister(
		policies.Rule{
			ID: PausedDefaultID, Kinds: scaledObjects, Action: policies.Mutate,
			Summary: "a GPU-tier ScaledObject with no pause decision gets autoscaling.keda.sh/paused: \"true\"",
			Doc: "An un-paused ScaledObject owns the replicas of its target: with `minReplicaCount: 1` it keeps a GPU node up around the clock and " +
				"overrides a manual scale-down. So on a GPU tier, pausing is the default: a ScaledObject with neither `autoscaling.keda.sh/paused` " +
				"(any value, \"false\" included) nor `autoscaling.keda.sh/paused-replicas` gets `autoscaling.keda.sh/paused: \"true\"`, on CREATE and on " +
				"every UPDATE that drops it (KServe and KEDA rewrite ScaledObjects with full updates). The patch touches only that annotation.\n\n" +
				tierDoc + "\n\n" +
				"When the target does not exist yet and the namespace is not labelled, the tier is undetermined: the object is admitted as it is with a " +
				"warning, and scaleguard's pause keeper pauses it once its target appears on a GPU tier. A target of a kind KEDA scales " +
				"(`targetRef.scalableKinds`) whose pod template scaleguard does not read is admitted with a warning too; other kinds are left alone.\n\n" +
				"To let KEDA scale, write `autoscaling.keda.sh/paused: \"false\"` with `scaleguard.io/unpause-until: <RFC 3339 time>`; the keeper " +
				"re-pauses it then. For a ScaledObject KServe generates, put the annotations on the InferenceService (KServe copies them).",
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
			ID: IdleCostID, Kinds: scaledObjects, Action: policies.Warn,
			Summary: "minReplicaCount >= 1 on a GPU tier: say how many GPU-hours (and how much money) an idle month keeps allocated",
			Doc: "`minReplicaCount` replicas stay up with no load (KEDA's default is 0; an `idleReplicaCount` below it is what stays up when no trigger " +
				"is active). On a GPU tier that is N GPUs for 730 hours a month, paused or not, since un-pausing is one annotation away. GPUs per replica " +
				"are summed over the target's pod templates (for a ModelServing: every role's replicas × (entry pod + workerReplicas worker pods)). " +
				"With `gpu.hourlyPrice` set, the message gives the money too.",
			Check: policies.On(checkIdleCost),
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
			ID: CooldownID, Kinds: scaledObjects, Action: policies.Warn,
			Summary: "a GPU-tier ScaledObject scales down faster than gpu.minCooldownSeconds (300 s)",
			Doc: "GPU replicas take minutes to start and load a model, so scaling them away after a short quiet spell makes the next burst wait for a " +
				"cold start, and replicas flap. `cooldownPeriod` (KEDA's default 300 s) governs the last replica's removal when the ScaledObject can " +
				"scale to zero (`minReplicaCount` 0, or an `idleReplicaCount`); the HPA's " +
				"`advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds` (Kubernetes' default 300 s) governs " +
				"scale-down between 1 and N. Either below `gpu.minCooldownSeconds` is warned about.",
			Check: policies.On(checkCooldown),
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
	if so.DeletionTimestamp != nil {
		return nil
	}
	return in.Memo(tierKey{}, func() any {
		t := Classify(so, in.View, &in.Settings.GPU)
		return &t
	}).(*Tier)
}
