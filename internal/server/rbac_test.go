package server

import (
	"bytes"
	"os"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
)

// TestShippedRBACCoversWhatServeUses reads config/rbac and checks that the
// service account may watch every kind the cache view reads, and do what
// the pause keeper does: patch ScaledObjects, record Events, hold a Lease.
func TestShippedRBACCoversWhatServeUses(t *testing.T) {
	b, err := os.ReadFile("../../config/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var clusterRules, nsRules []rbacv1.PolicyRule
	for _, doc := range bytes.Split(b, []byte("\n---\n")) {
		var head struct{ Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatal(err)
		}
		switch head.Kind {
		case "ClusterRole":
			var r rbacv1.ClusterRole
			if err := yaml.Unmarshal(doc, &r); err != nil {
				t.Fatal(err)
			}
			clusterRules = append(clusterRules, r.Rules...)
		case "Role":
			var r rbacv1.Role
			if err := yaml.Unmarshal(doc, &r); err != nil {
				t.Fatal(err)
			}
			nsRules = append(nsRules, r.Rules...)
		}
	}
	allows := func(rules []rbacv1.PolicyRule, group, resource string, verbs ...string) bool {
		for _, v := range verbs {
			ok := false
			for _, r := range rules {
				if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, v) {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	for _, obj := range clusterview.Watched {
		gvks, _, err := apis.Scheme.ObjectKinds(obj)
		if err != nil {
			t.Fatal(err)
		}
		plural, _ := meta.UnsafeGuessKindToResource(gvks[0])
		if !allows(clusterRules, plural.Group, plural.Resource, "list", "watch") {
			t.Errorf("the ClusterRole does not let serve watch %s", plural)
		}
	}
	for _, c := range []struct {
		rules           []rbacv1.PolicyRule
		group, resource string
		verbs           []string
	}{
		{clusterRules, "keda.sh", "scaledobjects", []string{"patch"}},
		{clusterRules, "scaleguard.io", "scaleguardpolicies", []string{"list", "watch"}},
		{clusterRules, "scaleguard.io", "scaleguardpolicies/status", []string{"update"}},
		{clusterRules, "apiextensions.k8s.io", "customresourcedefinitions", []string{"list", "watch"}},
		{clusterRules, "events.k8s.io", "events", []string{"create", "patch"}},
		{nsRules, "coordination.k8s.io", "leases", []string{"get", "create", "update"}},
		// The audit replaces and deletes its reports, and reads the
		// TriggerAuthentications of the triggers it queries.
		{clusterRules, "openreports.io", "reports", []string{"list", "create", "update", "delete"}},
		{clusterRules, "wgpolicyk8s.io", "policyreports", []string{"list", "create", "update", "delete"}},
		{clusterRules, "keda.sh", "triggerauthentications", []string{"get"}},
		{clusterRules, "keda.sh", "clustertriggerauthentications", []string{"get"}},
	} {
		if !allows(c.rules, c.group, c.resource, c.verbs...) {
			t.Errorf("RBAC does not allow %v on %s.%s", c.verbs, c.resource, c.group)
		}
	}
}
