package gpu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

func TestIdleCost(t *testing.T) {
	priced := policies.DefaultSettings()
	price := 0.33
	priced.GPU.HourlyPrice = &price
	twoGPUs := `{containers: [{name: vllm, image: vllm, resources: {limits: {nvidia.com/gpu: "2"}}}]}`
	tolerationOnly := `{tolerations: [{key: nvidia.com/gpu, operator: Exists}], containers: [{name: c, image: i}]}`
	gpuSelectorOnly := `{nodeSelector: {cloud.google.com/gke-accelerator: nvidia-l4}, containers: [{name: c, image: i, resources: {requests: {cpu: "2"}}}]}`
	generated := func(so string) string {
		return strings.Replace(so, "{name: llm, namespace: serving",
			"{name: llm, namespace: serving, ownerReferences: [{apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, name: llm, uid: u, controller: true}]", 1)
	}
	const releaseMin = "set minReplicaCount: 0 so KEDA releases them when there is no load"
	const cpuOnly = "every trigger is cpu or memory, which KEDA counts as always active: it refuses minReplicaCount 0"
	cases := map[string]struct {
		docs     string
		settings *policies.Settings
		want     []policytest.Want
		// forbidden are fragments the message must not contain.
		forbidden []string
	}{
		"the runbook: 1 replica of 1 GPU, paused by the webhook": {
			docs: readFile(t, "raw-vllm-deployment.yaml") + readFile(t, "raw-vllm-scaledobject.yaml"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount",
				"while paused KEDA leaves the replicas where they are; once un-paused, minReplicaCount 1 keeps 1 GPU (730 GPU-hours a month) allocated while idle",
				`Deployment "raw-vllm" asks for 1 nvidia.com/gpu per replica`, releaseMin)},
			forbidden: []string{"paused or not"},
		},
		"priced": {
			docs: readFile(t, "raw-vllm-deployment.yaml") + readFile(t, "raw-vllm-scaledobject.yaml"), settings: priced,
			// 730 h × 0.33 = 240.9: the runbook's "about $240 a month".
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "(730 GPU-hours a month, about 241 USD a month at 0.33 USD per GPU-hour)")},
		},
		"3 replicas of 2 GPUs, priced": {
			docs: deployment(twoGPUs) + queueScaledObject("", "  minReplicaCount: 3\n  maxReplicaCount: 4\n"), settings: priced,
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 6 GPUs (4380 GPU-hours a month, about 1445 USD a month", "2 nvidia.com/gpu per replica", releaseMin)},
		},
		"paused at paused-replicas": {
			docs: deployment(gpuContainer) + queueScaledObject(`{autoscaling.keda.sh/paused-replicas: "2"}`, "  minReplicaCount: 1\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount",
				`while paused KEDA holds the target at autoscaling.keda.sh/paused-replicas: "2" replicas; once un-paused, minReplicaCount 1 keeps 1 GPU`)},
		},
		"un-paused: no pause wording": {
			docs:      deployment(gpuContainer) + queueScaledObject(`{autoscaling.keda.sh/paused: "false", scaleguard.io/unpause-until: "2026-03-01T14:00:00Z"}`, "  minReplicaCount: 1\n"),
			want:      []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "minReplicaCount 1 keeps 1 GPU (730 GPU-hours a month) allocated while idle", releaseMin)},
			forbidden: []string{"paused", "un-paused"},
		},
		"placement only: no GPU count": {
			docs: deployment(tolerationOnly) + queueScaledObject("", "  minReplicaCount: 2\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", `minReplicaCount 2 keeps 2 replicas of Deployment "llm" up on the GPU tier while idle`,
				"the tier comes from placement only, no accelerator requested: toleration of the nvidia.com/gpu taint", "cannot count the GPUs", releaseMin)},
			forbidden: []string{"GPU-hours", "keeps 2 GPUs"},
		},
		"node selector only, CPU requests": {
			docs: deployment(gpuSelectorOnly) + queueScaledObject("", "  minReplicaCount: 1\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 1 replica of Deployment \"llm\"",
				"placement only, no accelerator requested: nodeSelector cloud.google.com/gke-accelerator: nvidia-l4")},
			forbidden: []string{"GPU-hours"},
		},
		"namespace label only": {
			docs: namespace(`{scaleguard.io/tier: gpu}`) + deployment(`{containers: [{name: c, image: i}]}`) + queueScaledObject("", "  minReplicaCount: 1\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount",
				`the tier comes from the namespace label only: namespace "serving" is labelled scaleguard.io/tier=gpu`, "cannot count")},
			forbidden: []string{"GPU-hours"},
		},
		// KEDA refuses minReplicaCount 0 when every trigger is cpu or
		// memory: the advice must not be what KEDA's webhook rejects.
		"cpu trigger only": {
			docs: deployment(gpuContainer) + scaledObject("", "  minReplicaCount: 1\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 1 GPU", cpuOnly,
				"add a trigger that drops to 0 with no load", `autoscaling.keda.sh/paused-replicas: "0"`)},
			forbidden: []string{releaseMin},
		},
		"toleration only on cpu (the CPU workload a toleration puts on the tier)": {
			docs:      deployment(tolerationOnly) + scaledObject("", "  minReplicaCount: 1\n"),
			want:      []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "placement only", "cannot count", cpuOnly)},
			forbidden: []string{releaseMin, "GPU-hours"},
		},
		"cpu and memory: idleReplicaCount never applies": {
			docs: deployment(gpuContainer) + strings.Replace(scaledObject("", "  minReplicaCount: 1\n  idleReplicaCount: 0\n"), cpuTrigger,
				cpuTrigger+`, {type: memory, metricType: Utilization, metadata: {value: "80"}}`, 1),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "minReplicaCount 1 keeps 1 GPU", cpuOnly, "never applies an idleReplicaCount")},
		},
		"cpu beside a queue trigger": {
			docs: deployment(gpuContainer) + strings.Replace(scaledObject("", "  minReplicaCount: 1\n"), cpuTrigger, cpuTrigger+", "+queueTrigger, 1),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 1 GPU", releaseMin)},
		},
		"idleReplicaCount below minReplicaCount": {
			docs: deployment(gpuContainer) + queueScaledObject("", "  minReplicaCount: 3\n  idleReplicaCount: 1\n"),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.idleReplicaCount", "idleReplicaCount 1 keeps 1 GPU", "set idleReplicaCount: 0")},
		},
		"generated by KServe: the InferenceService's minReplicas": {
			docs: deployment(gpuContainer) + generated(queueScaledObject("", "  minReplicaCount: 1\n")),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 1 GPU",
				`set spec.predictor.minReplicas: 0 on InferenceService "llm" (KServe writes it into this ScaledObject's minReplicaCount and reverts edits made here)`)},
			forbidden: []string{releaseMin},
		},
		"generated by KServe, cpu only": {
			docs: deployment(gpuContainer) + generated(scaledObject("", "  minReplicaCount: 1\n")),
			want: []policytest.Want{policytest.Warn(gpu.IdleCostID, "spec.minReplicaCount", "keeps 1 GPU",
				`KEDA refuses minReplicaCount 0 while every trigger is cpu or memory, so give InferenceService "llm" an External metric in spec.predictor.autoScaling.metrics`,
				"spec.predictor.minReplicas: 0")},
			forbidden: []string{releaseMin},
		},
		"minReplicaCount unset (KEDA's 0)": {docs: deployment(gpuContainer) + queueScaledObject("", "")},
		"minReplicaCount 0":                {docs: deployment(gpuContainer) + queueScaledObject("", "  minReplicaCount: 0\n")},
		"idleReplicaCount 0":               {docs: deployment(gpuContainer) + queueScaledObject("", "  minReplicaCount: 1\n  idleReplicaCount: 0\n")},
		"CPU target":                       {docs: deployment(`{containers: [{name: c, image: i}]}`) + scaledObject("", "  minReplicaCount: 1\n")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.OnlyRule(policytest.AdmitAt(t, unpauseNow, tc.docs, tc.settings).Result.Findings, gpu.IdleCostID)
			policytest.Expect(t, got, tc.want...)
			for _, f := range got {
				for _, bad := range tc.forbidden {
					if strings.Contains(f.Message, bad) {
						t.Errorf("message contains %q: %s", bad, f.Message)
					}
				}
			}
		})
	}
}

