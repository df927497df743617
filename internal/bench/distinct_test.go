package bench_test

import (
	"encoding/json"
	"fmt"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/clusterview"
)

// distinct is a copy of a population in which no two objects have equal
// values the transform could share: each Deployment its own resource
// quantities, image, port, label and annotation values; each ScaledObject
// its own server address, thresholds and annotation; each Service its
// own port and labels; each ModelServing its own image.
func distinct(objs []client.Object) []client.Object {
	out := make([]client.Object, len(objs))
	for i, o := range objs {
		o = o.DeepCopyObject().(client.Object)
		own := func(v string) string { return fmt.Sprintf("%s-%d", v, i) }
		ownValues := func(m map[string]string) {
			for k, v := range m {
				if v != o.GetName() {
					m[k] = own(v)
				}
			}
		}
		ownValues(o.GetLabels())
		a := o.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a["example.com/owner"] = own("team")
		o.SetAnnotations(a)
		switch o := o.(type) {
		case *appsv1.Deployment:
			t := &o.Spec.Template
			ownValues(t.Labels)
			ownValues(t.Annotations)
			ownValues(t.Spec.NodeSelector)
			c := &t.Spec.Containers[0]
			c.Image = own(c.Image)
			c.Ports[0].ContainerPort = int32(1024 + i)
			c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(fmt.Sprintf("%dm", 1000+i))
			c.Resources.Requests[corev1.ResourceMemory] = resource.MustParse(fmt.Sprintf("%dMi", 16384+i))
			c.Resources.Limits[corev1.ResourceCPU] = resource.MustParse(fmt.Sprintf("%dm", 2000+i))
			c.Resources.Limits[corev1.ResourceMemory] = resource.MustParse(fmt.Sprintf("%dMi", 32768+i))
		case *kedav1alpha1.ScaledObject:
			for j := range o.Spec.Triggers {
				md := o.Spec.Triggers[j].Metadata
				md["serverAddress"] = fmt.Sprintf("http://prometheus-%d.monitoring.svc:9090", i)
				md["threshold"] = fmt.Sprintf("%d", 5+i)
			}
		case *corev1.Service:
			o.Spec.Ports[0].Port = int32(1024 + i)
			o.Spec.Ports[0].TargetPort = intstr.FromInt32(int32(1024 + i))
		case *kthenav1alpha1.ModelServing:
			for j := range o.Spec.Template.Roles {
				r := &o.Spec.Template.Roles[j]
				for k := range r.EntryTemplate.Spec.Containers {
					r.EntryTemplate.Spec.Containers[k].Image = own(r.EntryTemplate.Spec.Containers[k].Image)
				}
			}
		}
		out[i] = o
	}
	return out
}

// How many distinct values each field the transform shares holds across
// the transformed population: the stamped population repeats most, the
// distinct variant none (which this holds it to).
func TestDistinctVariantSharesNothing(t *testing.T) {
	objs, err := bench.Population(200, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, variant := range []string{"stamped", "distinct"} {
		if variant == "distinct" {
			objs = distinct(objs)
		}
		values := map[string]map[string]bool{}
		count := map[string]int{}
		add := func(field string, v any) {
			raw, _ := json.Marshal(v)
			if values[field] == nil {
				values[field] = map[string]bool{}
			}
			values[field][string(raw)] = true
			count[field]++
		}
		for _, o := range objs {
			o = o.DeepCopyObject().(client.Object)
			if _, err := clusterview.Transform(o); err != nil {
				t.Fatal(err)
			}
			switch o := o.(type) {
			case *appsv1.Deployment:
				c := o.Spec.Template.Spec.Containers[0]
				add("Deployment containers", o.Spec.Template.Spec.Containers)
				add("Deployment requests", c.Resources.Requests)
				add("Deployment limits", c.Resources.Limits)
				add("Deployment ports", c.Ports)
				add("Deployment image", c.Image)
				add("Deployment annotations", o.Annotations)
				add("Deployment labels", o.Labels)
				add("Deployment template labels", o.Spec.Template.Labels)
			case *kedav1alpha1.ScaledObject:
				add("ScaledObject annotations", o.Annotations)
				add("ScaledObject trigger 0 serverAddress", o.Spec.Triggers[0].Metadata["serverAddress"])
				add("ScaledObject trigger 0 metadata", o.Spec.Triggers[0].Metadata)
			case *corev1.Service:
				add("Service ports", o.Spec.Ports)
				add("Service labels", o.Labels)
			case *kthenav1alpha1.ModelServing:
				add("ModelServing roles", o.Spec.Template.Roles)
			}
		}
		for field, vs := range values {
			t.Logf("%s: %s: %d distinct values over %d objects", variant, field, len(vs), count[field])
			if variant == "distinct" && len(vs) != count[field] {
				t.Errorf("distinct: %s: %d distinct values over %d objects", field, len(vs), count[field])
			}
		}
	}
}
