package conflict

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

const updateDoc = "On UPDATE, a conflict the stored object already had with the same object is admitted with a warning, so the object can be edited and fixed; " +
	"an update that brings the conflict (a new target, a new autoscaler class) is denied. A conflict the stored object was only warned about does not count as one it had."

func init() {
	policies.MustRegister(
		policies.Rule{
			ID:      HPAID,
			Kinds:   []schema.GroupVersionKind{apis.ScaledObject, apis.HorizontalPodAutoscaler},
			Action:  policies.Deny,
			Summary: "a ScaledObject's target is already scaled by an HPA it does not own, or an HPA is created for a workload a ScaledObject or another HPA scales",
			Doc: "KEDA scales through an HPA of its own. A second HPA on the same workload writes spec.replicas too, and the two flap it. " +
				"KEDA's own webhook checks this, but it fails open (`failurePolicy: Ignore`) and only from the ScaledObject's side.\n\n" +
				"Denied: a ScaledObject whose target (apps/v1 Deployment when apiVersion and kind are unset) is the `scaleTargetRef` of an HPA that is not its own, " +
				"and an HPA for a workload a ScaledObject already scales. An HPA is a ScaledObject's own when it has an owner reference to it, " +
				"or bears KEDA's name for it (`keda-hpa-<name>`, or `spec.advanced.horizontalPodAutoscalerConfig.name`) with the `scaledobject.keda.sh/name` label; " +
				"KEDA's HPAs are never judged as intruders. KServe's HPAs are left to `conflict-kserve`, unless their InferenceService states no deployment mode " +
				"(there `conflict-kserve` only warns, but the HPA shows raw mode, and KServe keeps it under class `hpa` or `keda`); another ScaledObject's HPA is left to `conflict-scaledobject`.\n\n" +
				"KEDA's escape hatches are honoured: `validations.keda.sh/hpa-ownership: \"false\"` on the HPA, and `scaledobject.keda.sh/transfer-hpa-ownership: \"true\"` " +
				"on the ScaledObject together with the HPA's name in `spec.advanced.horizontalPodAutoscalerConfig.name` (KEDA then takes that HPA over). " +
				"The annotation without the name is denied on that field.\n\n" +
				"Two HPAs on one workload are denied too, from whichever arrives second: Kubernetes' HPA controller finds the target's pods selected by both, " +
				"sets `ScalingActive: False` with reason `AmbiguousSelector` on each and scales neither. Targets are compared by group, kind and name; " +
				"KEDA's HPAs (judged through their ScaledObjects) and KServe's (judged at their InferenceService) are left out on both sides.\n\n" + updateDoc,
			Check: checkHPA,
		},
		policies.Rule{
			ID:      ScaledObjectID,
			Kinds:   []schema.GroupVersionKind{apis.ScaledObject},
			Action:  policies.Deny,
			Summary: "another ScaledObject of the namespace already scales the same workload, or would own the same HPA",
			Doc: "Two ScaledObjects on one workload make KEDA run two HPAs that overwrite each other's spec.replicas. " +
				"Targets are compared with KEDA's defaults applied on both sides (no apiVersion means apps/v1, no kind means Deployment) and regardless of version. " +
				"A ScaledObject of the same name is the same object (an update or a re-apply), never a conflict. " +
				"Also denied: two ScaledObjects whose HPAs would have the same name (`keda-hpa-<name>` or `spec.advanced.horizontalPodAutoscalerConfig.name`). " +
				"When several others share the workload (or the HPA name), one finding names them all (the first five, then a count), so N ScaledObjects on one workload get N findings, not N².\n\n" +
				"A ScaledObject KServe generated for an InferenceService with `autoscalerClass: keda` is left to `conflict-kserve`; one left behind after the class changed " +
				"(KServe does not delete it) is reported here, with the fix of deleting it, and so is one whose InferenceService states no deployment mode " +
				"(there `conflict-kserve` only warns).\n\n" + updateDoc,
			Check: checkScaledObject,
		},
		policies.Rule{
			ID:      KServeID,
			Kinds:   []schema.GroupVersionKind{apis.ScaledObject, apis.InferenceService},
			Action:  policies.Deny,
			Summary: "a ScaledObject scales an InferenceService's predictor (or transformer, explainer) while KServe's own autoscaler is active, and the reverse",
			Doc: "KServe scales the Deployments of an InferenceService itself unless told otherwise. In raw mode (`serving.kserve.io/deploymentMode: Standard` or `RawDeployment`) " +
				"`serving.kserve.io/autoscalerClass` decides: absent or `hpa`, KServe creates the HPA `<isvc>-predictor`; `keda`, its own ScaledObject of that name; " +
				"`none`, KServe writes spec.replicas back to minReplicas on every reconcile, so it fights any other autoscaler too; `external`, KServe leaves the replicas alone. " +
				"In Knative mode (`Knative`, `Serverless`) `<isvc>-predictor` is a Knative Service and no Deployment has that name: the Deployments are the revisions' " +
				"(`<isvc>-predictor-00001-deployment`, ...), and Knative's autoscaler scales them, whatever the class.\n\n" +
				"The mode is read from `status.deploymentMode`, then the annotation, as KServe does. An InferenceService that states neither is judged in the mode of " +
				"`conflicts.kserveDefaultDeploymentMode` (the cluster's `deploy.defaultDeploymentMode`; KServe ships Knative), and what that finds is a warning, never a denial: " +
				"the mode is an assumption, and the warning names the setting and the annotation that would settle it.\n\n" +
				"Denied: a ScaledObject on `<isvc>-predictor` (`<isvc>-<name>-predictor` for a named predictor; `<isvc>-transformer`, `<isvc>-explainer`) in raw mode, " +
				"or on one of their revision Deployments in Knative mode, while that autoscaler is active; and an InferenceService created or updated into an active autoscaler " +
				"while a ScaledObject scales one of its Deployments. The fix is `serving.kserve.io/autoscalerClass: external` on the InferenceService (in Knative mode, " +
				"a raw-mode InferenceService, whose Deployment keeps its name across revisions). " +
				"KServe's own ScaledObject (controller owner reference to the InferenceService) is not a conflict with it.\n\n" +
				"Left behind: KServe deletes neither its ScaledObject when the class leaves `keda` nor its HPA when the class becomes `keda`. Both are reported on the " +
				"InferenceService, where the class is changed: denied when the class is `hpa` (or absent) or `none` while its ScaledObject still scales a component, " +
				"or `keda` while its HPA does; warned when the class is `external` and its ScaledObject remains (nothing fights it, but KServe no longer updates it). " +
				"The generated objects themselves are judged at their owner, so KServe's controller is never the one refused. The way out goes through `external`: " +
				"KServe deletes its HPA then, and no longer recreates its ScaledObject once that is deleted.\n\n" + updateDoc,
			Check: checkKServe,
		},
		policies.Rule{
			ID:      KthenaID,
			Kinds:   []schema.GroupVersionKind{apis.ScaledObject, apis.AutoscalingPolicy, apis.AutoscalingPolicyBinding},
			Action:  policies.Deny,
			Summary: "a ScaledObject and a Kthena AutoscalingPolicy (or older AutoscalingPolicyBinding) scale the same ModelServing, in either order, from any namespace",
			Doc: "Kthena's autoscaler patches a ModelServing's spec.replicas directly (the replicas of its roles for a disaggregated target), while KEDA scales it through /scale: " +
				"the two fight. The policy's targets are `spec.homogeneousTarget.target.targetRef`, `spec.heterogeneousTarget.params[*].target.targetRef` and " +
				"`spec.disaggregatedTarget.targetRef`; the older binding's are `spec.homogeneousTarget`, `spec.heterogeneousTarget` (v0.2 to v0.4) and " +
				"`spec.scalingConfiguration`, `spec.optimizerConfiguration` (v0.1). A targetRef without namespace is in the policy's namespace; with one, it may point " +
				"into another namespace, and ScaledObjects are matched there. A targetRef Kthena refuses (another kind, another group) scales nothing and is ignored.\n\n" +
				"Denied: a ScaledObject on a ModelServing a policy or binding targets, and a policy or binding whose target a ScaledObject already scales.\n\n" + updateDoc,
			Check: checkKthena,
		},
		policies.Rule{
			ID:      AutoscalerID,
			Kinds:   append([]schema.GroupVersionKind{apis.ScaledObject, apis.HorizontalPodAutoscaler}, autoscalers.Kinds()...),
			Action:  policies.Deny,
			Summary: "a ScaledObject or HPA scales a workload another cataloged autoscaler (AIBrix, NVIDIA NIM operator, Knative Serving, KubeAI, KAITO) already scales, and the reverse",
			Doc: "Several projects of the ecosystem scale a workload's replicas with a controller of their own. The catalogue (`policies/autoscalers`, each entry citing " +
				"the project's source and version) says, for each such kind, which workload it scales and in which mode:\n\n" + autoscalers.Markdown() + "\n\n" +
				"Denied: a ScaledObject or HPA on a workload one of them scales in such a mode, and such an autoscaler created (or updated into a mode that scales) " +
				"while a ScaledObject or HPA already scales its workload. Several on one workload are named in one finding, so N objects on a workload give N findings. " +
				"`check` needs only the autoscaler in the manifest set (its HPA or ScaledObject does not exist yet). The HPA or ScaledObject such an autoscaler creates is " +
				"judged at the autoscaler: `conflict-hpa` and `conflict-scaledobject` leave it out while its autoscaler is in the view in a mode that creates it, and a denial " +
				"on it becomes a warning. An autoscaler in no listed mode (KubeAI with `autoscalingDisabled: true`, an InferenceSet without auto-provisioning, a NIMService " +
				"with neither `spec.scale.enabled` nor `spec.replicas`) scales nothing and is not judged; a Knative Service an InferenceService generated is left to `conflict-kserve`.\n\n" + updateDoc,
			Check: checkAutoscaler,
		},
		policies.Rule{
			ID:      VPAID,
			Kinds:   []schema.GroupVersionKind{apis.VerticalPodAutoscaler, apis.HorizontalPodAutoscaler, apis.ScaledObject, apis.InferenceService},
			Action:  policies.Warn,
			Summary: "a VerticalPodAutoscaler in an updating mode rewrites the cpu or memory requests of pods an HPA, ScaledObject or KServe scales on that resource's utilisation",
			Doc: "Utilisation is usage divided by the request. A VPA that rewrites the request moves the utilisation the horizontal autoscaler acts on, so each resize " +
				"triggers a scale and the two chase each other; Kubernetes documents a VPA beside an HPA on cpu or memory as unsupported. " +
				"(kubernetes/autoscaler vertical-pod-autoscaler, vertical-pod-autoscaler-1.7.1: types.go for the modes and `controlledResources`.)\n\n" +
				"Warned, on either side: a VPA whose `updatePolicy.updateMode` is unset (Recreate), `Recreate`, `Auto`, `InPlaceOrRecreate` or `InPlace`, and whose container " +
				"policies control cpu or memory (the default: both; a container's own policy, else the `*` policy), on the workload of an HPA with a `Resource` or " +
				"`ContainerResource` metric of that resource and target type `Utilization`, a ScaledObject with a `cpu` or `memory` trigger (metricType `Utilization`, KEDA's default), " +
				"or an InferenceService in raw mode whose KServe autoscaler scales on it (no `autoScaling.metrics` and no `scaleMetric` means cpu at 80%). " +
				"The HPAs KEDA and KServe generate are named through their ScaledObject or InferenceService; those other controllers generate are named on the VPA's side.\n\n" +
				"Silent: `updateMode: Off` (recommendations only) and `Initial` (requests set only when a pod is created), a VPA that leaves the resource out, " +
				"an HPA or trigger on `AverageValue`, and any custom, external, pods or object metric (requests waiting, KV-cache use). " +
				"The fix: leave the resource out of `controlledResources`, or `updateMode: Off`, or scale on a metric that is not cpu or memory.",
			Check: checkVPA,
		},
		policies.Rule{
			ID:      GitOpsID,
			Kinds:   []schema.GroupVersionKind{apis.ScaledObject, apis.HorizontalPodAutoscaler, apis.ModelServing, apis.AutoscalingPolicy, apis.AutoscalingPolicyBinding},
			Action:  policies.Warn,
			Summary: "the scaled workload is managed by Argo CD and its applied manifest sets spec.replicas, so every self-heal sync resets the autoscaler",
			Doc: "Argo CD compares the live object with the manifest; when the manifest sets spec.replicas and self-heal is on, every sync puts back the manifest's count " +
				"and the autoscaler scales again. A workload counts as managed by Argo CD when it carries one of `conflicts.gitOpsTrackingAnnotations` " +
				"(`argocd.argoproj.io/tracking-id`, which only Argo CD writes). One of `conflicts.gitOpsTrackingLabels` (`app.kubernetes.io/instance`, Argo CD's default " +
				"tracking label) is only a hint: Helm sets the same label on every release, and `helm upgrade`'s three-way merge leaves replicas its chart did not change alone, " +
				"so with a label alone the warning says the label suggests Argo CD tracking rather than asserting it. Whether the applied manifest sets spec.replicas is read " +
				"from kubectl's last-applied configuration (client-side apply), from a server-side apply field manager owning spec.replicas, or, in `check`, from the manifest itself; " +
				"a live object with neither record is not judged (the API server always sets spec.replicas).\n\n" +
				"Warned: a ScaledObject, HPA or Kthena policy on such a workload, and such a ModelServing when something scales it. " +
				"The fix: drop spec.replicas from the manifest, or add an `ignoreDifferences` entry for `/spec/replicas` with the sync option `RespectIgnoreDifferences=true`. " +
				"A disaggregated Kthena target (which scales the roles, not spec.replicas) is not judged.",
			Check: checkGitOps,
		},
	)
}
