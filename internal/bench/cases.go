package bench

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
)

// Case is one object judged by a benchmark, with the objects it relates
// to (its target, the workloads a monitor selects among).
type Case struct {
	// Name says what is judged.
	Name string
	// GVK and Object are the judged object.
	GVK    schema.GroupVersionKind
	Object []byte
	// Namespace is the judged object's.
	Namespace string
	// Related go into the view beside the population.
	Related []client.Object
}

// Cases are the objects the rule benchmarks judge: the five-trigger
// ScaledObject, a ScaledObject on a four-role ModelServing and that
// ModelServing, a PodMonitor over 50 candidate workloads (and one over
// the release "chat" of them, which a crowded namespace's workloads do
// not carry, and one over that release in any namespace, from the
// monitoring namespace), a ServiceMonitor over that release's Services, an
// InferenceService with an external metric and a CPU HPA.
func Cases() ([]Case, error) {
	p, err := prototypes()
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, c := range []struct{ name, file string }{
		{"five-trigger ScaledObject", "five-trigger"},
		{"ScaledObject on a four-role ModelServing", "modelserving"},
		{"PodMonitor over 50 workloads", "podmonitor"},
		{"PodMonitor over one release", "podmonitor-release"},
		{"PodMonitor over one release in any namespace", "podmonitor-any"},
		{"ServiceMonitor over one release", "servicemonitor-release"},
		{"InferenceService with an external metric", "inferenceservice"},
		{"CPU HPA", "hpa"},
	} {
		docs, err := Docs(c.file)
		if err != nil {
			return nil, err
		}
		judged := docs[len(docs)-1]
		obj, err := judged.Object()
		if err != nil {
			return nil, err
		}
		k := Case{Name: c.name, GVK: judged.GVK, Object: judged.JSON, Namespace: obj.GetNamespace()}
		for _, d := range docs[:len(docs)-1] {
			o, err := d.Object()
			if err != nil {
				return nil, err
			}
			k.Related = append(k.Related, o)
		}
		switch c.file {
		case "modelserving":
			k.Related = append(k.Related, ModelServing(p, k.Namespace, "qwen-vl"))
		case "podmonitor", "podmonitor-release", "podmonitor-any", "servicemonitor-release":
			// 50 candidates; every fifth is a vLLM engine of release
			// "chat" the monitors select, the others carry another name.
			// The ServiceMonitor's are behind a Service each. The monitor
			// of any namespace finds them in namespace serving.
			at := k.Namespace
			if c.file == "podmonitor-any" {
				at = "serving"
				k.Related = append(k.Related, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: at, Labels: map[string]string{"kubernetes.io/metadata.name": at}}})
			}
			for i := range 50 {
				name := fmt.Sprintf("workload-%02d", i)
				d := Deployment(p, at, name, false)
				if i%5 != 0 {
					d.Labels["app.kubernetes.io/name"] = "api-gateway"
					d.Spec.Template.Labels["app.kubernetes.io/name"] = "api-gateway"
				} else {
					d.Spec.Template.Labels["app.kubernetes.io/instance"] = "chat"
					if c.file == "servicemonitor-release" {
						s := Service(p, k.Namespace, name)
						s.Labels["app.kubernetes.io/instance"] = "chat"
						k.Related = append(k.Related, s)
					}
				}
				k.Related = append(k.Related, d)
			}
		}
		k.Related = append(k.Related, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: k.Namespace, Labels: map[string]string{"kubernetes.io/metadata.name": k.Namespace}}})
		out = append(out, k)
	}
	// The ModelServing itself.
	ms := ModelServing(p, "kthena-demo", "qwen-vl")
	gvk, err := apisGVK(ms)
	if err != nil {
		return nil, err
	}
	ms.SetGroupVersionKind(gvk)
	raw, err := jsonOf(ms)
	if err != nil {
		return nil, err
	}
	out = append(out, Case{Name: "ModelServing with four roles", GVK: gvk, Object: raw, Namespace: "kthena-demo",
		Related: []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kthena-demo", Labels: map[string]string{"kubernetes.io/metadata.name": "kthena-demo"}}}}})
	return out, nil
}

// Family is a rule family: the rules whose IDs start with one of its
// prefixes.
type Family struct {
	Name     string
	Prefixes []string
}

// Families are the rule families of policies/all, by rule ID.
var Families = []Family{
	{"conflict", []string{"conflict-"}},
	{"gpu", []string{"gpu-"}},
	{"monitor", []string{"monitor-"}},
	{"promql", []string{"promql-", "trigger-"}},
	{"targetref", []string{"target-ref"}},
}

// FamilyOf names the family of a rule ID, "" when none claims it.
func FamilyOf(id string) string {
	for _, f := range Families {
		for _, p := range f.Prefixes {
			if strings.HasPrefix(id, p) {
				return f.Name
			}
		}
	}
	return ""
}

// FamiliesFor lists the families with a rule for gvk that runs on
// admission, sorted.
func FamiliesFor(reg *policies.Registry, gvk schema.GroupVersionKind) []string {
	seen := map[string]bool{}
	for _, r := range reg.For(gvk) {
		if !r.AuditOnly {
			seen[FamilyOf(r.ID)] = true
		}
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Only returns settings with every rule off except those of the named
// families ("" for none: the engine and decoding alone).
func Only(reg *policies.Registry, families ...string) *policies.Settings {
	s := policies.DefaultSettings()
	s.Rules = map[string]policies.RuleOverride{}
	on := map[string]bool{}
	for _, f := range families {
		on[f] = true
	}
	for _, r := range reg.Rules() {
		if !on[FamilyOf(r.ID)] {
			s.Rules[r.ID] = policies.RuleOverride{Action: policies.Off}
		}
	}
	return s
}
