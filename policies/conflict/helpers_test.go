package conflict_test

import (
	"strings"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// stored judges obj the way serve does: against a view of what is stored
// (stored), which on CREATE does not hold obj yet and on UPDATE holds the
// old version (old). It returns the validating findings.
func stored(t *testing.T, stored, obj, old string) []policies.Finding {
	t.Helper()
	view := clusterview.NewManifests()
	for _, o := range parse(t, stored+"\n---\n"+old) {
		view.Add(decode(t, o))
	}
	objs := parse(t, obj)
	if len(objs) != 1 {
		t.Fatalf("want one object to judge, got %d", len(objs))
	}
	req := policies.Request{GVK: objs[0].GVK, Operation: policies.Create, Object: objs[0].JSON, View: view}
	if old != "" {
		olds := parse(t, old)
		req.Operation, req.OldObject = policies.Update, olds[0].JSON
	}
	res, err := policies.NewEngine(policies.Default).Validate(req)
	if err != nil {
		t.Fatal(err)
	}
	return res.Findings
}

func parse(t testing.TB, docs string) []manifests.Object {
	t.Helper()
	objs, err := manifests.Parse("testdata", strings.NewReader(docs))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func decode(t *testing.T, o manifests.Object) client.Object {
	t.Helper()
	return decodeB(t, o)
}

func decodeB(t testing.TB, o manifests.Object) client.Object {
	t.Helper()
	obj, err := apis.Decode(o.GVK, o.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return obj
}
