package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// A repository as teams keep one: the plain manifests are judged, the
// overlays rendered (staging's namespace makes the base's query cross
// namespaces), and the Helm chart, values, CI configuration and the
// overlay's patch file are skipped, each with its reason.
func TestCheckARepository(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "check", "--verbose", "-f", "testdata/repo")
	if code != 1 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	golden(t, "repo.golden", "$ scaleguard check --verbose -f testdata/repo\n"+stdout+"--- stderr\n"+stderr)
	for _, unwanted := range []string{"scaledobject-patch.yaml", "kustomization.yaml:"} {
		if strings.Contains(stdout, unwanted) {
			t.Errorf("a kustomize input was judged as an object (%s):\n%s", unwanted, stdout)
		}
	}
}

// A file that cannot be parsed is an error naming it and its line; the
// other files are judged and their findings printed all the same.
func TestCheckABrokenFileInAFolder(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"denied.yaml", "broken.yaml", "clean.yaml"} {
		raw, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "", "check", "-f", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, filepath.Join(dir, "broken.yaml")+":4: yaml:") {
		t.Errorf("stderr does not name the broken file and line:\n%s", stderr)
	}
	if !strings.Contains(stdout, "deny [target-ref]") || !strings.Contains(stdout, "5 objects: 1 denied") {
		t.Errorf("the other files were not judged:\n%s", stdout)
	}
}

// --fix writes what the mutating webhook would change, --diff prints it as
// a patch git applies to the same result, and a second --fix changes
// nothing.
func TestCheckFixAndDiff(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	fixed, diffed := t.TempDir(), t.TempDir()
	for _, dir := range []string{fixed, diffed} {
		if out, err := exec.Command("cp", "-r", "testdata/repo/.", dir).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	t.Chdir(diffed)
	code, patch, stderr := runCLI(t, "", "check", "-f", ".", "--diff")
	if code != 1 || !strings.Contains(patch, "+++ b/manifests/raw-vllm.yaml") || !strings.Contains(stderr, "deny [promql-unscoped]") {
		t.Fatalf("--diff: exit %d\n%s\n%s", code, patch, stderr)
	}
	apply := exec.Command(git, "apply", "-")
	apply.Stdin = strings.NewReader(patch)
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("git apply: %v: %s\n%s", err, out, patch)
	}

	t.Chdir(fixed)
	if code, _, stderr := runCLI(t, "", "check", "-f", ".", "--fix"); code != 1 || !strings.Contains(stderr, "fixed manifests/raw-vllm.yaml") {
		t.Fatalf("--fix: exit %d\n%s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(fixed, "manifests/raw-vllm.yaml"))
	b, _ := os.ReadFile(filepath.Join(diffed, "manifests/raw-vllm.yaml"))
	if string(a) != string(b) || !strings.Contains(string(a), "autoscaling.keda.sh/paused: \"true\"") {
		t.Errorf("--fix and --diff disagree:\n%s\n---\n%s", a, b)
	}
	code, stdout, stderr := runCLI(t, "", "check", "-f", ".", "--fix")
	if code != 1 || strings.Contains(stderr, "fixed") || !strings.Contains(stdout, "0 mutated") {
		t.Errorf("second --fix: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
