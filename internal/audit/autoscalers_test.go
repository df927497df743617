package audit

import (
	"context"
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// TestScanJudgesCatalogedAutoscalersAndVPAs: the kinds read as
// unstructured data and the VPA are guarded kinds, listed and judged like
// the others.
func TestScanJudgesCatalogedAutoscalersAndVPAs(t *testing.T) {
	src := newObjectsSource(load(t, "testdata/autoscalers.yaml"))
	s := &Scanner{Engine: policies.NewEngine(policies.Default)}
	res, err := s.Scan(context.Background(), src, src.view, nil, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, v := range res.Verdicts {
		kinds[v.Ref.Name+"/"+v.Ref.Kind.GVK.Kind] = v.Ref.Kind.Resource
	}
	for _, k := range []string{"llm-pa/PodAutoscaler", "llm/ScaledObject", "web/HorizontalPodAutoscaler", "web/VerticalPodAutoscaler"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("%s was not judged; judged %v", k, kinds)
		}
	}
	for _, v := range res.Verdicts {
		var want []policytest.Want
		switch v.Ref.Name + "/" + v.Ref.Kind.GVK.Kind {
		case "llm-pa/PodAutoscaler":
			want = []policytest.Want{policytest.Deny("conflict-autoscaler", "spec.scaleTargetRef", `ScaledObject "llm" already scales`)}
		case "llm/ScaledObject":
			want = []policytest.Want{policytest.Deny("conflict-autoscaler", "spec.scaleTargetRef", `AIBrix PodAutoscaler "llm-pa"`)}
		case "web/VerticalPodAutoscaler":
			want = []policytest.Want{policytest.Warn("conflict-vpa", "spec.updatePolicy.updateMode", `HorizontalPodAutoscaler "web" scales them on cpu utilisation`)}
		case "web/HorizontalPodAutoscaler":
			want = []policytest.Want{policytest.Warn("conflict-vpa", "spec.metrics[0].resource.name", `VerticalPodAutoscaler "web" rewrites`)}
		}
		var got []policies.Finding
		for _, f := range v.Findings {
			if f.Rule == "conflict-autoscaler" || f.Rule == "conflict-vpa" {
				got = append(got, f)
			}
		}
		policytest.Expect(t, got, want...)
	}
	if l, err := newList(apis.PodAutoscaler); err != nil || l.GetObjectKind().GroupVersionKind().Kind != "PodAutoscalerList" {
		t.Errorf("the list of a kind read as unstructured data: %v, %v", l, err)
	}
}
