package conflict_test

import (
	"fmt"
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

const msRef = `{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`

// policy is a Kthena AutoscalingPolicy (v1.0 shape) in ns whose spec holds
// the given target block.
func policy(ns, name, targets string) string {
	return fmt.Sprintf(`
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: %s, namespace: %s}
spec:
  tolerancePercent: 10
  metrics:
    - name: vllm:num_requests_waiting
      targetValue: "5"
  behavior:
    scaleUp:
      stablePolicy: {instances: 1, period: 30s}
    scaleDown: {instances: 1, period: 60s, stabilizationWindow: 300s}
%s---
`, name, ns, targets)
}

func homogeneous(ref string) string {
	return fmt.Sprintf(`  homogeneousTarget:
    minReplicas: 1
    maxReplicas: 4
    target:
      targetRef: %s
      metricSources:
        vllm:num_requests_waiting:
          pod: {port: 8000}
`, ref)
}

func heterogeneous(refs ...string) string {
	s := "  heterogeneousTarget:\n    costExpansionRatePercent: 200\n    params:\n"
	for i, r := range refs {
		s += fmt.Sprintf("      - {cost: %d, minReplicas: 0, maxReplicas: 4, target: {targetRef: %s}}\n", 10*(i+1), r)
	}
	return s
}

func disaggregated(ref string) string {
	return fmt.Sprintf(`  disaggregatedTarget:
    targetRef: %s
    roles:
      prefill: {minReplicas: 1, maxReplicas: 4, metrics: [{name: vllm:num_requests_waiting, targetValue: "5"}]}
      decode: {minReplicas: 1, maxReplicas: 8, metrics: [{name: vllm:kv_cache_usage_perc, targetValue: "0.8"}]}
`, ref)
}

// binding is an older AutoscalingPolicyBinding with the given target block.
func binding(name, targets string) string {
	return fmt.Sprintf(`
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicyBinding
metadata: {name: %s, namespace: serving}
spec:
  policyRef: {name: queue-depth}
%s---
`, name, targets)
}

func TestConflictKthenaFromTheScaledObject(t *testing.T) {
	const scaled = `the workload "llm" (workload.serving.volcano.sh/v1alpha1 ModelServing) is already scaled by Kthena AutoscalingPolicy "llm"`
	so := scaledObject("llm", msRef)
	cases := map[string]struct {
		docs string
		want []want
	}{
		"homogeneous target": {
			docs: modelServing("serving", "llm") + policy("serving", "llm", homogeneous(`{kind: ModelServing, name: llm}`)) + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef", scaled,
				"(spec.homogeneousTarget.target.targetRef), which patches its spec.replicas directly",
				"remove it from the policy's targets (or delete the policy), or scale it with the policy alone")},
		},
		"heterogeneous target, second param": {
			docs: policy("serving", "llm", heterogeneous(`{kind: ModelServing, name: small}`, `{name: llm}`)) + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef", scaled, "(spec.heterogeneousTarget.params[1].target.targetRef)")},
		},
		"disaggregated target": {
			docs: policy("serving", "llm", disaggregated(`{apiVersion: workload.serving.volcano.sh/v1alpha1, kind: ModelServing, name: llm}`)) + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef", scaled,
				"(spec.disaggregatedTarget.targetRef), which patches the replicas of its roles", "each multiplies the other's scaling")},
		},
		"a policy in another namespace pointing here": {
			docs: policy("kthena-system", "llm", homogeneous(`{kind: ModelServing, namespace: serving, name: llm}`)) + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef",
				`is already scaled by Kthena AutoscalingPolicy "llm" in namespace "kthena-system"`)},
		},
		"a policy in another namespace without a namespace targets its own": {
			docs: policy("kthena-system", "llm", homogeneous(`{kind: ModelServing, name: llm}`)) + so,
		},
		"a policy here pointing into another namespace": {
			docs: policy("serving", "llm", homogeneous(`{kind: ModelServing, namespace: staging, name: llm}`)) + so,
		},
		"a policy on another ModelServing": {
			docs: policy("serving", "other", homogeneous(`{kind: ModelServing, name: other}`)) + so,
		},
		"a targetRef of another kind scales nothing": {
			docs: policy("serving", "llm", homogeneous(`{kind: Deployment, name: llm}`)) + so,
		},
		"a targetRef of another group scales nothing": {
			docs: policy("serving", "llm", homogeneous(`{apiVersion: apps/v1, kind: ModelServing, name: llm}`)) + so,
		},
		"a ScaledObject on a Deployment of the same name": {
			docs: policy("serving", "llm", homogeneous(`{kind: ModelServing, name: llm}`)) + scaledObject("llm", `{name: llm}`),
		},
		"binding v0.2 to v0.4: homogeneousTarget": {
			docs: binding("llm", homogeneous(`{kind: ModelServing, name: llm}`)) + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef",
				`is already scaled by Kthena AutoscalingPolicyBinding "llm" (spec.homogeneousTarget.target.targetRef)`)},
		},
		"binding v0.2 to v0.4: heterogeneousTarget": {
			docs: binding("llm", heterogeneous(`{name: llm}`)) + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef", `AutoscalingPolicyBinding "llm" (spec.heterogeneousTarget.params[0].target.targetRef)`)},
		},
		"binding v0.1: scalingConfiguration": {
			docs: binding("llm", "  scalingConfiguration:\n    minReplicas: 1\n    maxReplicas: 4\n    target: {targetRef: {kind: ModelServing, name: llm}}\n") + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef", `(spec.scalingConfiguration.target.targetRef)`)},
		},
		"binding v0.1: optimizerConfiguration": {
			docs: binding("llm", "  optimizerConfiguration:\n    params: [{minReplicas: 1, maxReplicas: 4, target: {targetRef: {name: llm}}}]\n") + so,
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scaleTargetRef", `(spec.optimizerConfiguration.params[0].target.targetRef)`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.KthenaID), tc.want...)
		})
	}
}

