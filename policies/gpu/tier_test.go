package gpu_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// deployment is a Deployment "llm" in namespace serving with the given pod
// spec (flow-style YAML).
func deployment(podSpec string) string {
	return fmt.Sprintf(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: llm, namespace: serving}
spec:
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec: %s
---
`, podSpec)
}

// cpuTrigger is scaledObject's trigger; queueTrigger one that drops to 0
// with no load, so the ScaledObject can scale to zero.
const (
	cpuTrigger   = `{type: cpu, metricType: Utilization, metadata: {value: "50"}}`
	queueTrigger = `{type: prometheus, metadata: {serverAddress: "http://prometheus:9090", query: "sum(vllm:num_requests_running{namespace=\"serving\", pod=~\"llm-.*\"})", threshold: "5"}}`
)

// scaledObject is a ScaledObject "llm" in namespace serving scaling the
// Deployment "llm" on CPU, with the given annotations and extra spec
// fields (flow-style YAML, "" for none).
func scaledObject(annotations, spec string) string {
	meta := "{name: llm, namespace: serving}"
	if annotations != "" {
		meta = "{name: llm, namespace: serving, annotations: " + annotations + "}"
	}
	return `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: ` + meta + `
spec:
  scaleTargetRef: {name: llm}
  triggers: [` + cpuTrigger + `]
` + spec
}

// queueScaledObject is scaledObject scaling on queue depth instead of CPU.
func queueScaledObject(annotations, spec string) string {
	return strings.Replace(scaledObject(annotations, spec), cpuTrigger, queueTrigger, 1)
}

func namespace(labels string) string {
	return "apiVersion: v1\nkind: Namespace\nmetadata: {name: serving, labels: " + labels + "}\n---\n"
}

const gpuContainer = `{containers: [{name: vllm, image: vllm, resources: {limits: {nvidia.com/gpu: "1"}}}]}`

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n---\n"
}

// TestGPUSignals shows every signal of the tier definition detected, and
// look-alikes that must not be: the rule under test is gpu-paused-default,
// which pauses exactly the GPU-tier ScaledObjects.
func TestGPUSignals(t *testing.T) {
	instanceTypes := policies.DefaultSettings()
	instanceTypes.GPU.NodeLabels = append(instanceTypes.GPU.NodeLabels,
		policies.NodeLabel{Key: "node.kubernetes.io/instance-type", Values: []string{"g5.xlarge", "p4d.24xlarge"}})
	claimTemplate := func(class string) string {
		return `
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: one-device, namespace: serving}
spec:
  spec:
    devices:
      requests: [{name: dev, exactly: {deviceClassName: ` + class + `}}]
