package main

import (
	"os"
	"sort"
	"testing"
)

func sortStrings(s []string) { sort.Strings(s) }

// TestRulesDocIsGenerated fails when docs/rules.md drifts from the
// registered rules; `make docs` regenerates it.
func TestRulesDocIsGenerated(t *testing.T) {
	code, out, errOut := runCLI(t, "", "rules", "-o", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	onDisk, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatalf("%v (run make docs)", err)
	}
	if string(onDisk) != out {
		t.Fatal("docs/rules.md is out of date with the registered rules: run make docs")
	}
}

func TestRulesOutputs(t *testing.T) {
	for _, o := range []string{"text", "json", "markdown"} {
		if code, out, errOut := runCLI(t, "", "rules", "-o", o); code != 0 || out == "" {
			t.Errorf("-o %s: exit %d, %q %q", o, code, out, errOut)
		}
	}
	if code, _, _ := runCLI(t, "", "rules", "-o", "xml"); code != 2 {
		t.Errorf("unknown output: exit %d, want 2", code)
	}
}

// TestWebhookConfigurationIsGenerated fails when config/webhook/manifests.yaml
// drifts from the dispatch table and the registered rules (a kind gains or
// loses its last deny rule, say); `make manifests` regenerates it.
func TestWebhookConfigurationIsGenerated(t *testing.T) {
	code, out, errOut := runCLI(t, "", "manifests")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	onDisk, err := os.ReadFile("../../config/webhook/manifests.yaml")
	if err != nil {
		t.Fatalf("%v (run make manifests)", err)
	}
	if string(onDisk) != out {
		t.Fatal("config/webhook/manifests.yaml is out of date with the dispatch table and the rules: run make manifests")
	}
}
