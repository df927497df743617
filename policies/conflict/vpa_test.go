package conflict_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// vpa is a VerticalPodAutoscaler in "serving" on the Deployment target,
// in the shape of kubernetes/autoscaler's examples
// (vertical-pod-autoscaler/examples/hamster.yaml, vertical-pod-autoscaler-1.7.1),
// with the given spec lines after targetRef.
func vpa(name, target, rest string) string {
	return fmt.Sprintf(`
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata: {name: %s, namespace: serving}
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: %s
%s---
`, name, target, rest)
}

// hpaMetric is an HPA on the Deployment llm with one metric (flow YAML).
func hpaMetric(name, metric string) string {
	return fmt.Sprintf(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: %s, namespace: serving}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - %s
---
`, name, metric)
}

const (
	cpuUtil    = `{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}`
	memUtil    = `{type: Resource, resource: {name: memory, target: {type: Utilization, averageUtilization: 70}}}`
	cpuAverage = `{type: Resource, resource: {name: cpu, target: {type: AverageValue, averageValue: 500m}}}`
	queueDepth = `{type: Pods, pods: {metric: {name: vllm_num_requests_waiting}, target: {type: AverageValue, averageValue: "5"}}}`
	recreate   = "  updatePolicy: {updateMode: Recreate}\n"
)

func TestConflictVPAFromTheVPA(t *testing.T) {
	const fix = `leave cpu out of the controlledResources of VerticalPodAutoscaler "llm-vpa", or set its updateMode: Off`
	cases := map[string]struct {
		docs string
		want []want
	}{
		"Recreate beside a cpu utilisation HPA": {
			docs: hpaMetric("llm", cpuUtil) + vpa("llm-vpa", "llm", recreate),
			want: []want{policytest.Warn(conflict.VPAID, "spec.updatePolicy.updateMode",
				`is Recreate, so this VPA rewrites the cpu requests of the pods of the workload "llm" (apps/v1 Deployment), and HorizontalPodAutoscaler "llm" scales them on cpu utilisation`, fix)},
		},
		"updateMode unset is Recreate": {
			docs: hpaMetric("llm", cpuUtil) + vpa("llm-vpa", "llm", ""),
			want: []want{policytest.Warn(conflict.VPAID, "spec.updatePolicy.updateMode", "is unset (Recreate)")},
		},
		"InPlaceOrRecreate beside a memory utilisation HPA": {
			docs: hpaMetric("llm", memUtil) + vpa("llm-vpa", "llm", "  updatePolicy: {updateMode: InPlaceOrRecreate}\n"),
			want: []want{policytest.Warn(conflict.VPAID, "spec.updatePolicy.updateMode", "is InPlaceOrRecreate", "rewrites the memory requests")},
		},
		"Auto beside a ScaledObject with a cpu trigger": {
			docs: scaledObjectIn("serving", "llm", `{name: llm}`, "") + vpa("llm-vpa", "llm", "  updatePolicy: {updateMode: Auto}\n"),
		},
		"Off stays silent": {
			docs: hpaMetric("llm", cpuUtil) + vpa("llm-vpa", "llm", "  updatePolicy: {updateMode: \"Off\"}\n"),
		},
		"Initial stays silent": {
			docs: hpaMetric("llm", cpuUtil) + vpa("llm-vpa", "llm", "  updatePolicy: {updateMode: Initial}\n"),
		},
		"beside an HPA on a custom metric stays silent": {
			docs: hpaMetric("llm", queueDepth) + vpa("llm-vpa", "llm", recreate),
		},
		"beside an HPA on cpu AverageValue stays silent": {
			docs: hpaMetric("llm", cpuAverage) + vpa("llm-vpa", "llm", recreate),
		},
		"controlling memory only beside a cpu HPA stays silent": {
			docs: hpaMetric("llm", cpuUtil) + vpa("llm-vpa", "llm", recreate+"  resourcePolicy:\n    containerPolicies:\n      - {containerName: '*', controlledResources: [memory]}\n"),
		},
		"every container Off stays silent": {
			docs: hpaMetric("llm", cpuUtil) + vpa("llm-vpa", "llm", recreate+"  resourcePolicy:\n    containerPolicies:\n      - {containerName: '*', mode: \"Off\"}\n"),
		},
		"one container controlled, the rest by default": {
			docs: hpaMetric("llm", cpuUtil) + vpa("llm-vpa", "llm", recreate+"  resourcePolicy:\n    containerPolicies:\n      - {containerName: sidecar, mode: \"Off\"}\n"),
			want: []want{policytest.Warn(conflict.VPAID, "spec.updatePolicy.updateMode", "rewrites the cpu requests")},
		},
		"another workload stays silent": {
			docs: hpaMetric("llm", cpuUtil) + vpa("other-vpa", "other", recreate),
		},
		"beside KServe's default cpu autoscaler in raw mode": {
			docs: isvc(raw) + vpa("qwen-vpa", "qwen-predictor", recreate),
			want: []want{policytest.Warn(conflict.VPAID, "spec.updatePolicy.updateMode", `InferenceService "qwen" (KServe's autoscaler) scales them on cpu utilisation`)},
		},
		"beside KServe scaling on an external metric stays silent": {
			docs: isvc(raw+", serving.kserve.io/autoscalerClass: keda", "\n    autoScaling:\n      metrics:\n        - type: External\n          external:\n            metric: {backend: prometheus, query: 'sum(vllm:num_requests_waiting{namespace=\"serving\"})'}\n            target: {type: Value, value: \"4\"}") +
				vpa("qwen-vpa", "qwen-predictor", recreate),
		},
		"beside an HPA another controller generated, named with its owner": {
			docs: strings.Replace(hpaMetric("llm-pa-hpa", cpuUtil), "namespace: serving}", "namespace: serving, "+ownedBy("autoscaling.aibrix.ai/v1alpha1", "PodAutoscaler", "llm-pa", true)+"}", 1) +
				vpa("llm-vpa", "llm", recreate),
			want: []want{policytest.Warn(conflict.VPAID, "spec.updatePolicy.updateMode", `HorizontalPodAutoscaler "llm-pa-hpa" (generated by PodAutoscaler "llm-pa")`)},
		},
	}
	// KEDA's cpu trigger, as the KEDA docs write it.
	cases["Auto beside a ScaledObject with a cpu trigger"] = struct {
		docs string
		want []want
	}{
		docs: `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: serving}
spec:
  scaleTargetRef: {name: llm}
  triggers:
    - type: cpu
      metricType: Utilization
      metadata: {value: "60"}
---
` + vpa("llm-vpa", "llm", "  updatePolicy: {updateMode: Auto}\n"),
		want: []want{policytest.Warn(conflict.VPAID, "spec.updatePolicy.updateMode", `is Auto`, `ScaledObject "llm" scales them on cpu utilisation`)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.VPAID), tc.want...)
		})
	}
}

