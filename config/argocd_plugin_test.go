package config_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// plugin is the part of a ConfigManagementPlugin the test reads.
type plugin struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Generate struct {
			Command []string `json:"command"`
			Args    []string `json:"args"`
		} `json:"generate"`
	} `json:"spec"`
}

// TestPluginFilesFitTogether checks that the sidecar mounts what the plugin
// runs, from the ConfigMap the kustomization generates.
func TestPluginFilesFitTogether(t *testing.T) {
	var p plugin
	readYAML(t, filepath.Join("argocd", "cmp-plugin.yaml"), &p)
	if p.APIVersion != "argoproj.io/v1alpha1" || p.Kind != "ConfigManagementPlugin" || p.Metadata.Name != "scaleguard" {
		t.Errorf("plugin %s %s %s", p.APIVersion, p.Kind, p.Metadata.Name)
	}
	var k struct {
		Namespace          string `json:"namespace"`
		ConfigMapGenerator []struct {
			Name  string   `json:"name"`
			Files []string `json:"files"`
		} `json:"configMapGenerator"`
	}
	readYAML(t, filepath.Join("argocd", "kustomization.yaml"), &k)
	if len(k.ConfigMapGenerator) != 1 {
		t.Fatalf("configMapGenerator %+v", k.ConfigMapGenerator)
	}
	cm := k.ConfigMapGenerator[0]
	keys := map[string]bool{}
	for _, f := range cm.Files {
		key, file, ok := strings.Cut(f, "=")
		if !ok {
			file = key
		}
		if _, err := os.Stat(filepath.Join("argocd", file)); err != nil {
			t.Errorf("the ConfigMap's file %s: %v", file, err)
		}
		keys[key] = true
	}
	var d appsv1.Deployment
	readYAML(t, filepath.Join("argocd", "repo-server-sidecar.yaml"), &d)
	if d.Name != "argocd-repo-server" || d.Namespace != k.Namespace || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("sidecar patch of %s/%s with %d containers", d.Namespace, d.Name, len(d.Spec.Template.Spec.Containers))
	}
	volume := ""
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == cm.Name {
			volume = v.Name
		}
	}
	mounted := map[string]string{}
	for _, m := range d.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.Name == volume {
			mounted[m.SubPath] = m.MountPath
		}
	}
	if mounted["plugin.yaml"] != "/home/argocd/cmp-server/config/plugin.yaml" || !keys["plugin.yaml"] {
		t.Errorf("Argo CD reads the plugin at /home/argocd/cmp-server/config/plugin.yaml; mounted %v from keys %v", mounted, keys)
	}
	if !keys["generate.sh"] || strings.Join(p.Spec.Generate.Command, " ") != "sh "+mounted["generate.sh"] {
		t.Errorf("generate runs %q, generate.sh is mounted at %q", p.Spec.Generate.Command, mounted["generate.sh"])
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// buildScaleguard builds the scaleguard binary of this tree into a
// directory to put on PATH.
func buildScaleguard(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "scaleguard"), "../cmd/scaleguard").CombinedOutput()
	if err != nil {
		t.Fatalf("building scaleguard: %v\n%s", err, out)
	}
	return dir
}

