package bench

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

//go:embed testdata/*.yaml
var testdata embed.FS

// Doc is one manifest of testdata: its kind and JSON.
type Doc struct {
	GVK  schema.GroupVersionKind
	JSON []byte
}

// Object decodes the document.
func (d Doc) Object() (client.Object, error) { return apis.Decode(d.GVK, d.JSON) }

// Docs reads a testdata file (without .yaml).
func Docs(name string) ([]Doc, error) {
	raw, err := testdata.ReadFile(path.Join("testdata", name+".yaml"))
	if err != nil {
		return nil, err
	}
	objs, err := manifests.Parse(name, strings.NewReader(string(raw)))
	if err != nil {
		return nil, err
	}
	out := make([]Doc, len(objs))
	for i, o := range objs {
		out[i] = Doc{GVK: o.GVK, JSON: o.JSON}
	}
	return out, nil
}

// Sizes of a population of n: n Deployments and n ScaledObjects, a fifth
// as many Services and a twentieth as many ModelServings (10,000, 10,000,
// 2,000 and 500 for n = 10,000).
func Sizes(n int) (deployments, scaledObjects, services, modelServings int) {
	return n, n, n / 5, n / 20
}

// PerNamespace is how many objects of each kind a spread population puts
// in one namespace.
const PerNamespace = 100

// Population is a cluster of n engine Deployments, each with a
// ScaledObject, every fifth with a Service, and n/20 four-role
// ModelServings (testdata/population.yaml), with their Namespaces. With ns
// empty they are spread over namespaces team-000, team-001, … of
// PerNamespace each; otherwise they all go into ns. Every fourth
// Deployment asks for a GPU, and its ScaledObject carries the pause
// decision scaleguard would have written. Deployments and ScaledObjects
// carry kubectl's last-applied-configuration annotation, as objects
// applied with kubectl or Argo CD do.
func Population(n int, ns string) ([]client.Object, error) {
	protos, err := prototypes()
	if err != nil {
		return nil, err
	}
	nd, nso, nsvc, nms := Sizes(n)
	var out []client.Object
	seen := map[string]bool{}
	place := func(i int) string {
		if ns != "" {
			return ns
		}
		return fmt.Sprintf("team-%03d", i/PerNamespace)
	}
	for i := range max(nd, nso, nsvc, nms) {
		where := place(i)
		if !seen[where] {
			seen[where] = true
			out = append(out, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: where, Labels: map[string]string{"kubernetes.io/metadata.name": where}}})
		}
		name := fmt.Sprintf("model-%05d", i)
		gpu := i%4 == 0
		if i < nd {
			d := Deployment(protos, where, name, gpu)
			out = append(out, d)
		}
		if i < nso {
			out = append(out, ScaledObject(protos, where, name, gpu))
		}
		if i < nsvc {
			out = append(out, Service(protos, where, fmt.Sprintf("model-%05d", i*5)))
		}
		if i < nms {
			out = append(out, ModelServing(protos, where, fmt.Sprintf("serving-%05d", i)))
		}
	}
	return out, nil
}

// Prototypes are the objects of testdata/population.yaml by kind.
type Prototypes struct {
	deployment   *appsv1.Deployment
	scaledObject *kedav1alpha1.ScaledObject
	service      *corev1.Service
	modelServing *kthenav1alpha1.ModelServing
}

func prototypes() (*Prototypes, error) {
	docs, err := Docs("population")
	if err != nil {
		return nil, err
	}
	p := &Prototypes{}
	for _, d := range docs {
		obj, err := d.Object()
		if err != nil {
			return nil, err
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			p.deployment = o
		case *kedav1alpha1.ScaledObject:
			p.scaledObject = o
		case *corev1.Service:
			p.service = o
		case *kthenav1alpha1.ModelServing:
			p.modelServing = o
		}
	}
	if p.deployment == nil || p.scaledObject == nil || p.service == nil || p.modelServing == nil {
		return nil, fmt.Errorf("testdata/population.yaml lacks a prototype")
	}
	return p, nil
}

// LoadPrototypes reads testdata/population.yaml.
func LoadPrototypes() (*Prototypes, error) { return prototypes() }

// Deployment is a copy of the engine Deployment prototype named name in ns.
func Deployment(p *Prototypes, ns, name string, gpu bool) *appsv1.Deployment {
	d := p.deployment.DeepCopy()
	d.Namespace, d.Name = ns, name
	d.Labels["app"] = name
	d.Spec.Selector.MatchLabels["app"] = name
	d.Spec.Template.Labels["app"] = name
	if gpu {
		c := &d.Spec.Template.Spec.Containers[0]
		c.Resources.Limits[corev1.ResourceName("nvidia.com/gpu")] = resource.MustParse("1")
		d.Spec.Template.Spec.NodeSelector = map[string]string{"cloud.google.com/gke-accelerator": "nvidia-l4"}
		d.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	}
	lastApplied(d)
	return d
}

