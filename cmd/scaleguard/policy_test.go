package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckWithPolicies(t *testing.T) {
	cases := map[string]struct {
		args      []string
		code      int
		stdout    []string
		stderr    string
		notStderr string
	}{
		"a policy file relaxes target-ref": {
			args: []string{"check", "-f", "testdata/denied.yaml", "--policy", "testdata/policy/target-ref-warn.yaml"},
			code: 0, stdout: []string{"warn [target-ref] spec.scaleTargetRef.apiVersion:", "2 objects: 0 denied, 1 warned"},
			notStderr: "found among the manifests",
		},
		"two policy files merge: the strictest action wins": {
			args: []string{"check", "-f", "testdata/denied.yaml", "--policy", "testdata/policy/target-ref-warn.yaml", "--policy", "testdata/policy/insist.yaml"},
			code: 1, stdout: []string{"deny [target-ref]", "1 denied"},
		},
		"a policy among the manifests is used, and said": {
			args: []string{"check", "-f", "testdata/with-policy"},
			code: 0, stdout: []string{`warn [target-ref] spec.scaleTargetRef.apiVersion:`, `(exempted by ScaleGuardPolicy "exempt-migration" until 2999-01-01T00:00:00Z: migrating to ModelServing, OPS-7)`, "3 objects: 0 denied, 1 warned"},
			stderr: `judging with the ScaleGuardPolicy found among the manifests: "exempt-migration" (testdata/with-policy/exempt.yaml:1)` + "\n",
		},
		"an invalid policy": {
			args: []string{"check", "-f", "testdata/denied.yaml", "--policy", "testdata/policy/invalid.yaml"},
			code: 2, stderr: `testdata/policy/invalid.yaml:1: ScaleGuardPolicy "typo": spec.rules[target-rf]: Not found: "target-rf"`,
		},
		"an unknown field": {
			args: []string{"check", "-f", "testdata/denied.yaml", "--policy", "testdata/policy/unknown-field.yaml"},
			code: 2, stderr: `unknown field "spec.rule" (the API server drops fields it does not know)`,
		},
		"not a policy": {
			args: []string{"check", "-f", "testdata/denied.yaml", "--policy", "testdata/denied.yaml"},
			code: 2, stderr: "testdata/denied.yaml:1: --policy: a workload.serving.volcano.sh/v1alpha1 ModelServing, not a ScaleGuardPolicy",
		},
		"stdin": {
			args: []string{"check", "-f", "testdata/denied.yaml", "--policy", "-"},
			code: 2, stderr: "--policy reads files and folders, not standard input",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(stdout, s) {
					t.Errorf("stdout %q lacks %q", stdout, s)
				}
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
			if tc.notStderr != "" && strings.Contains(stderr, tc.notStderr) {
				t.Errorf("stderr %q has %q", stderr, tc.notStderr)
			}
			if strings.Count(stderr, "found among the manifests") > 1 {
				t.Errorf("said more than once: %q", stderr)
			}
		})
	}
}

func TestRulesUnderAPolicy(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "--policy", "testdata/policy/target-ref-warn.yaml", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rules []ruleUnderPolicy
	if err := json.Unmarshal([]byte(out), &rules); err != nil {
		t.Fatal(err)
	}
	got := map[string]ruleUnderPolicy{}
	for _, r := range rules {
		got[r.ID] = r
	}
	for id, want := range map[string]ruleUnderPolicy{
		"target-ref":         {ID: "target-ref", Default: "deny", Action: "Warn", Effective: "warn", AllowExemptions: true},
		"gpu-idle-cost":      {ID: "gpu-idle-cost", Default: "warn", Action: "Off", Effective: "off", AllowExemptions: false},
		"gpu-paused-default": {ID: "gpu-paused-default", Default: "mutate", Action: "Enforce", Effective: "mutate", AllowExemptions: true},
	} {
		g := got[id]
		g.Summary = ""
		if g != want {
			t.Errorf("%s: %+v, want %+v", id, g, want)
		}
	}
	code, out, _ = runCLI(t, "", "rules", "--policy", "testdata/policy/target-ref-warn.yaml")
	if code != 0 || !strings.Contains(out, `under ScaleGuardPolicy "relax-target-ref":`) ||
		!strings.Contains(out, "target-ref                     deny    warn (Warn)          allowed") ||
		!strings.Contains(out, "gpu-idle-cost                  warn    off (Off)            forbidden") {
		t.Errorf("text: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCLI(t, "", "rules", "--policy", "testdata/policy/invalid.yaml"); code != 2 || !strings.Contains(errOut, "target-rf") {
		t.Errorf("invalid policy: exit %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "rules", "--policy", "testdata/policy/insist.yaml", "-o", "markdown"); code != 2 {
		t.Errorf("markdown with --policy: exit %d, want 2", code)
	}
}
