package server

import (
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestExcludedNamespacesAreTheWebhooksOnes keeps the keeper's exclusions
// and the shipped webhook configurations' namespaceSelector the same list.
func TestExcludedNamespacesAreTheWebhooksOnes(t *testing.T) {
	raw, err := os.ReadFile("../../config/webhook/manifests.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join(ExcludedNamespaces, ",")
	seen := 0
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		var cfg struct {
			Webhooks []struct {
				Name              string `json:"name"`
				NamespaceSelector struct {
					MatchExpressions []struct {
						Key      string   `json:"key"`
						Operator string   `json:"operator"`
						Values   []string `json:"values"`
					} `json:"matchExpressions"`
				} `json:"namespaceSelector"`
			} `json:"webhooks"`
		}
		if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
			t.Fatal(err)
		}
		for _, w := range cfg.Webhooks {
			seen++
			exprs := w.NamespaceSelector.MatchExpressions
			if len(exprs) == 0 || exprs[0].Operator != "NotIn" || strings.Join(exprs[0].Values, ",") != want {
				t.Errorf("%s excludes %+v, the keeper excludes %s", w.Name, exprs, want)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no webhooks read")
	}
}