// TestPluginGeneratesOnlyWhatIsNotDenied runs generate.sh as the plugin's
// sidecar does, in a source directory, with the scaleguard of this tree.
func TestPluginGeneratesOnlyWhatIsNotDenied(t *testing.T) {
	bin := buildScaleguard(t)
	probe := exec.Command(filepath.Join(bin, "scaleguard"), "check", "--fail-on", "deny", "-f", os.DevNull)
	if out, _ := probe.CombinedOutput(); bytes.Contains(out, []byte("unknown flag: --fail-on")) {
		t.Skip("scaleguard check rejects --fail-on, which generate.sh passes: " + strings.TrimSpace(string(out)))
	}
	script, err := filepath.Abs(filepath.Join("argocd", "generate.sh"))
	if err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs(filepath.Join("..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	_, kubectlErr := exec.LookPath("kubectl")
	_, kustomizeErr := exec.LookPath("kustomize")
	haveKustomize := kubectlErr == nil || kustomizeErr == nil

	for name, tc := range map[string]struct {
		dir       func(t *testing.T) string
		env       []string
		kustomize bool
		exit      int
		objects   int      // manifests printed when it passes
		stderr    []string // findings shown in Argo CD's condition
	}{
		"plain manifests that pass": {dir: exampleDir(examples, "gpu"), exit: 0, objects: 3,
			stderr: []string{"./20-scaledobject-raw-vllm.yaml:6: ScaledObject serving/raw-vllm: mutate [gpu-paused-default]", "0 denied"}},
		"plain manifests with denials": {dir: exampleDir(examples, "kthena"), exit: 1,
			stderr: []string{"./31-scaledobject-no-kind.yaml:10: ScaledObject kthena-demo/my-modelserving: deny [target-ref]", "[promql-unscoped]", "scaleguard: denied, so no manifests were generated"}},
		"KServe InferenceService denied": {dir: exampleDir(examples, "kserve"), exit: 1,
			stderr: []string{"deny [promql-unscoped]"}},
		"top folder only, as Argo CD reads a plain directory": {dir: exampleDir(examples, ""), exit: 0, objects: 6},
		"subfolders too with RECURSE=true": {dir: exampleDir(examples, ""), env: []string{"ARGOCD_ENV_RECURSE=true"}, exit: 1,
			stderr: []string{"./kthena/31-scaledobject-no-kind.yaml:10: ScaledObject kthena-demo/my-modelserving: deny [target-ref]"}},
		"kustomization that passes": {dir: kustomization("gpu", examples, "gpu/05-resourcequota.yaml", "gpu/10-deployment-raw-vllm.yaml", "gpu/20-scaledobject-raw-vllm.yaml"),
			kustomize: true, exit: 0, objects: 3, stderr: []string{"-:", "mutate [gpu-paused-default]"}},
		"kustomization with denials": {dir: kustomization("kthena", examples, "kthena/10-modelserving.yaml", "kthena/32-scaledobject-no-apiversion.yaml"),
			kustomize: true, exit: 1, stderr: []string{"deny [target-ref]", "scaleguard: denied"}},
		"manifest that does not parse": {dir: func(t *testing.T) string {
			d := t.TempDir()
			if err := os.WriteFile(filepath.Join(d, "broken.yaml"), []byte("apiVersion: v1\nkind: [\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return d
		}, exit: 2, stderr: []string{"broken.yaml"}},
	} {
		t.Run(name, func(t *testing.T) {
			if tc.kustomize && !haveKustomize {
				t.Skip("neither kustomize nor kubectl is installed")
			}
			cmd := exec.Command("sh", script)
			cmd.Dir = tc.dir(t)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			cmd.Env = append(cmd.Env, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			exit := 0
			if ee, ok := err.(*exec.ExitError); ok {
				exit = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if exit != tc.exit {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", exit, tc.exit, stderr.String())
			}
			for _, f := range tc.stderr {
				if !strings.Contains(stderr.String(), f) {
					t.Errorf("stderr lacks %q:\n%s", f, stderr.String())
				}
			}
			if tc.exit != 0 {
				if stdout.Len() != 0 {
					t.Errorf("manifests printed although generation failed:\n%s", stdout.String())
				}
				return
			}
			objs, err := manifests.Read([]string{"-"}, &stdout)
			if err != nil {
				t.Fatalf("the output is not manifests: %v", err)
			}
			if len(objs) != tc.objects {
				t.Errorf("%d manifests printed, want %d", len(objs), tc.objects)
			}
		})
	}
}

// exampleDir is a folder of examples/ ("" for examples/ itself).
func exampleDir(examples, sub string) func(*testing.T) string {
	return func(*testing.T) string { return filepath.Join(examples, sub) }
}

// kustomization is a fresh folder holding copies of example files and a
// kustomization listing them.
func kustomization(name, examples string, files ...string) func(*testing.T) string {
	return func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
		for _, f := range files {
			b, err := os.ReadFile(filepath.Join(examples, f))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
				t.Fatal(err)
			}
			k += "  - " + filepath.Base(f) + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
}

// TestIgnoreDifferencesNameThePauseAnnotations checks that the snippet's
// JSON pointers point at the two annotations of a pause decision.
func TestIgnoreDifferencesNameThePauseAnnotations(t *testing.T) {
	var app struct {
		Kind string `json:"kind"`
		Spec struct {
			IgnoreDifferences []struct {
				Group        string   `json:"group"`
				Kind         string   `json:"kind"`
				JSONPointers []string `json:"jsonPointers"`
			} `json:"ignoreDifferences"`
			SyncPolicy struct {
				SyncOptions []string `json:"syncOptions"`
			} `json:"syncPolicy"`
		} `json:"spec"`
	}
	readYAML(t, filepath.Join("argocd", "ignore-pause-decisions.yaml"), &app)
	if app.Kind != "Application" || len(app.Spec.IgnoreDifferences) != 1 {
		t.Fatalf("%+v", app)
	}
	ignore := app.Spec.IgnoreDifferences[0]
	if ignore.Group != "keda.sh" || ignore.Kind != "ScaledObject" {
		t.Errorf("ignores %s %s", ignore.Group, ignore.Kind)
	}
	// RFC 6901: "~1" is "/", "~0" is "~".
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	var got []string
	for _, p := range ignore.JSONPointers {
		parts := strings.Split(p, "/")
		if len(parts) != 4 || parts[0] != "" || parts[1] != "metadata" || parts[2] != "annotations" {
			t.Errorf("pointer %s is not an annotation", p)
			continue
		}
		got = append(got, unescape.Replace(parts[3]))
	}
	if strings.Join(got, " ") != gpu.PausedAnnotation+" "+gpu.UnpauseUntilAnnotation {
		t.Errorf("pointers name %v", got)
	}
	if strings.Join(app.Spec.SyncPolicy.SyncOptions, " ") != "RespectIgnoreDifferences=true" {
		t.Errorf("sync options %v", app.Spec.SyncPolicy.SyncOptions)
	}
}
