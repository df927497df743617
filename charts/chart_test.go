package charts

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// namespace is the namespace config/ installs into; the chart is rendered
// as a release there.
const namespace = "scaleguard-system"

// renderChart renders charts/scaleguard as `helm template` would, with
// values over the chart's own.
func renderChart(t *testing.T, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := Render("scaleguard", namespace, values)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// renderKustomize builds a kustomization of config/.
func renderKustomize(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), filepath.Join("..", "config", dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, r := range m.Resources() {
		obj, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
	return out
}

// webhook is what a webhook does, as compared between the installs.
type webhook struct {
	Rules             []admissionregistrationv1.RuleWithOperations
	FailurePolicy     admissionregistrationv1.FailurePolicyType
	MatchConditions   []admissionregistrationv1.MatchCondition
	NamespaceSelector string
	Service           admissionregistrationv1.ServiceReference
	SideEffects       admissionregistrationv1.SideEffectClass
	TimeoutSeconds    int32
}

// webhooks maps "configuration/webhook" to what it does, and each
// configuration's cert-manager.io/inject-ca-from annotation.
func webhooks(t *testing.T, objs []*unstructured.Unstructured) (map[string]webhook, map[string]string) {
	t.Helper()
	out, inject := map[string]webhook{}, map[string]string{}
	for _, u := range objs {
		var ws []admissionregistrationv1.ValidatingWebhook
		switch u.GetKind() {
		case "ValidatingWebhookConfiguration":
			var c admissionregistrationv1.ValidatingWebhookConfiguration
			convert(t, u, &c)
			ws = c.Webhooks
		case "MutatingWebhookConfiguration":
			var c admissionregistrationv1.MutatingWebhookConfiguration
			convert(t, u, &c)
			for _, w := range c.Webhooks {
				ws = append(ws, admissionregistrationv1.ValidatingWebhook{Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules,
					FailurePolicy: w.FailurePolicy, NamespaceSelector: w.NamespaceSelector, SideEffects: w.SideEffects,
					TimeoutSeconds: w.TimeoutSeconds, MatchConditions: w.MatchConditions})
			}
		default:
			continue
		}
		inject[u.GetName()] = u.GetAnnotations()["cert-manager.io/inject-ca-from"]
		for _, w := range ws {
			key := u.GetName() + "/" + w.Name
			if _, dup := out[key]; dup {
				t.Errorf("webhook %s appears twice", key)
			}
			got := webhook{Rules: w.Rules, MatchConditions: w.MatchConditions}
			if w.FailurePolicy != nil {
				got.FailurePolicy = *w.FailurePolicy
			}
			if w.NamespaceSelector != nil {
				// As the API server reads it: requirements and their
				// values sorted.
				sel, err := metav1.LabelSelectorAsSelector(w.NamespaceSelector)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				got.NamespaceSelector = sel.String()
			}
			if w.ClientConfig.Service != nil {
				got.Service = *w.ClientConfig.Service
			}
			if w.SideEffects != nil {
				got.SideEffects = *w.SideEffects
			}
			if w.TimeoutSeconds != nil {
				got.TimeoutSeconds = *w.TimeoutSeconds
			}
			out[key] = got
		}
	}
	return out, inject
}

// grants spreads every role into single grants ("Kind namespace/name:
// verb group/resource[/name]"), with what binds it to whom, so that two
// installs compare by what they allow, not by how rules are grouped.
func grants(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, u := range objs {
		where := u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
		switch u.GetKind() {
		case "ClusterRole", "Role":
			var r rbacv1.ClusterRole
			convert(t, u, &r)
			for _, rule := range r.Rules {
				for _, v := range rule.Verbs {
					for _, url := range rule.NonResourceURLs {
						out = append(out, fmt.Sprintf("%s: %s %s", where, v, url))
					}
					for _, g := range rule.APIGroups {
						for _, res := range rule.Resources {
							if len(rule.ResourceNames) == 0 {
								out = append(out, fmt.Sprintf("%s: %s %s/%s", where, v, g, res))
							}
							for _, n := range rule.ResourceNames {
								out = append(out, fmt.Sprintf("%s: %s %s/%s/%s", where, v, g, res, n))
							}
						}
					}
				}
			}
		case "ClusterRoleBinding", "RoleBinding":
			var b rbacv1.RoleBinding
			convert(t, u, &b)
			for _, s := range b.Subjects {
				out = append(out, fmt.Sprintf("%s: binds %s %s to %s %s/%s", where, b.RoleRef.Kind, b.RoleRef.Name, s.Kind, s.Namespace, s.Name))
			}
		}
	}
	sort.Strings(out)
	return out
}

func convert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

func diffStrings(t *testing.T, what string, want, got []string) {
	t.Helper()
	for _, s := range want {
		if !slices.Contains(got, s) {
			t.Errorf("%s: config/ has %q, the chart does not", what, s)
		}
	}
	for _, s := range got {
		if !slices.Contains(want, s) {
			t.Errorf("%s: the chart has %q, config/ does not", what, s)
		}
	}
}

func compareWebhooks(t *testing.T, want, got map[string]webhook) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("webhook %s: in config/, not in the chart", k)
			continue
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("webhook %s differs:\nconfig/: %+v\nchart:   %+v", k, w, g)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("webhook %s: in the chart, not in config/", k)
		}
	}
}