// unpauseNow is a time before the expiries the idle-cost cases write.
var unpauseNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestQuota(t *testing.T) {
	quota := func(hard string) string {
		return "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: gpus, namespace: serving}\nspec: {hard: " + hard + "}\n---\n"
	}
	cases := map[string]struct {
		docs string
		want []policytest.Want
	}{
		"the runbook's single-GPU cap": {
			docs: quota(`{requests.nvidia.com/gpu: "1"}`) + readFile(t, "raw-vllm-deployment.yaml") + readFile(t, "raw-vllm-scaledobject.yaml"),
			want: []policytest.Want{policytest.Warn(gpu.QuotaID, "spec.maxReplicaCount",
				"maxReplicaCount 3 × 1 nvidia.com/gpu per replica asks for up to 3", `ResourceQuota "gpus" caps requests.nvidia.com/gpu at 1 in namespace "serving"`,
				"scale-out past 1 replica cannot happen; set maxReplicaCount to 1")},
		},
		"maxReplicaCount unset": {
			docs: quota(`{requests.nvidia.com/gpu: "8"}`) + deployment(`{containers: [{name: c, image: i, resources: {limits: {nvidia.com/gpu: "2"}}}]}`) + scaledObject("", ""),
			want: []policytest.Want{policytest.Warn(gpu.QuotaID, "spec.maxReplicaCount", "maxReplicaCount (unset: KEDA's default 100) × 2 nvidia.com/gpu per replica asks for up to 200", "past 4 replicas", "set maxReplicaCount to 4")},
		},
		"not even one replica": {
			docs: quota(`{requests.nvidia.com/gpu: "1"}`) + deployment(`{containers: [{name: c, image: i, resources: {limits: {nvidia.com/gpu: "2"}}}]}`) + scaledObject("", "  maxReplicaCount: 1\n"),
			want: []policytest.Want{policytest.Warn(gpu.QuotaID, "spec.maxReplicaCount", "not even one replica fits; raise the quota to at least 2")},
		},
		"fits":                   {docs: quota(`{requests.nvidia.com/gpu: "3"}`) + readFile(t, "raw-vllm-deployment.yaml") + readFile(t, "raw-vllm-scaledobject.yaml")},
		"quota of another thing": {docs: quota(`{requests.cpu: "1", requests.amd.com/gpu: "1"}`) + readFile(t, "raw-vllm-deployment.yaml") + readFile(t, "raw-vllm-scaledobject.yaml")},
		"no quota":               {docs: readFile(t, "raw-vllm-deployment.yaml") + readFile(t, "raw-vllm-scaledobject.yaml")},
		"CPU target":             {docs: quota(`{requests.nvidia.com/gpu: "0"}`) + deployment(`{containers: [{name: c, image: i}]}`) + scaledObject("", "")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, gpu.QuotaID), tc.want...)
		})
	}
}

