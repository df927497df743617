package conflict

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/policies"
)

// workloadText renders a workload the way messages name it:
// `the workload "llm" (apps/v1 Deployment)`, plus its namespace when it is
// not the judged object's.
func workloadText(apiVersion string, w policies.WorkloadRef, fromNS string) string {
	s := fmt.Sprintf("the workload %q (%s %s)", w.Name, apiVersion, w.Kind)
	if w.Namespace != fromNS {
		s += fmt.Sprintf(" in namespace %q", w.Namespace)
	}
	return s
}

// objectText renders another object: `HorizontalPodAutoscaler "llm"`, plus
// its namespace when it is not the judged object's.
func objectText(kind, namespace, name, fromNS string) string {
	s := fmt.Sprintf("%s %q", kind, name)
	if namespace != fromNS {
		s += fmt.Sprintf(" in namespace %q", namespace)
	}
	return s
}

// otherKey identifies the other object of a clash.
func otherKey(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// defaultNS is the namespace of an object, "default" when it has none.
func defaultNS(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

// controllerOf returns the name of obj's controller owner when it is of
// the given group and kind.
func controllerOf(obj metav1.Object, group, kind string) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != kind || groupOf(ref.APIVersion) != group {
		return "", false
	}
	return ref.Name, true
}

// groupOf is the group of an apiVersion ("" for the core group or a
// malformed value's raw text).
func groupOf(apiVersion string) string {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return apiVersion
	}
	return gv.Group
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
