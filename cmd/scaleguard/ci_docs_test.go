package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// TestMain lets the test binary stand in for scaleguard: run as a program
// named scaleguard (with SCALEGUARD_AS_MAIN set) it is the command line,
// so shell commands from the docs run as written.
func TestMain(m *testing.M) {
	if os.Getenv("SCALEGUARD_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// docBlock returns the fenced block that follows <!-- file: name --> in
// docs/ci.md.
func docBlock(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/ci.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- file: " + regexp.QuoteMeta(name) + " -->\n```[a-z]*\n(.*?)```\n")
	m := re.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("docs/ci.md has no block for %s", name)
	}
	return string(m[1])
}

// shell runs a command line with bash in dir, with scaleguard on PATH
// being this test binary.
func shell(t *testing.T, dir, command string) (int, string, string) {
	t.Helper()
	bin := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(bin, "scaleguard")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", "-eo", "pipefail", "-c", command)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SCALEGUARD_AS_MAIN=1", "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// repoCopy is a copy of testdata/repo to run commands in.
func repoCopy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-r", "testdata/repo/.", dir).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return dir
}

// The GitHub Actions workflow of docs/ci.md: its scaleguard steps run as
// written on the test repository, annotate the denied lines, fail the job,
// and leave a SARIF file for the upload step.
func TestCIExamplesGitHubActions(t *testing.T) {
	// GitHub reads workflows as YAML 1.2, where "on" is a string.
	var wf struct {
		Name        string            `yaml:"name"`
		On          map[string]any    `yaml:"on"`
		Permissions map[string]string `yaml:"permissions"`
		Jobs        map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				If   string            `yaml:"if"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	dec := kyaml.NewDecoder(strings.NewReader(docBlock(t, ".github/workflows/scaleguard.yaml")))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("the workflow is not valid YAML of the expected shape: %v", err)
	}
	if _, ok := wf.On["pull_request"]; !ok || wf.Permissions["security-events"] != "write" || len(wf.Jobs) != 1 {
		t.Errorf("workflow: on %v, permissions %v", wf.On, wf.Permissions)
	}
	dir := repoCopy(t)
	var ran []string
	sarifFile := ""
	for _, step := range wf.Jobs["check"].Steps {
		switch {
		case strings.HasPrefix(step.Uses, "github/codeql-action/upload-sarif"):
			sarifFile = step.With["sarif_file"]
			if step.If != "always()" {
				t.Errorf("the upload is skipped when the check fails: if %q", step.If)
			}
		case strings.HasPrefix(step.Run, "scaleguard "):
			code, stdout, stderr := shell(t, dir, step.Run)
			ran = append(ran, step.Run)
			switch {
			case strings.Contains(step.Run, "-o github"):
				if code != 1 || !strings.Contains(stdout, "::error file=manifests/router.yaml,line=30,title=scaleguard promql-unscoped::") ||
					!strings.Contains(stdout, "::error file=apps/llama/base/scaledobject.yaml,line=20,title=scaleguard promql-cross-namespace::") {
					t.Errorf("%s: exit %d\n%s\n%s", step.Run, code, stdout, stderr)
				}
			case strings.Contains(step.Run, "-o sarif"):
				if code != 0 || step.If != "always()" {
					t.Errorf("%s: exit %d, if %q\n%s", step.Run, code, step.If, stderr)
				}
			}
		}
	}
	if len(ran) != 2 {
		t.Fatalf("ran %q, want the annotation and the SARIF steps", ran)
	}
	raw, err := os.ReadFile(filepath.Join(dir, sarifFile))
	if err != nil {
		t.Fatalf("the upload step's file: %v", err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &log); err != nil || log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 3 {
		t.Fatalf("%s: %v\n%s", sarifFile, err, raw)
	}
	if uri := log.Runs[0].Results[1].Locations[0].PhysicalLocation.ArtifactLocation.URI; uri != "manifests/router.yaml" {
		t.Errorf("result URIs are not relative to the checkout: %q", uri)
	}
}

// The pre-commit hook definition: the file at the repository's root is the
// one docs/ci.md shows, and its entry runs as pre-commit runs it (no file
// names appended) on the test repository.
func TestCIExamplesPreCommit(t *testing.T) {
	onDisk, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(onDisk) != docBlock(t, ".pre-commit-hooks.yaml") {
		t.Errorf(".pre-commit-hooks.yaml and docs/ci.md disagree")
	}
	var hooks []struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		Description   string `json:"description"`
		Entry         string `json:"entry"`
		Language      string `json:"language"`
		Files         string `json:"files"`
		PassFilenames *bool  `json:"pass_filenames"`
	}
	if err := yaml.UnmarshalStrict(onDisk, &hooks); err != nil || len(hooks) != 1 {
		t.Fatalf("hooks: %v %+v", err, hooks)
	}
	h := hooks[0]
	if h.ID != "scaleguard-check" || h.Language != "golang" || h.PassFilenames == nil || *h.PassFilenames {
		t.Errorf("hook %+v", h)
	}
	files := regexp.MustCompile(h.Files)
	for name, want := range map[string]bool{"a/b.yaml": true, "c.yml": true, "d.json": true, "e.txt": false, "f.yaml.bak": false} {
		if files.MatchString(name) != want {
			t.Errorf("files %q on %s: %v", h.Files, name, !want)
		}
	}
	dir := repoCopy(t)
	code, stdout, stderr := shell(t, dir, h.Entry)
	if code != 1 || !strings.Contains(stdout, "deny [promql-unscoped]") || strings.Contains(stdout, "mutate") || strings.Contains(stdout, "objects:") {
		t.Errorf("%s: exit %d\n%s\n%s", h.Entry, code, stdout, stderr)
	}
}
