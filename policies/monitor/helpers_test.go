package monitor_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n---\n"
}

// oldOperator is a cluster whose PodMonitor CRD predates portNumber.
type oldOperator struct{ *clusterview.Manifests }

func (oldOperator) PodMonitorPortNumber() bool { return false }

// admitOld is policytest.Admit on a cluster whose PodMonitor has no
// portNumber.
func admitOld(t *testing.T, docs string) policies.Result {
	t.Helper()
	objs, err := manifests.Parse("testdata", strings.NewReader(docs))
	if err != nil {
		t.Fatal(err)
	}
	view := clusterview.NewManifests()
	var target manifests.Object
	for _, o := range objs {
		obj, err := apis.Decode(o.GVK, o.JSON)
		if err != nil {
			t.Fatal(err)
		}
		view.Add(obj)
		if apis.IsGuarded(o.GVK) {
			target = o
		}
	}
	res, err := policies.NewEngine(policies.Default).Admit(policies.Request{
		GVK: target.GVK, Operation: policies.Create, Object: target.JSON, View: oldOperator{view},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// family keeps the findings of the monitor rules.
func family(fs []policies.Finding) []policies.Finding {
	var out []policies.Finding
	for _, f := range fs {
		if strings.HasPrefix(f.Rule, "monitor-") || f.Rule == "promql-label-source" {
			out = append(out, f)
		}
	}
	return out
}

// podMonitor decodes the object admission left.
func podMonitor(t *testing.T, raw []byte) *monitoringv1.PodMonitor {
	t.Helper()
	pm := &monitoringv1.PodMonitor{}
	if err := json.Unmarshal(raw, pm); err != nil {
		t.Fatal(err)
	}
	return pm
}

func serviceMonitor(t *testing.T, raw []byte) *monitoringv1.ServiceMonitor {
	t.Helper()
	sm := &monitoringv1.ServiceMonitor{}
	if err := json.Unmarshal(raw, sm); err != nil {
		t.Fatal(err)
	}
	return sm
}

// again admits the object admission returned, as a second apply of it
// would be, and expects no further patch.
func again(t *testing.T, docs string, c policytest.Case) {
	t.Helper()
	second := policytest.Admit(t, docs+"\n---\n"+string(c.Result.Object)+"\n")
	if len(second.Result.Patch) != 0 {
		t.Errorf("second admission patched again: %v", second.Result.Patch)
	}
	for _, f := range second.Result.Findings {
		if f.Action == policies.Mutate || f.Action == policies.Deny {
			t.Errorf("second admission: %s %s", f.Action, f)
		}
	}
}