func TestConflictKthenaFromThePolicy(t *testing.T) {
	const already = `names the workload "llm" (workload.serving.volcano.sh/v1alpha1 ModelServing), which ScaledObject "llm" already scales through its /scale subresource`
	so := scaledObject("llm", msRef)
	cases := map[string]struct {
		docs string
		want []want
	}{
		"homogeneous": {
			docs: modelServing("serving", "llm") + so + policy("serving", "llm", homogeneous(`{kind: ModelServing, name: llm}`)),
			want: []want{policytest.Deny(conflict.KthenaID, "spec.homogeneousTarget.target.targetRef", already,
				"Kthena's autoscaler patches its spec.replicas directly, so two autoscalers overwrite each other's spec.replicas", "target another ModelServing, or delete the ScaledObject first")},
		},
		"heterogeneous": {
			docs: so + policy("serving", "pool", heterogeneous(`{kind: ModelServing, name: small}`, `{kind: ModelServing, name: llm}`)),
			want: []want{policytest.Deny(conflict.KthenaID, "spec.heterogeneousTarget.params[1].target.targetRef", already)},
		},
		"disaggregated": {
			docs: so + policy("serving", "pd", disaggregated(`{kind: ModelServing, name: llm}`)),
			want: []want{policytest.Deny(conflict.KthenaID, "spec.disaggregatedTarget.targetRef", already, "patches the replicas of its roles")},
		},
		"across namespaces": {
			docs: so + policy("kthena-system", "llm", homogeneous(`{kind: ModelServing, namespace: serving, name: llm}`)),
			want: []want{policytest.Deny(conflict.KthenaID, "spec.homogeneousTarget.target.targetRef",
				`names the workload "llm" (workload.serving.volcano.sh/v1alpha1 ModelServing) in namespace "serving", which ScaledObject "llm" in namespace "serving" already scales`)},
		},
		"another ModelServing": {
			docs: so + policy("serving", "other", homogeneous(`{kind: ModelServing, name: other}`)),
		},
		"the ScaledObject scales a Deployment of that name": {
			docs: scaledObject("llm", `{name: llm}`) + policy("serving", "llm", homogeneous(`{kind: ModelServing, name: llm}`)),
		},
		"binding": {
			docs: so + binding("llm", homogeneous(`{kind: ModelServing, name: llm}`)),
			want: []want{policytest.Deny(conflict.KthenaID, "spec.homogeneousTarget.target.targetRef", already)},
		},
		"binding v0.1": {
			docs: so + binding("llm", "  scalingConfiguration:\n    target: {targetRef: {kind: ModelServing, name: llm}}\n"),
			want: []want{policytest.Deny(conflict.KthenaID, "spec.scalingConfiguration.target.targetRef", already)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, conflict.KthenaID), tc.want...)
		})
	}
}