---
`
	}
	cases := map[string]struct {
		docs     string
		settings *policies.Settings
		signal   string // "" when the target is not on a GPU tier
	}{
		"limits nvidia.com/gpu":         {docs: deployment(gpuContainer), signal: `container "vllm" limits nvidia.com/gpu: 1`},
		"requests amd.com/gpu":          {docs: deployment(`{containers: [{name: c, image: i, resources: {requests: {amd.com/gpu: "2"}, limits: {amd.com/gpu: "2"}}}]}`), signal: `container "c" requests amd.com/gpu: 2`},
		"init container intel gpu":      {docs: deployment(`{initContainers: [{name: warm, image: i, resources: {limits: {gpu.intel.com/i915: "1"}}}], containers: [{name: c, image: i}]}`), signal: `init container "warm" limits gpu.intel.com/i915: 1`},
		"MIG slice":                     {docs: deployment(`{containers: [{name: c, image: i, resources: {limits: {nvidia.com/mig-1g.5gb: "1"}}}]}`), signal: "nvidia.com/mig-1g.5gb: 1"},
		"TPU":                           {docs: deployment(`{containers: [{name: c, image: i, resources: {limits: {google.com/tpu: "4"}}}]}`), signal: "google.com/tpu: 4"},
		"Neuron":                        {docs: deployment(`{containers: [{name: c, image: i, resources: {limits: {aws.amazon.com/neuroncore: "2"}}}]}`), signal: "aws.amazon.com/neuroncore: 2"},
		"DRA claim template":            {docs: claimTemplate("gpu.nvidia.com") + deployment(`{resourceClaims: [{name: gpu, resourceClaimTemplateName: one-device}], containers: [{name: c, image: i}]}`), signal: `resource claim "gpu" (ResourceClaimTemplate "one-device") asks for device class "gpu.nvidia.com"`},
		"DRA shared claim":              {docs: "apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {name: shared, namespace: serving}\nspec: {devices: {requests: [{name: d, firstAvailable: [{name: big, deviceClassName: H100-GPU}]}]}}\n---\n" + deployment(`{resourceClaims: [{name: acc, resourceClaimName: shared}], containers: [{name: c, image: i}]}`), signal: `shared ResourceClaim "shared"`},
		"nodeSelector gpu.present":      {docs: deployment(`{nodeSelector: {nvidia.com/gpu.present: "true"}, containers: [{name: c, image: i}]}`), signal: "nodeSelector nvidia.com/gpu.present: true"},
		"nodeSelector gke-accelerator":  {docs: deployment(`{nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}, containers: [{name: c, image: i}]}`), signal: "nodeSelector cloud.google.com/gke-accelerator: nvidia-l4"},
		"affinity karpenter gpu count":  {docs: deployment(`{affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: karpenter.k8s.aws/instance-gpu-count, operator: Gt, values: ["0"]}]}]}}}, containers: [{name: c, image: i}]}`), signal: "required node affinity karpenter.k8s.aws/instance-gpu-count Gt [0]"},
		"affinity listed instance type": {docs: deployment(`{affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: node.kubernetes.io/instance-type, operator: In, values: [m5.large, g5.xlarge]}]}]}}}, containers: [{name: c, image: i}]}`), settings: instanceTypes, signal: "node.kubernetes.io/instance-type In [m5.large g5.xlarge]"},
		"toleration nvidia.com/gpu":     {docs: deployment(`{tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}], containers: [{name: c, image: i}]}`), signal: "toleration of the nvidia.com/gpu taint"},
		"namespace label, CPU target":   {docs: namespace(`{scaleguard.io/tier: gpu}`) + deployment(`{containers: [{name: c, image: i, resources: {requests: {cpu: "1"}}}]}`), signal: `namespace "serving" is labelled scaleguard.io/tier=gpu`},
		"namespace label, no target":    {docs: namespace(`{scaleguard.io/tier: gpu}`), signal: `namespace "serving" is labelled scaleguard.io/tier=gpu`},

		"cpu and memory only":                 {docs: deployment(`{containers: [{name: c, image: i, resources: {requests: {cpu: "4", memory: 16Gi}, limits: {cpu: "8", memory: 16Gi}}}]}`)},
		"nvidia.com/gpu: 0":                   {docs: deployment(`{containers: [{name: c, image: i, resources: {limits: {nvidia.com/gpu: "0"}}}]}`)},
		"another extended resource":           {docs: deployment(`{containers: [{name: c, image: i, resources: {limits: {example.com/foo: "1", hugepages-2Mi: 1Gi}}}]}`)},
		"gpu.present false":                   {docs: deployment(`{nodeSelector: {nvidia.com/gpu.present: "false"}, containers: [{name: c, image: i}]}`)},
		"instance type not listed by default": {docs: deployment(`{nodeSelector: {node.kubernetes.io/instance-type: g5.xlarge}, containers: [{name: c, image: i}]}`)},
		"instance type not among listed":      {docs: deployment(`{nodeSelector: {node.kubernetes.io/instance-type: m5.large}, containers: [{name: c, image: i}]}`), settings: instanceTypes},
		"affinity NotIn accelerator":          {docs: deployment(`{affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: cloud.google.com/gke-accelerator, operator: DoesNotExist}]}]}}}, containers: [{name: c, image: i}]}`)},
		"preferred affinity only":             {docs: deployment(`{affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {matchExpressions: [{key: nvidia.com/gpu.present, operator: Exists}]}}]}}, containers: [{name: c, image: i}]}`)},
		"tolerates everything":                {docs: deployment(`{tolerations: [{operator: Exists}], containers: [{name: c, image: i}]}`)},
		"DRA claim of a NIC":                  {docs: claimTemplate("sriov-nic.example.com") + deployment(`{resourceClaims: [{name: net, resourceClaimTemplateName: one-device}], containers: [{name: c, image: i}]}`)},
		"namespace labelled another tier":     {docs: namespace(`{scaleguard.io/tier: cpu}`) + deployment(`{containers: [{name: c, image: i}]}`)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs+scaledObject("", ""), tc.settings).Result.Findings
			if tc.signal == "" {
				for _, id := range []string{gpu.PausedDefaultID, gpu.UnpausedID, gpu.IdleCostID, gpu.QuotaID, gpu.CooldownID} {
					policytest.Expect(t, policytest.OnlyRule(got, id))
				}
				return
			}
			policytest.Expect(t, policytest.OnlyRule(got, gpu.PausedDefaultID),
				policytest.Mutate(gpu.PausedDefaultID, "metadata.annotations[autoscaling.keda.sh/paused]", `set to "true"`, tc.signal))
		})
	}
}

func TestUndeterminedTierIsAdmittedWithAWarning(t *testing.T) {
	got := policytest.Admit(t, scaledObject("", "")).Result
	policytest.Expect(t, policytest.OnlyRule(got.Findings, gpu.PausedDefaultID),
		policytest.Warn(gpu.PausedDefaultID, "metadata.annotations[autoscaling.keda.sh/paused]",
			"tier is undetermined", `Deployment "llm" does not exist in namespace "serving" yet`, "pauses it once the target appears"))
	policytest.Expect(t, policytest.OnlyRule(got.Findings, gpu.UnpausedID))
	if len(got.Patch) != 0 {
		t.Errorf("patch %v, want none", got.Patch)
	}

	replicaSet := strings.Replace(scaledObject("", ""), "{name: llm}", "{apiVersion: apps/v1, kind: ReplicaSet, name: llm}", 1)
	policytest.Expect(t, policytest.OnlyRule(policytest.Admit(t, replicaSet).Result.Findings, gpu.PausedDefaultID),
		policytest.Warn(gpu.PausedDefaultID, "metadata.annotations[autoscaling.keda.sh/paused]",
			`the pod template of ReplicaSet "llm" (kind ReplicaSet.apps) is not something scaleguard reads`, "set the annotation yourself"))
}

// classifyLast classifies the last object of docs, a ScaledObject, with
// every object as the view.
func classifyLast(t *testing.T, docs string) gpu.Tier {
	t.Helper()
	objs, err := manifests.Parse("test", strings.NewReader(docs))
	if err != nil {
		t.Fatal(err)
	}
	view := clusterview.NewManifests()
	var so *kedav1alpha1.ScaledObject
	for _, o := range objs {
		obj, err := apis.Decode(o.GVK, o.JSON)
		if err != nil {
			t.Fatal(err)
		}
		view.Add(obj)
		if s, ok := obj.(*kedav1alpha1.ScaledObject); ok {
			so = s
		}
	}
	if so == nil {
		t.Fatal("no ScaledObject in docs")
	}
	return gpu.Classify(so, view, &policies.DefaultSettings().GPU)
}

// TestClassifyCountsPerReplica checks the accelerator arithmetic directly:
// sidecar init containers add to the app containers, one-shot init
// containers only raise the peak, requests default to limits.
func TestClassifyCountsPerReplica(t *testing.T) {
	tier := classifyLast(t, deployment(`{initContainers: [{name: fetch, image: i, resources: {limits: {nvidia.com/gpu: "3"}}}, {name: proxy, image: i, restartPolicy: Always, resources: {limits: {nvidia.com/gpu: "1"}}}], containers: [{name: a, image: i, resources: {requests: {nvidia.com/gpu: "1"}, limits: {nvidia.com/gpu: "1"}}}, {name: b, image: i, resources: {limits: {nvidia.com/gpu: "1", amd.com/gpu: "1"}}}]}`)+
		scaledObject("", ""))
	if !tier.GPU || !tier.Determined || tier.Target != `Deployment "llm"` {
		t.Fatalf("tier %+v", tier)
	}
	// nvidia.com/gpu: max(1 + 1 + 1 sidecar, 3 one-shot) = 3; amd.com/gpu: 1.
	want := []gpu.Accelerator{{Name: "amd.com/gpu", PerReplica: 1}, {Name: "nvidia.com/gpu", PerReplica: 3}}
	if fmt.Sprint(tier.Accelerators) != fmt.Sprint(want) {
		t.Errorf("accelerators %v, want %v", tier.Accelerators, want)
	}
	if tier.GPUsPerReplica() != 4 || len(tier.Signals) != 5 {
		t.Errorf("%d GPUs per replica from %d signals %q, want 4 from 5", tier.GPUsPerReplica(), len(tier.Signals), tier.Signals)
	}
}

// TestSidecarArithmetic is Kubernetes' effective request of a pod
// (KEP-753) for accelerators: app containers plus every sidecar (an init
// container with restartPolicy Always) run together; a one-shot init
// container runs beside the sidecars declared before it, not after it.
func TestSidecarArithmetic(t *testing.T) {
	gpus := func(name, n string, sidecar bool) string {
		policy := ""
		if sidecar {
			policy = "restartPolicy: Always, "
		}
		return "{name: " + name + ", image: i, " + policy + "resources: {limits: {nvidia.com/gpu: \"" + n + "\"}}}"
	}
	plain := "{name: app, image: i}"
	cases := map[string]struct {
		inits, containers []string
		want              int64
	}{
		"sidecar beside the app":                    {[]string{gpus("proxy", "1", true)}, []string{gpus("app", "2", false)}, 3},
		"sidecar only":                              {[]string{gpus("proxy", "1", true)}, []string{plain}, 1},
		"sidecar runs beside a later one-shot init": {[]string{gpus("proxy", "1", true), gpus("warm", "2", false)}, []string{plain}, 3},
		"sidecar starts after an earlier one-shot":  {[]string{gpus("warm", "2", false), gpus("proxy", "1", true)}, []string{plain}, 2},
		"the app phase is the larger":               {[]string{gpus("proxy", "1", true), gpus("warm", "1", false)}, []string{gpus("app", "2", false)}, 3},
		"one-shot inits do not add up":              {[]string{gpus("a", "2", false), gpus("b", "3", false)}, []string{gpus("app", "1", false)}, 3},
		"two sidecars, then a one-shot":             {[]string{gpus("s1", "1", true), gpus("s2", "1", true), gpus("warm", "2", false)}, []string{gpus("app", "1", false)}, 4},
		"restartPolicy Never is a one-shot":         {[]string{strings.Replace(gpus("warm", "2", false), "resources", "restartPolicy: Never, resources", 1)}, []string{gpus("app", "1", false)}, 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			spec := "{initContainers: [" + strings.Join(tc.inits, ", ") + "], containers: [" + strings.Join(tc.containers, ", ") + "]}"
			tier := classifyLast(t, deployment(spec)+scaledObject("", ""))
			if got := tier.GPUsPerReplica(); got != tc.want {
				t.Errorf("%d nvidia.com/gpu per replica, want %d (signals %q)", got, tc.want, tier.Signals)
			}
		})
	}
	tier := classifyLast(t, deployment("{initContainers: ["+gpus("proxy", "1", true)+"], containers: ["+plain+"]}")+scaledObject("", ""))
	if fmt.Sprint(tier.Signals) != `[sidecar init container "proxy" limits nvidia.com/gpu: 1]` {
		t.Errorf("signals %q", tier.Signals)
	}
}

func TestUnknownTargetKindsAreNotWarnedAbout(t *testing.T) {
	for name, ref := range map[string]string{
		"kind without its apiVersion": `{kind: ModelServing, name: llm}`,
		"a CRD of the cluster's own":  `{apiVersion: example.com/v1, kind: Server, name: llm}`,
	} {
		t.Run(name, func(t *testing.T) {
			so := strings.Replace(scaledObject("", ""), "{name: llm}", ref, 1)
			got := policytest.Admit(t, deployment(gpuContainer)+so).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, gpu.PausedDefaultID))
		})
	}
}
