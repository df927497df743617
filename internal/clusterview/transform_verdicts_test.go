package clusterview_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// serve's cache holds objects trimmed by Transform; check's manifest view
// holds them whole. Over every example, every manifest of the published
// corpus and every rule fixture, each guarded object gets the same
// verdict, the same findings and the same patch from a view of the
// trimmed objects as from a view of the whole ones, and from serve's own
// cache view (informers, transform and indexes: the template-label index
// narrows what a monitor's selector reads) as from the manifest view. The
// audit judges stored objects as the cache holds them: each guarded
// object, trimmed, gets the findings of the whole one.
func TestTransformChangesNoVerdict(t *testing.T) {
	scenarios := ruleScenarios(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engine := policies.NewEngine(policies.Default)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	judged := 0
	for _, files := range scenarios {
		name := strings.TrimPrefix(strings.Join(files, ","), "../../")
		objs, err := manifests.Read(files, nil)
		if err != nil {
			continue // fixtures of unreadable input
		}
		var whole, trimmed []client.Object
		stored := make([][]byte, len(objs))
		for i, o := range objs {
			a, err := apis.Decode(o.GVK, o.JSON)
			if err != nil {
				continue
			}
			b, _ := apis.Decode(o.GVK, o.JSON)
			if _, err := clusterview.Transform(b); err != nil {
				t.Fatal(err)
			}
			whole, trimmed = append(whole, a), append(trimmed, b)
			raw, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			stored[i] = raw
		}
		cached := make([]client.Object, len(whole))
		for i, o := range whole {
			cached[i] = o.DeepCopyObject().(client.Object)
		}
		cacheCtx, stop := context.WithCancel(ctx)
		cache, err := bench.CacheView(cacheCtx, cached)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range objs {
			if !apis.IsGuarded(o.GVK) {
				continue
			}
			req := func(v policies.ClusterView) policies.Request {
				return policies.Request{GVK: o.GVK, Operation: policies.Create, Object: o.JSON, View: v, Now: now}
			}
			full, errFull := engine.Admit(req(clusterview.NewManifests(whole...)))
			cut, errCut := engine.Admit(req(clusterview.NewManifests(trimmed...)))
			if fmt.Sprint(errFull) != fmt.Sprint(errCut) {
				t.Errorf("%s: %s %s/%s: error %v on the whole objects, %v on the trimmed", name, o.GVK.Kind, o.Namespace, o.Name, errFull, errCut)
				continue
			}
			// The final patch lists its operations in no set order (they
			// touch distinct paths): compared as sets.
			if !reflect.DeepEqual(full.Findings, cut.Findings) || !reflect.DeepEqual(ops(full.Patch), ops(cut.Patch)) {
				t.Errorf("%s: %s %s/%s judged differently from trimmed objects:\nwhole:   %#v %s\ntrimmed: %#v %s", name, o.GVK.Kind, o.Namespace, o.Name, full.Findings, full.Patch, cut.Findings, cut.Patch)
			}
			if fromCache, errCache := engine.Admit(req(currentOperator{cache})); fmt.Sprint(errFull) != fmt.Sprint(errCache) ||
				!reflect.DeepEqual(full.Findings, fromCache.Findings) || !reflect.DeepEqual(ops(full.Patch), ops(fromCache.Patch)) {
				t.Errorf("%s: %s %s/%s judged differently by the cache view:\nmanifests: %#v %s %v\ncache:     %#v %s %v", name, o.GVK.Kind, o.Namespace, o.Name, full.Findings, full.Patch, errFull, fromCache.Findings, fromCache.Patch, errCache)
			}
			// The audit judges stored objects as the cache holds them,
			// trimmed: each gets the whole object's findings.
			if raw := stored[i]; raw != nil {
				audit := policies.Request{GVK: o.GVK, Operation: policies.Create, Object: raw, View: clusterview.NewManifests(trimmed...), Now: now}
				if got, err := engine.Admit(audit); fmt.Sprint(err) != fmt.Sprint(errFull) || !reflect.DeepEqual(full.Findings, got.Findings) {
					t.Errorf("%s: %s %s/%s judged differently as the cache holds it:\nwhole:   %#v %v\ntrimmed: %#v %v", name, o.GVK.Kind, o.Namespace, o.Name, full.Findings, errFull, got.Findings, err)
				}
			}
			judged++
		}
		stop()
	}
	if judged < 100 {
		t.Fatalf("judged %d objects; the examples and fixtures hold more", judged)
	}
	t.Logf("%d objects in %d scenarios judged alike", judged, len(scenarios))
}

// currentOperator is the cache view on a cluster whose PodMonitor CRD has
// portNumber, as the manifest view assumes (the in-memory cache serves no
// CRDs to read it from).
type currentOperator struct{ *clusterview.Cache }

func (currentOperator) PodMonitorPortNumber() bool { return true }

// ruleScenarios lists the examples (each directory one scenario), the
// manifests of the published corpus and the rule fixtures.
func ruleScenarios(t *testing.T) [][]string {
	t.Helper()
	var scenarios [][]string
	dirs, err := filepath.Glob("../../examples/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if files, _ := filepath.Glob(filepath.Join(d, "*.yaml")); len(files) > 0 {
			scenarios = append(scenarios, files)
		}
	}
	for _, pattern := range []string{"../../test/corpus/*.yaml", "../../policies/*/testdata/*.yaml", "../../policies/*/testdata/*/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			scenarios = append(scenarios, []string{f})
		}
	}
	return scenarios
}

func ops(patch []jsonpatch.Operation) []string {
	out := make([]string, len(patch))
	for i, op := range patch {
		out[i] = fmt.Sprintf("%s %s %v", op.Operation, op.Path, op.Value)
	}
	slices.Sort(out)
	return out
}