func TestConflictVPAFromTheAutoscaler(t *testing.T) {
	cases := map[string]struct {
		docs string
		want []want
	}{
		"a cpu HPA beside a Recreate VPA": {
			docs: vpa("llm-vpa", "llm", recreate) + hpaMetric("llm", cpuUtil),
			want: []want{policytest.Warn(conflict.VPAID, "spec.metrics[0].resource.name",
				`scales on cpu utilisation of the pods of the workload "llm" (apps/v1 Deployment), whose cpu requests VerticalPodAutoscaler "llm-vpa" rewrites (updateMode Recreate)`,
				"or scale on a metric that is not cpu or memory")},
		},
		"a per-container cpu HPA on a container the VPA leaves alone": {
			docs: vpa("llm-vpa", "llm", recreate+"  resourcePolicy:\n    containerPolicies:\n      - {containerName: vllm, mode: \"Off\"}\n") +
				hpaMetric("llm", `{type: ContainerResource, containerResource: {name: cpu, container: vllm, target: {type: Utilization, averageUtilization: 60}}}`),
		},
		"a per-container cpu HPA on a container the VPA sizes": {
			docs: vpa("llm-vpa", "llm", recreate) +
				hpaMetric("llm", `{type: ContainerResource, containerResource: {name: cpu, container: vllm, target: {type: Utilization, averageUtilization: 60}}}`),
			want: []want{policytest.Warn(conflict.VPAID, "spec.metrics[0].containerResource.name", `the cpu of container "vllm"`)},
		},
		"a custom-metric HPA beside a Recreate VPA stays silent": {
			docs: vpa("llm-vpa", "llm", recreate) + hpaMetric("llm", queueDepth),
		},
		"a cpu HPA beside a VPA Off stays silent": {
			docs: vpa("llm-vpa", "llm", "  updatePolicy: {updateMode: \"Off\"}\n") + hpaMetric("llm", cpuUtil),
		},
		"a ScaledObject with a memory trigger": {
			docs: vpa("llm-vpa", "llm", recreate) + `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: serving}
spec:
  scaleTargetRef: {name: llm}
  triggers:
    - {type: memory, metricType: Utilization, metadata: {value: "70"}}
    - {type: cpu, metricType: AverageValue, metadata: {value: "500m"}}
---
`,
			want: []want{policytest.Warn(conflict.VPAID, "spec.triggers[0].type", "scales on memory utilisation")},
		},
		"an InferenceService with scaleMetric memory": {
			docs: vpa("qwen-vpa", "qwen-predictor", recreate) + isvc(raw, "\n    scaleMetric: memory\n    scaleTarget: 70"),
			want: []want{policytest.Warn(conflict.VPAID, "spec.predictor.scaleMetric", `the workload "qwen-predictor" (apps/v1 Deployment)`, "scales on memory utilisation")},
		},
		"an InferenceService in Knative mode stays silent": {
			docs: vpa("qwen-vpa", "qwen-predictor", recreate) + isvc(`serving.kserve.io/deploymentMode: Serverless`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.VPAID), tc.want...)
		})
	}
}
