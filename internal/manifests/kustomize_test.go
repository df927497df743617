package manifests_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

// kustomizeTree is a base with two documents, an overlay that moves it to
// a namespace, prefixes the names, patches it and includes a component,
// an unused component, a kustomization that inflates a Helm chart and one
// that does not build.
var kustomizeTree = map[string]string{
	"base/kustomization.yaml": "resources:\n  - objects.yaml\n",
	"base/objects.yaml": "# two objects\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: \"1\"\n" +
		"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: llm\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: vllm\n          image: vllm\n",
	"overlays/prod/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nnamePrefix: prod-\n" +
		"resources:\n  - ../../base\ncomponents:\n  - ../../components/labels\npatches:\n  - path: patch.yaml\n",
	"overlays/prod/patch.yaml":             "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: llm\nspec:\n  replicas: 3\n",
	"components/labels/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nlabels:\n  - pairs: {team: chat}\n",
	"components/unused/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
	"helm/kustomization.yaml":              "helmCharts:\n  - name: vllm\n    repo: https://charts.example.com\n",
	"broken/kustomization.yaml":            "resources:\n  - missing.yaml\n",
	"plain.yaml":                           cm("plain"),
}

func TestLoadRendersKustomizations(t *testing.T) {
	root := writeTree(t, kustomizeTree)
	res := manifests.Load([]string{root}, manifests.Options{})
	objs, skips, errs := describe(root, res)
	want := []string{
		"plain.yaml:1 ConfigMap /plain",
		"base/objects.yaml:1 ConfigMap prod/prod-settings",
		"base/objects.yaml:9 Deployment prod/prod-llm",
	}
	if strings.Join(objs, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects:\n%s\nwant:\n%s", strings.Join(objs, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Sets) != 2 || res.Sets[0].Kustomization != "" || res.Sets[1].Kustomization != filepath.Join(root, "overlays/prod") {
		t.Fatalf("sets: %+v", res.Sets)
	}
	wantSkips := "components/unused:0 a kustomize Component, judged through the kustomizations that include it\n" +
		"helm:0 a kustomization that inflates Helm charts"
	if strings.Join(skips, "\n") != wantSkips {
		t.Errorf("skipped:\n%s", strings.Join(skips, "\n"))
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "broken: kustomize build:") || !strings.Contains(errs[0], "missing.yaml") {
		t.Errorf("errors = %q", errs)
	}
	if len(res.Hints) != 1 || !strings.Contains(res.Hints[0], "kustomize build --enable-helm") {
		t.Errorf("hints = %q", res.Hints)
	}

	deploy := res.Sets[1].Objects[1]
	for _, frag := range []string{`"replicas":3`, `"team":"chat"`, `"namespace":"prod"`} {
		if !strings.Contains(string(deploy.JSON), frag) {
			t.Errorf("rendered Deployment lacks %s: %s", frag, deploy.JSON)
		}
	}
	if strings.Contains(string(deploy.JSON), "config.kubernetes.io/origin") {
		t.Errorf("the origin annotation scaleguard asked for is left on the object: %s", deploy.JSON)
	}
	if got := deploy.FieldLine("spec.template.spec.containers[0].image"); got != 19 {
		t.Errorf("image of the rendered Deployment is at line %d of base/objects.yaml, want 19", got)
	}
	if deploy.NotFixable() == "" || deploy.Via == "" {
		t.Errorf("a rendered object is fixable in place: %+v", deploy)
	}
}

func TestLoadKustomizationGivenDirectly(t *testing.T) {
	root := writeTree(t, kustomizeTree)
	for name, path := range map[string]string{
		"folder":             filepath.Join(root, "base"),
		"kustomization file": filepath.Join(root, "base", "kustomization.yaml"),
	} {
		res := manifests.Load([]string{path}, manifests.Options{})
		objs, _, errs := describe(root, res)
		if len(errs) != 0 || strings.Join(objs, ",") != "base/objects.yaml:1 ConfigMap /settings,base/objects.yaml:9 Deployment /llm" {
			t.Errorf("%s: objects %q, errors %q", name, objs, errs)
		}
	}
}
