package audit

import (
	"context"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/policies"
)

// TestSnapshotOfOneNamespace is `scaleguard audit -n` run by a user who may
// read one namespace only: kinds it may not list cluster-wide are listed in
// the namespace (the Namespace itself read by name), and without -n the
// audit refuses with the reason rather than judging an empty cluster.
func TestSnapshotOfOneNamespace(t *testing.T) {
	admin := newClient(t)
	ctx := context.Background()
	const ns = "audit-team"
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{unscoped: {Action: policies.Off}}
	settings.p.Store(off)
	workload(t, admin, ns, "team-model", `sum(vllm:num_requests_waiting)`)
	settings.p.Store(policies.DefaultSettings())

	if err := admin.Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "read-all", Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "team-reads", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "read-all"},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: "team-a", APIGroup: "rbac.authorization.k8s.io"}},
	}); err != nil {
		t.Fatal(err)
	}
	user, err := env.AddUser(envtest.User{Name: "team-a"}, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(user.Config(), client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	if _, err := audit.TakeSnapshot(rctx, c, c.RESTMapper(), ""); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("a cluster-wide snapshot by a namespace reader: %v, want forbidden", err)
	}

	snap, err := audit.TakeSnapshot(rctx, c, c.RESTMapper(), ns)
	if err != nil {
		t.Fatalf("snapshot of %s: %v", ns, err)
	}
	// RBAC lets a Role of a namespace grant reading that Namespace object
	// itself, by name: the snapshot reads it so.
	if _, ok := snap.View.Namespace(ns); !ok || len(snap.Notes) > 0 {
		t.Errorf("the Namespace %s was not read by name (notes %q)", ns, snap.Notes)
	}
	s := &audit.Scanner{Engine: policies.NewEngine(policies.Default), Namespace: ns}
	res, err := s.Scan(rctx, snap, snap.View, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep := audit.CheckReport(res, "test")
	found := false
	for _, f := range rep.Findings {
		if f.Name == "team-model" && f.Rule == unscoped && f.Action == "deny" && f.Field == "spec.triggers[0].metadata.query" {
			found = true
		}
		if f.Namespace != ns {
			t.Errorf("a finding outside %s: %+v", ns, f)
		}
	}
	if !found || !rep.Denied() || rep.Summary.Objects != 1 {
		t.Errorf("the namespace reader's audit lacks the denial of team-model: %+v", rep)
	}
}
