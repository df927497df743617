package main

import (
	"strings"
	"testing"
)

// TestAuditUsageErrors covers what fails before any cluster is read; the
// audit of a live cluster is tested against the demo's control plane
// (test/integration, TestDemoRunsAndStopsOnInterrupt).
func TestAuditUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args   []string
		stderr string
	}{
		"bad output":         {[]string{"audit", "-o", "yaml"}, `unknown output "yaml": use text, json, sarif, github, junit`},
		"bad prometheus":     {[]string{"audit", "--prometheus", "prometheus:9090"}, `--prometheus: "prometheus:9090" is not an http or https URL`},
		"prometheus query":   {[]string{"audit", "--prometheus", "http://p:9090/?x=1"}, "has a query or fragment"},
		"missing kubeconfig": {[]string{"audit", "--kubeconfig", "testdata/nope"}, "loading the kubeconfig: stat testdata/nope: no such file or directory"},
		"stray argument":     {[]string{"audit", "serving"}, "unknown command"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tc.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tc.stderr)
			}
		})
	}
}
