package bench_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/autoscalers"
)

// indexedAutoscalers are objects of every catalogued kind in namespace
// "serving" (and one in "other"), named so that prefixes, dashes and
// kinds overlap: Knative Services "a" and "a-b" (whose revisions
// "a-00001-deployment" and "a-b-00007-deployment" start alike), one with
// a revision name of its own, PodAutoscalers on a Deployment and on a
// StatefulSet of one name, one naming no target.
const indexedAutoscalers = `
apiVersion: autoscaling.aibrix.ai/v1alpha1
kind: PodAutoscaler
metadata: {name: pa-a, namespace: serving}
spec: {scalingStrategy: KPA, scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm-a}}
---
apiVersion: autoscaling.aibrix.ai/v1alpha1
kind: PodAutoscaler
metadata: {name: pa-set, namespace: serving}
spec: {scalingStrategy: APA, scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: llm-a}}
---
apiVersion: autoscaling.aibrix.ai/v1alpha1
kind: PodAutoscaler
metadata: {name: pa-none, namespace: serving}
spec: {scalingStrategy: KPA, scaleTargetRef: {apiVersion: apps/v1, kind: Deployment}}
---
apiVersion: autoscaling.aibrix.ai/v1alpha1
kind: PodAutoscaler
metadata: {name: pa-elsewhere, namespace: other}
spec: {scalingStrategy: KPA, scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: llm-a}}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: a, namespace: serving}
spec: {template: {spec: {containers: [{image: vllm/vllm-openai:v0.11.0}]}}}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: a-b, namespace: serving}
spec: {template: {spec: {containers: [{image: vllm/vllm-openai:v0.11.0}]}}}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: chat, namespace: serving}
spec: {template: {metadata: {name: chat-v2-rev}, spec: {containers: [{image: vllm/vllm-openai:v0.11.0}]}}}
---
apiVersion: apps.nvidia.com/v1alpha1
kind: NIMService
metadata: {name: nim-x, namespace: serving}
spec: {scale: {enabled: true}}
---
apiVersion: kubeai.org/v1
kind: Model
metadata: {name: m1, namespace: serving}
spec: {minReplicas: 1}
---
apiVersion: kaito.sh/v1alpha1
kind: InferenceSet
metadata: {name: is1, namespace: serving}
spec: {replicas: 1}
`

// TestAutoscalerIndexFindsEveryMatch: for every target, the catalogued
// autoscalers serve's cache finds through its target index and that match
// it are those a scan of the namespace finds.
func TestAutoscalerIndexFindsEveryMatch(t *testing.T) {
	var objs []client.Object
	for _, doc := range strings.Split(indexedAutoscalers, "\n---\n") {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cv, mv := views(t, ctx, objs)
	deployment := func(ns, name string) policies.WorkloadRef {
		return policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: ns, Name: name}
	}
	targets := []policies.WorkloadRef{
		deployment("serving", "llm-a"),
		{Group: "apps", Kind: "StatefulSet", Namespace: "serving", Name: "llm-a"},
		deployment("serving", "a-00001-deployment"),
		deployment("serving", "a-b-00007-deployment"),
		deployment("serving", "a-b-c-00007-deployment"),
		deployment("serving", "chat-00002-deployment"),
		deployment("serving", "chat-v2-rev-deployment"),
		deployment("serving", "chat-v2-deployment"),
		deployment("serving", "nim-x"),
		deployment("serving", "unrelated"),
		deployment("serving", ""),
		deployment("other", "llm-a"),
		deployment("other", "a-00001-deployment"),
		{Group: "kubeai.org", Kind: "Model", Namespace: "serving", Name: "m1"},
		{Group: "kaito.sh", Kind: "InferenceSet", Namespace: "serving", Name: "is1"},
		{Group: "kaito.sh", Kind: "InferenceSet", Namespace: "other", Name: "is1"},
	}
	matched := 0
	for _, target := range targets {
		for i := range autoscalers.Catalogue {
			a := &autoscalers.Catalogue[i]
			matching := func(us []*unstructured.Unstructured) []string {
				var out []string
				for _, u := range us {
					if tg, ok := a.TargetsOf(u); ok && tg.Matches(target) {
						out = append(out, u.GetNamespace()+"/"+u.GetName())
					}
				}
				return out
			}
			got := matching(cv.AutoscalersOn(a.GVK.GroupKind(), target))
			want := matching(mv.Autoscalers(a.GVK.GroupKind(), target.Namespace))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s on %s: the index found %v, a scan %v", a.GVK.Kind, target.Key(), got, want)
			}
			if got := a.Candidates(cv, target); target.Name == "unrelated" && len(got) > 0 {
				t.Errorf("%s on %s: %d candidates: the index reads what cannot scale it", a.GVK.Kind, target.Key(), len(got))
			}
			matched += len(want)
		}
	}
	// pa-a, pa-set, the Knative Services a, a-b (not on a-b-c-00007) and
	// chat (on both its revisions), nim-x, pa-elsewhere, m1, is1.
	if matched != 10 {
		t.Errorf("%d matches over the targets, want 10", matched)
	}
}
