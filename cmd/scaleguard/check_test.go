package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCheckExitCodes(t *testing.T) {
	clean, err := os.ReadFile("testdata/clean.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		"nothing denied":     {"", []string{"check", "-f", "testdata/clean.yaml"}, 0, "3 objects: 0 denied, 0 warned, 0 mutated", ""},
		"denied":             {"", []string{"check", "-f", "testdata/denied.yaml"}, 1, "ScaledObject default/my-modelserving: deny [target-ref] spec.scaleTargetRef.apiVersion:", ""},
		"stdin":              {string(clean), []string{"check", "-f", "-"}, 0, "3 objects", ""},
		"unreadable file":    {"", []string{"check", "-f", "testdata/broken.yaml"}, 2, "", "testdata/broken.yaml:4: yaml:"},
		"missing file":       {"", []string{"check", "-f", "testdata/nope.yaml"}, 2, "", "testdata/nope.yaml: no such file or directory"},
		"no input":           {"", []string{"check"}, 2, "", "no input"},
		"bad output":         {"", []string{"check", "-o", "yaml", "-f", "testdata/clean.yaml"}, 2, "", `unknown output "yaml"`},
		"unknown flag":       {"", []string{"check", "--nope"}, 2, "", "unknown flag"},
		"both files, denied": {"", []string{"check", "-f", "testdata/clean.yaml", "-f", "testdata/denied.yaml"}, 1, "5 objects: 1 denied", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) {
				t.Errorf("stdout %q lacks %q", stdout, tc.stdout)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
		})
	}
}

func TestCheckJSONContract(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "check", "-o", "json", "-f", "testdata/denied.yaml")
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(doc) != 2 {
		t.Errorf("top-level keys %v, want findings and summary", keys(doc))
	}
	findings, _ := doc["findings"].([]any)
	if len(findings) != 1 {
		t.Fatalf("findings = %v", doc["findings"])
	}
	f := findings[0].(map[string]any)
	if got := strings.Join(keys(f), ","); got != "action,apiVersion,field,file,kind,line,message,name,namespace,rule" {
		t.Errorf("finding keys = %s", got)
	}
	want := map[string]any{
		"kind": "ScaledObject", "apiVersion": "keda.sh/v1alpha1", "namespace": "default", "name": "my-modelserving",
		"rule": "target-ref", "action": "deny", "field": "spec.scaleTargetRef.apiVersion",
		"file": "testdata/denied.yaml", "line": 10.0,
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %v, want %v", k, f[k], v)
		}
	}
	sum := doc["summary"].(map[string]any)
	if got := strings.Join(keys(sum), ","); got != "denied,mutated,objects,skipped,warned" {
		t.Errorf("summary keys = %s", got)
	}
	if sum["objects"] != 2.0 || sum["denied"] != 1.0 || sum["warned"] != 0.0 || sum["mutated"] != 0.0 {
		t.Errorf("summary = %v", sum)
	}

	code, stdout, _ = runCLI(t, "", "check", "-o", "json", "-f", "testdata/clean.yaml")
	if code != 0 || !strings.Contains(stdout, `"findings": []`) {
		t.Errorf("clean: exit %d, findings must be an empty list: %s", code, stdout)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}
