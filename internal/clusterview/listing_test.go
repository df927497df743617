package clusterview_test

import (
	"reflect"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

func TestManifestsIndexes(t *testing.T) {
	so := func(ns, name, target, hpaName string) *kedav1alpha1.ScaledObject {
		o := &kedav1alpha1.ScaledObject{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: target}},
		}
		if hpaName != "" {
			o.Spec.Advanced = &kedav1alpha1.AdvancedConfig{HorizontalPodAutoscalerConfig: &kedav1alpha1.HorizontalPodAutoscalerConfig{Name: hpaName}}
		}
		return o
	}
	v := clusterview.NewManifests(
		so("serving", "b", "llm", ""),
		so("serving", "a", "llm", "keda-hpa-b"),
		so("serving", "c", "other", ""),
		so("staging", "b", "llm", ""),
	)
	names := func(list []*kedav1alpha1.ScaledObject) (out []string) {
		for _, o := range list {
			out = append(out, o.Namespace+"/"+o.Name)
		}
		return out
	}
	var view policies.ClusterView = v
	for _, c := range []struct {
		what string
		got  []*kedav1alpha1.ScaledObject
		want []string
	}{
		{"by HPA name", policies.ScaledObjectsWithHPAName(view, "serving", "keda-hpa-b"), []string{"serving/a", "serving/b"}},
		{"by HPA name, another namespace", policies.ScaledObjectsWithHPAName(view, "staging", "keda-hpa-b"), []string{"staging/b"}},
		{"by target", v.ScaledObjectsFor(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "serving", Name: "llm"}), []string{"serving/a", "serving/b"}},
		{"a namespace", v.ScaledObjects("serving"), []string{"serving/a", "serving/b", "serving/c"}},
		{"every namespace", v.ScaledObjects(""), []string{"serving/a", "serving/b", "serving/c", "staging/b"}},
	} {
		if got := names(c.got); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.what, got, c.want)
		}
	}

	// Lists are built once and shared; appending to one copies it.
	list := v.ScaledObjects("serving")
	_ = append(list, so("serving", "z", "x", ""))
	if again := v.ScaledObjects("serving"); len(again) != 3 || &again[0] != &list[0] {
		t.Errorf("the shared list changed or was rebuilt: %v", names(again))
	}
	// A later Add is seen.
	v.Add(so("serving", "d", "llm", ""))
	if got := v.ScaledObjectsFor(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "serving", Name: "llm"}); len(got) != 3 {
		t.Errorf("after Add: %v", names(got))
	}
	if got := v.ScaledObjects("serving"); len(got) != 4 {
		t.Errorf("after Add: %v", names(got))
	}
}