// TestChartMatchesKustomize renders the chart with its defaults and with
// certificate.mode cert-manager, and config/default and config/certmanager,
// and compares what the API server acts on: every webhook (rules, failure
// policy, matchConditions, namespaceSelector, service, side effects,
// timeout), the CA injection, and every permission granted and to whom.
func TestChartMatchesKustomize(t *testing.T) {
	for _, tc := range []struct {
		kustomization string
		values        map[string]any
	}{
		{"default", nil},
		{"certmanager", map[string]any{"certificate": map[string]any{"mode": "cert-manager"}}},
	} {
		t.Run(tc.kustomization, func(t *testing.T) {
			k, c := renderKustomize(t, tc.kustomization), renderChart(t, tc.values)
			kw, kinject := webhooks(t, k)
			cw, cinject := webhooks(t, c)
			if len(kw) < 10 {
				t.Fatalf("config/%s renders %d webhooks; expected the generated set", tc.kustomization, len(kw))
			}
			compareWebhooks(t, kw, cw)
			if !reflect.DeepEqual(kinject, cinject) {
				t.Errorf("CA injection: config/ %v, chart %v", kinject, cinject)
			}
			diffStrings(t, "RBAC", grants(t, k), grants(t, c))
		})
	}
}

// TestChartValues: the values change what they say, and nothing else.
func TestChartValues(t *testing.T) {
	base, _ := webhooks(t, renderChart(t, nil))
	const scaledObject = "scaleguard-validating/scaledobject.validate.scaleguard.io"
	if base[scaledObject].FailurePolicy != admissionregistrationv1.Fail {
		t.Fatalf("%s fails %q by default; the test expects Fail", scaledObject, base[scaledObject].FailurePolicy)
	}
	t.Run("failurePolicyOverrides", func(t *testing.T) {
		got, _ := webhooks(t, renderChart(t, map[string]any{"webhooks": map[string]any{
			"failurePolicyOverrides": map[string]any{"scaledobject.validate.scaleguard.io": "Ignore"}}}))
		for k, w := range base {
			want := w
			if k == scaledObject {
				want.FailurePolicy = admissionregistrationv1.Ignore
			}
			if !reflect.DeepEqual(want, got[k]) {
				t.Errorf("%s: %+v, want %+v", k, got[k], want)
			}
		}
	})
	t.Run("allFailOpen", func(t *testing.T) {
		got, _ := webhooks(t, renderChart(t, map[string]any{"webhooks": map[string]any{"allFailOpen": true}}))
		for k, w := range got {
			if w.FailurePolicy != admissionregistrationv1.Ignore {
				t.Errorf("%s fails %s", k, w.FailurePolicy)
			}
		}
	})
	t.Run("excludedNamespaces", func(t *testing.T) {
		objs := renderChart(t, map[string]any{"excludedNamespaces": []any{"kube-system", "gpu-batch"}})
		got, _ := webhooks(t, objs)
		for k, w := range got {
			if !strings.Contains(w.NamespaceSelector, "kubernetes.io/metadata.name notin (gpu-batch,kube-system,scaleguard-system)") {
				t.Errorf("%s: namespaceSelector %s", k, w.NamespaceSelector)
			}
		}
		if args := deploymentArgs(t, objs); !slices.Contains(args, "--excluded-namespaces=scaleguard-system,kube-system,gpu-batch") {
			t.Errorf("serve's arguments %v do not exclude the same namespaces", args)
		}
	})
	t.Run("defaultPolicy", func(t *testing.T) {
		objs := renderChart(t, map[string]any{"defaultPolicy": map[string]any{"enabled": true,
			"spec": map[string]any{"rules": map[string]any{"promql-unscoped": map[string]any{"action": "Warn"}}}}})
		var found bool
		for _, u := range objs {
			if u.GetKind() == "ScaleGuardPolicy" {
				found = true
				a, _, _ := unstructured.NestedString(u.Object, "spec", "rules", "promql-unscoped", "action")
				if u.GetName() != "default" || a != "Warn" {
					t.Errorf("policy %s: promql-unscoped action %q", u.GetName(), a)
				}
			}
		}
		if !found {
			t.Error("no ScaleGuardPolicy rendered")
		}
	})
	t.Run("replicas", func(t *testing.T) {
		objs := renderChart(t, map[string]any{"replicas": 1})
		for _, u := range objs {
			if u.GetKind() == "PodDisruptionBudget" {
				t.Error("a PodDisruptionBudget of minAvailable 1 for one replica would block every node drain")
			}
		}
	})
}

// TestChartRefusesBadValues: a value the chart cannot honour fails the
// render with a message naming it.
func TestChartRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"certificate": map[string]any{"mode": "manual"}}, `certificate.mode: "manual"`},
		{map[string]any{"webhooks": map[string]any{"failurePolicyOverrides": map[string]any{"scaledobject.validate.scaleguard.io": "Never"}}}, `"Never" is neither Fail nor Ignore`},
		{map[string]any{"webhooks": map[string]any{"failurePolicyOverrides": map[string]any{"typo.validate.scaleguard.io": "Ignore"}}}, `no webhook is named "typo.validate.scaleguard.io"`},
	} {
		ch, err := loader.Load("scaleguard")
		if err != nil {
			t.Fatal(err)
		}
		vals, err := chartutil.ToRenderValues(ch, tc.values, chartutil.ReleaseOptions{Name: "scaleguard", Namespace: namespace, IsInstall: true}, chartutil.DefaultCapabilities)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := engine.Render(ch, vals); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("values %v: error %v, want one containing %s", tc.values, err, tc.want)
		}
	}
}

// TestChartLints runs helm's own linter on the chart.
func TestChartLints(t *testing.T) {
	l := lint.All("scaleguard", nil, namespace, false)
	for _, m := range l.Messages {
		if m.Severity >= support.WarningSev {
			t.Errorf("helm lint: %s", m)
		}
	}
}

func deploymentArgs(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() != "Deployment" {
			continue
		}
		cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		args, _, _ := unstructured.NestedStringSlice(cs[0].(map[string]any), "args")
		return args
	}
	t.Fatal("no Deployment rendered")
	return nil
}
