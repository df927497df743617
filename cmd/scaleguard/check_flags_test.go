package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestCheckFlags(t *testing.T) {
	// warned.yaml warns (gpu-idle-cost) and denies nothing.
	warned := `apiVersion: apps/v1
kind: Deployment
metadata: {name: llm}
spec:
  template:
    spec:
      containers: [{name: vllm, resources: {limits: {nvidia.com/gpu: 1}}}]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: llm
  annotations: {autoscaling.keda.sh/paused: "true"}
spec:
  scaleTargetRef: {name: llm}
  minReplicaCount: 1
  triggers: [{type: cpu, metricType: Utilization, metadata: {value: "60"}}]
`
	cases := map[string]struct {
		stdin          string
		args           []string
		code           int
		stdout, stderr string
		notStdout      string
	}{
		"warn passes by default":         {warned, []string{"-f", "-"}, 0, "warn [gpu-idle-cost]", "", ""},
		"--fail-on warn":                 {warned, []string{"-f", "-", "--fail-on", "warn"}, 1, "warn [gpu-idle-cost]", "", ""},
		"--quiet drops what passes":      {warned, []string{"-f", "-", "-q"}, 0, "", "", "gpu-idle-cost"},
		"--quiet keeps what fails":       {warned, []string{"-f", "-", "-q", "--fail-on", "warn"}, 1, "warn [gpu-idle-cost]", "", "objects:"},
		"--namespace":                    {warned, []string{"-f", "-", "--namespace", "serving"}, 0, "ScaledObject serving/llm", "", ""},
		"namespace kept when written":    {"", []string{"-f", "testdata/clean.yaml", "-n", "other"}, 0, "3 objects", "", ""},
		"--exclude":                      {"", []string{"-f", "testdata", "--exclude", "denied.yaml", "--exclude", "broken.yaml", "--exclude", "repo", "--exclude", "policy", "--exclude", "with-policy"}, 0, "3 objects: 0 denied", "", ""},
		"bad --fail-on":                  {"", []string{"-f", "-", "--fail-on", "info"}, 2, "", `unknown --fail-on "info"`, ""},
		"bad --exclude":                  {"", []string{"-f", "-", "--exclude", "[x"}, 2, "", `bad pattern "[x"`, ""},
		"empty --namespace":              {"", []string{"-f", "-", "--namespace", ""}, 2, "", "--namespace must not be empty", ""},
		"github output":                  {warned, []string{"-f", "-", "-o", "github"}, 0, "::warning title=scaleguard gpu-idle-cost::ScaledObject default/llm", "", ""},
		"junit output":                   {warned, []string{"-f", "-", "-o", "junit", "--fail-on", "warn"}, 1, `<testsuite name="scaleguard check" tests="1" failures="1"`, "", ""},
		"sarif output":                   {warned, []string{"-f", "-", "-o", "sarif"}, 0, `"version": "2.1.0"`, "", ""},
		"text is not coloured in a pipe": {warned, []string{"-f", "-"}, 0, "", "", "\x1b["},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.stdin, append([]string{"check"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q lacks %q or stderr %q lacks %q", stdout, tc.stdout, stderr, tc.stderr)
			}
			if tc.notStdout != "" && strings.Contains(stdout, tc.notStdout) {
				t.Errorf("stdout has %q:\n%s", tc.notStdout, stdout)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(t, "", args...)
		if code != 0 || !strings.HasPrefix(out, "scaleguard ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

func TestEveryCommandHasExamples(t *testing.T) {
	for _, c := range newRootCommand().Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		code, out, _ := runCLI(t, "", c.Name(), "--help")
		if code != 0 || !strings.Contains(out, "Examples:\n") {
			t.Errorf("%s --help: exit %d, no examples:\n%s", c.Name(), code, out)
		}
	}
}

// The shell completion scripts ask the binary through __complete.
func TestOutputValuesComplete(t *testing.T) {
	for cmd, want := range map[string]string{
		"check": "text\njson\nsarif\ngithub\njunit\n:4\n",
		"rules": "text\nmarkdown\njson\n:4\n",
	} {
		code, out, _ := runCLI(t, "", "__complete", cmd, "-o", "")
		if code != 0 || !strings.HasPrefix(out, want) {
			t.Errorf("__complete %s -o: exit %d\n%s\nwant\n%s", cmd, code, out, want)
		}
	}
	if code, out, _ := runCLI(t, "", "completion", "bash"); code != 0 || !strings.Contains(out, "__scaleguard_") {
		t.Errorf("completion bash: exit %d", code)
	}
}