// ScaledObject is a copy of the ScaledObject prototype for the Deployment
// name in ns, with its queries scoped to them; gpu adds the pause
// decision.
func ScaledObject(p *Prototypes, ns, name string, gpu bool) *kedav1alpha1.ScaledObject {
	so := p.scaledObject.DeepCopy()
	so.Namespace, so.Name = ns, name
	so.Spec.ScaleTargetRef.Name = name
	for i := range so.Spec.Triggers {
		md := map[string]string{}
		for k, v := range so.Spec.Triggers[i].Metadata {
			md[k] = strings.NewReplacer("NAMESPACE", ns, "NAME", name).Replace(v)
		}
		so.Spec.Triggers[i].Metadata = md
	}
	if gpu {
		so.Annotations = map[string]string{"autoscaling.keda.sh/paused": "true"}
	}
	lastApplied(so)
	return so
}

// Service is a copy of the Service prototype selecting the Deployment name.
func Service(p *Prototypes, ns, name string) *corev1.Service {
	s := p.service.DeepCopy()
	s.Namespace, s.Name = ns, name
	s.Labels["app"] = name
	s.Spec.Selector["app"] = name
	return s
}

// ModelServing is a copy of the four-role ModelServing prototype.
func ModelServing(p *Prototypes, ns, name string) *kthenav1alpha1.ModelServing {
	ms := p.modelServing.DeepCopy()
	ms.Namespace, ms.Name = ns, name
	return ms
}

// lastApplied sets kubectl's last-applied-configuration annotation to the
// object as applied (its manifest without status and the annotation).
func lastApplied(obj client.Object) {
	gvk, _ := apisGVK(obj)
	a := obj.GetAnnotations()
	obj.SetAnnotations(nil)
	m, _ := json.Marshal(obj)
	var doc map[string]any
	_ = json.Unmarshal(m, &doc)
	doc["apiVersion"], doc["kind"] = gvk.GroupVersion().String(), gvk.Kind
	delete(doc, "status")
	if md, ok := doc["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
		if len(a) > 0 {
			md["annotations"] = a
		}
	}
	applied, _ := json.Marshal(doc)
	if a == nil {
		a = map[string]string{}
	}
	a[policies.LastAppliedAnnotation] = string(applied) + "\n"
	obj.SetAnnotations(a)
}

func apisGVK(obj client.Object) (schema.GroupVersionKind, error) {
	gvks, _, err := apis.Scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		return schema.GroupVersionKind{}, fmt.Errorf("kind of %T: %v", obj, err)
	}
	return gvks[0], nil
}

// jsonOf is an object as the API server would send it.
func jsonOf(obj client.Object) ([]byte, error) { return json.Marshal(obj) }

// Autoscalers are n catalogued autoscalers in ns (testdata/autoscalers.yaml):
// AIBrix PodAutoscalers on Deployments "scaled-00000", "scaled-00002", …
// and Knative Services "knative-00001", "knative-00003", … alternately,
// none of them on a workload of Population. They are what a namespace of
// AIBrix or Knative users holds, and what the conflict rules may read for
// every ScaledObject and HPA.
func Autoscalers(n int, ns string) ([]client.Object, error) {
	docs, err := Docs("autoscalers")
	if err != nil {
		return nil, err
	}
	var protos []*unstructured.Unstructured
	for _, d := range docs {
		obj, err := d.Object()
		if err != nil {
			return nil, err
		}
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return nil, fmt.Errorf("testdata/autoscalers.yaml: %s is not a catalogued kind", d.GVK.Kind)
		}
		protos = append(protos, u)
	}
	if len(protos) != 2 {
		return nil, fmt.Errorf("testdata/autoscalers.yaml: want 2 prototypes, got %d", len(protos))
	}
	out := make([]client.Object, 0, n)
	for i := range n {
		u := protos[i%2].DeepCopy()
		u.SetNamespace(ns)
		if i%2 == 0 {
			u.SetName(fmt.Sprintf("scaled-%05d", i))
			if err := unstructured.SetNestedField(u.Object, u.GetName(), "spec", "scaleTargetRef", "name"); err != nil {
				return nil, err
			}
		} else {
			u.SetName(fmt.Sprintf("knative-%05d", i))
		}
		out = append(out, u)
	}
	return out, nil
}