func TestCooldown(t *testing.T) {
	strict := policies.DefaultSettings()
	strict.GPU.MinCooldownSeconds = 600
	window := func(s string) string {
		return "  advanced: {horizontalPodAutoscalerConfig: {behavior: {scaleDown: {stabilizationWindowSeconds: " + s + "}}}}\n"
	}
	cases := map[string]struct {
		spec     string
		settings *policies.Settings
		cpuOnly  bool
		want     []policytest.Want
	}{
		"60s before scaling to zero": {spec: "  cooldownPeriod: 60\n", want: []policytest.Want{policytest.Warn(gpu.CooldownID, "spec.cooldownPeriod",
			"is 60s, below the 300s a GPU tier needs", "set cooldownPeriod: 300 or more")}},
		"60s with an idleReplicaCount": {spec: "  minReplicaCount: 1\n  idleReplicaCount: 0\n  cooldownPeriod: 60\n", want: []policytest.Want{policytest.Warn(gpu.CooldownID, "spec.cooldownPeriod", "is 60s")}},
		"unset under a stricter minimum": {spec: "  minReplicaCount: 0\n", settings: strict, want: []policytest.Want{policytest.Warn(gpu.CooldownID, "spec.cooldownPeriod",
			"is unset (KEDA's default 300s), below the 600s")}},
		"short scale-down window": {spec: "  minReplicaCount: 1\n" + window("30"), want: []policytest.Want{policytest.Warn(gpu.CooldownID,
			"spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown.stabilizationWindowSeconds", "is 30s, below the 300s", "replicas flap")}},
		"unset":                            {spec: ""},
		"300s":                             {spec: "  cooldownPeriod: 300\n"},
		"60s but never scales to zero":     {spec: "  minReplicaCount: 1\n  cooldownPeriod: 60\n"},
		"scale-down window at the minimum": {spec: window("300")},
		// cpu and memory triggers never go idle: the ScaledObject never
		// scales to zero, whatever minReplicaCount and idleReplicaCount say.
		"60s, cpu trigger only": {spec: "  minReplicaCount: 1\n  idleReplicaCount: 0\n  cooldownPeriod: 60\n", cpuOnly: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			so := queueScaledObject("", tc.spec)
			if tc.cpuOnly {
				so = scaledObject("", tc.spec)
			}
			got := policytest.Admit(t, deployment(gpuContainer)+so, tc.settings).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, gpu.CooldownID), tc.want...)
		})
	}
	t.Run("CPU target", func(t *testing.T) {
		got := policytest.Admit(t, deployment(`{containers: [{name: c, image: i}]}`)+scaledObject("", "  cooldownPeriod: 10\n")).Result.Findings
		policytest.Expect(t, policytest.OnlyRule(got, gpu.CooldownID))
	})
}

func TestSettingsValidation(t *testing.T) {
	s := policies.DefaultSettings()
	if err := policies.ValidateSettings(s, policies.Default); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	neg := -1.0
	s.GPU.AcceleratorResources = append(s.GPU.AcceleratorResources, "nvidia.com/[gpu")
	s.GPU.DeviceClassSubstrings = []string{""}
	s.GPU.HourlyPrice = &neg
	s.GPU.MaxUnpauseWindow.Duration = 0
	s.GPU.NodeLabels = append(s.GPU.NodeLabels, policies.NodeLabel{})
	err := policies.ValidateSettings(s, policies.Default)
	if err == nil {
		t.Fatal("invalid GPU settings accepted")
	}
	for _, want := range []string{`gpu.acceleratorResources[6]: "nvidia.com/[gpu" is not a valid pattern`, "gpu.deviceClassSubstrings[0]", "gpu.hourlyPrice", "gpu.maxUnpauseWindow", "gpu.nodeLabels[3].key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
