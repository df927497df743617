package manifests_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

// writeTree writes files (path → content) under a new temporary folder.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// describe renders what Load read, relative to root, one line each.
func describe(root string, res manifests.Result) (objs, skips, errs []string) {
	rel := func(p string) string {
		if r, err := filepath.Rel(root, p); err == nil {
			return filepath.ToSlash(r)
		}
		return p
	}
	for _, s := range res.Sets {
		for _, o := range s.Objects {
			objs = append(objs, rel(o.Source)+":"+itoa(o.Line)+" "+o.GVK.Kind+" "+o.Namespace+"/"+o.Name)
		}
	}
	for _, s := range res.Skipped {
		skips = append(skips, rel(s.Source)+":"+itoa(s.Line)+" "+s.Reason)
	}
	for _, e := range res.Errors {
		e.Source = rel(e.Source)
		errs = append(errs, e.Error())
	}
	return objs, skips, errs
}

func itoa(i int) string { return strconv.Itoa(i) }

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"

func cm(name string) string { return strings.Replace(configMap, "%s", name, 1) }

func TestLoadARepository(t *testing.T) {
	root := writeTree(t, map[string]string{
		"plain/a.yaml":            cm("a") + "---\n# only a comment\n---\n" + cm("b"),
		"plain/mixed.yaml":        cm("c") + "---\nreplicaCount: 3\n",
		"plain/broken.yaml":       cm("d") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: [x\n",
		"plain/after-broken.yaml": cm("e"),
		"values.yaml":             "image: vllm\nresources:\n  limits: {nvidia.com/gpu: 1}\n",
		".gitlab-ci.yml":          "stages: [test]\ntest:\n  script: [make test]\n",
		"package.json":            `{"name": "x", "version": "1.0.0"}`,
		"tsconfig.json":           "{\n  // comments are not JSON\n  \"compilerOptions\": {\"strict\": true,},\n}\n",
		"envsubst/ms.yaml":        "apiVersion: workload.serving.volcano.sh/v1alpha1\nkind: ModelServing\nmetadata: ${METADATA}\n",
		"list.yaml":               "- a\n- b\n",
		"chart/Chart.yaml":        "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
		"chart/values.yaml":       "replicaCount: 1\n",
		"chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"x\" . | nindent 4 }}\n",
		"templated/cm.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    {{- include \"x\" . | nindent 4 }}\n",
		"half/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: half}\n",
		"half/broken.yaml":        "kind: ConfigMap\nmetadata: {name: nope}\n",
		".hidden/cm.yaml":         cm("hidden"),
		"notes.txt":               "not read",
	})
	res := manifests.Load([]string{root}, manifests.Options{})
	objs, skips, errs := describe(root, res)
	wantObjs := []string{
		"half/cm.yaml:1 ConfigMap /half",
		"plain/a.yaml:1 ConfigMap /a",
		"plain/a.yaml:8 ConfigMap /b",
		"plain/after-broken.yaml:1 ConfigMap /e",
		"plain/broken.yaml:1 ConfigMap /d",
		"plain/mixed.yaml:1 ConfigMap /c",
	}
	wantSkips := []string{
		".gitlab-ci.yml:0 not a Kubernetes manifest",
		"chart/Chart.yaml:0 part of the Helm chart " + filepath.Join(root, "chart"),
		"chart/templates/cm.yaml:0 a template of the Helm chart " + filepath.Join(root, "chart"),
		"chart/values.yaml:0 part of the Helm chart " + filepath.Join(root, "chart"),
		"envsubst/ms.yaml:0 a template ({{ }} or ${ } placeholders) that does not read as manifests",
		"list.yaml:0 not a Kubernetes manifest",
		"package.json:0 not a Kubernetes manifest",
		"plain/mixed.yaml:6 not a Kubernetes object",
		"templated/cm.yaml:0 a template ({{ }} or ${ } placeholders) that does not read as manifests",
		"tsconfig.json:0 not a Kubernetes manifest",
		"values.yaml:0 not a Kubernetes manifest",
	}
	wantErrs := []string{
		"half/broken.yaml:1: not a Kubernetes object: apiVersion and kind are required",
		"plain/broken.yaml:9: yaml: did not find expected ',' or ']'",
	}
	slices.Sort(objs)
	slices.Sort(skips)
	slices.Sort(errs)
	for _, c := range []struct {
		what      string
		got, want []string
	}{{"objects", objs, wantObjs}, {"skipped", skips, wantSkips}, {"errors", errs, wantErrs}} {
		if strings.Join(c.got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n%s\nwant:\n%s", c.what, strings.Join(c.got, "\n"), strings.Join(c.want, "\n"))
		}
	}
	if len(res.Hints) != 2 || !strings.Contains(res.Hints[0]+res.Hints[1], "helm template "+filepath.Join(root, "chart")+" | scaleguard check -f -") {
		t.Errorf("hints = %q", res.Hints)
	}
}

func TestLoadExclude(t *testing.T) {
	root := writeTree(t, map[string]string{
		"a.yaml":             cm("a"),
		"vendor/b.yaml":      cm("b"),
		"deep/x/c.test.yaml": cm("c"),
		"deep/d.yaml":        cm("d"),
	})
	res := manifests.Load([]string{root}, manifests.Options{Exclude: []string{"vendor", "**/*.test.yaml"}})
	objs, skips, _ := describe(root, res)
	if strings.Join(objs, ",") != "a.yaml:1 ConfigMap /a,deep/d.yaml:1 ConfigMap /d" {
		t.Errorf("objects = %q", objs)
	}
	want := `deep/x/c.test.yaml:0 excluded by --exclude "**/*.test.yaml",vendor:0 excluded by --exclude "vendor"`
	if strings.Join(skips, ",") != want {
		t.Errorf("skipped = %q", skips)
	}
	if err := manifests.ValidateGlob("[x"); err == nil {
		t.Error("a malformed glob is accepted")
	}
}

func TestLoadStdinAndMissing(t *testing.T) {
	res := manifests.Load([]string{"-", "testdata/missing.yaml"}, manifests.Options{Stdin: strings.NewReader(cm("s") + "---\nfoo: bar\n")})
	objs, skips, errs := describe("", res)
	if strings.Join(objs, ",") != "-:1 ConfigMap /s" || strings.Join(skips, ",") != "-:6 not a Kubernetes object" {
		t.Errorf("objects %q, skipped %q", objs, skips)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "testdata/missing.yaml: no such file or directory") {
		t.Errorf("errors = %q", errs)
	}
	if res := manifests.Load([]string{"-"}, manifests.Options{}); len(res.Errors) != 1 {
		t.Errorf("no stdin: errors = %v", res.Errors)
	}
}
