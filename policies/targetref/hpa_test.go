package targetref_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/policytest"
	"github.com/scaleguard/scaleguard/policies/targetref"
)

func namedDeployment(name string) string {
	return strings.ReplaceAll(deployment, "name: llm,", "name: "+name+",")
}

// hpaOn is the HPA of the Kubernetes walkthrough on the Deployment name.
func hpaOn(name, meta string) string {
	return fmt.Sprintf(`
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: llm, namespace: serving%s}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %s}
  minReplicas: 1
  maxReplicas: 4
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
---
`, meta, name)
}

func TestTargetRefOfAnHPA(t *testing.T) {
	type want = policytest.Want
	cases := map[string]struct {
		docs string
		want []want
	}{
		"a hardcoded name beside the release-prefixed Deployment": {
			docs: namedDeployment("prod-vllm") + hpaOn("vllm", ""),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name",
				`apps/v1 Deployment "vllm" does not exist in namespace "serving" yet, but the namespace has Deployment "prod-vllm" of a similar name`,
				"write scaleTargetRef.name: prod-vllm")},
		},
		"a typo": {
			docs: namedDeployment("qwen-chat") + hpaOn("qwen-caht", ""),
			want: []want{policytest.Warn(targetref.ID, "spec.scaleTargetRef.name", `Deployment "qwen-chat" of a similar name`)},
		},
		"the target exists": {
			docs: namedDeployment("vllm") + namedDeployment("prod-vllm") + hpaOn("vllm", ""),
		},
		"missing with nothing similar: not judged": {
			docs: namedDeployment("router") + hpaOn("vllm", ""),
		},
		"a generated HPA is judged at its owner": {
			docs: namedDeployment("prod-vllm") + hpaOn("vllm", `, ownerReferences: [{apiVersion: keda.sh/v1alpha1, kind: ScaledObject, name: vllm, uid: u, controller: true}]`),
		},
		"a Deployment a NIMService creates": {
			docs: namedDeployment("llama-old") + `
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata: {name: llama, namespace: serving}
spec: {image: {repository: nvcr.io/nim/meta/llama-3.2-1b-instruct, tag: "1.8"}, authSecret: ngc-api-secret}
---
` + hpaOn("llama", ""),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, tc.docs).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, targetref.ID), tc.want...)
		})
	}
}
