package clusterview_test

import (
	"strings"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

func TestManifestsView(t *testing.T) {
	so := func(ns, name, kind, target string) *kedav1alpha1.ScaledObject {
		return &kedav1alpha1.ScaledObject{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Kind: kind, Name: target}},
		}
	}
	v := clusterview.NewManifests(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "serving"}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "llm"}}, // no namespace: default
		so("", "a", "", "llm"),
		so("default", "b", "Deployment", "llm"),
		so("default", "c", "StatefulSet", "llm"),
		so("other", "d", "", "llm"),
		so("default", "a", "", "other"), // same name: replaces "a"
		&autoscalingv2.HorizontalPodAutoscaler{
			ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "default"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{
				APIVersion: "apps/v1", Kind: "Deployment", Name: "llm"}},
		},
	)
	if _, ok := v.Namespace("serving"); !ok {
		t.Error("namespace not found")
	}
	if _, ok := v.Deployment("default", "llm"); !ok {
		t.Error("a Deployment without a namespace belongs to default")
	}
	target := policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "default", Name: "llm"}
	var names []string
	for _, s := range v.ScaledObjectsFor(target) {
		names = append(names, s.Name)
	}
	if len(names) != 1 || names[0] != "b" {
		t.Errorf("ScaledObjectsFor = %v, want [b] (a was replaced, c is a StatefulSet, d in another namespace)", names)
	}
	if len(v.ScaledObjects("default")) != 3 || len(v.ScaledObjects("")) != 4 {
		t.Errorf("ScaledObjects: %d in default, %d in all", len(v.ScaledObjects("default")), len(v.ScaledObjects("")))
	}
	if h := v.HPAsFor(target); len(h) != 1 || h[0].Name != "h" {
		t.Errorf("HPAsFor = %v", h)
	}
	if len(v.HPAsFor(policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: "other", Name: "llm"})) != 0 {
		t.Error("HPAsFor crosses namespaces")
	}
}

func TestManifestsWorkloadLists(t *testing.T) {
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	v := clusterview.NewManifests(
		&appsv1.Deployment{ObjectMeta: meta("b", "d2")},
		&appsv1.Deployment{ObjectMeta: meta("a", "d1")},
		&appsv1.Deployment{ObjectMeta: meta("", "d0")},
		&appsv1.StatefulSet{ObjectMeta: meta("a", "s")},
		&appsv1.DaemonSet{ObjectMeta: meta("a", "ds")},
	)
	var all []string
	for _, d := range v.Deployments("") {
		all = append(all, d.Namespace+"/"+d.Name)
	}
	if got := strings.Join(all, ","); got != "a/d1,b/d2,default/d0" {
		t.Errorf("Deployments(\"\") = %s, want every namespace, sorted", got)
	}
	if got := v.Deployments("a"); len(got) != 1 || got[0].Name != "d1" {
		t.Errorf("Deployments(a) = %v", got)
	}
	if len(v.StatefulSets("a")) != 1 || len(v.DaemonSets("a")) != 1 || len(v.DaemonSets("b")) != 0 {
		t.Error("StatefulSets or DaemonSets listed wrong")
	}
	if len(v.ModelServings("")) != 0 || len(v.LeaderWorkerSets("")) != 0 || len(v.Rollouts("")) != 0 {
		t.Error("empty kinds listed objects")
	}
	if !v.PodMonitorPortNumber() {
		t.Error("check assumes a current prometheus-operator, whose PodMonitor has portNumber")
	}
}
