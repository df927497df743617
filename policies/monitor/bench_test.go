package monitor_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/monitor"
)

// benchRequest builds an admission request for the last object of docs,
// with the whole stream (and extra workloads) as the view.
func benchRequest(b *testing.B, docs string, settings *policies.Settings) policies.Request {
	b.Helper()
	objs, err := manifests.Parse("bench", strings.NewReader(docs))
	if err != nil {
		b.Fatal(err)
	}
	view := clusterview.NewManifests()
	var last manifests.Object
	for _, o := range objs {
		obj, err := apis.Decode(o.GVK, o.JSON)
		if err != nil {
			b.Fatal(err)
		}
		view.Add(obj)
		last = o
	}
	return policies.Request{GVK: last.GVK, Operation: policies.Create, Object: last.JSON, View: view, Settings: settings}
}

// workloads is n Deployments spread over namespaces of ten each, none of
// which the monitor selects.
func workloads(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-%d, namespace: team-%d}
spec:
  selector: {matchLabels: {app: app-%d}}
  template:
    metadata: {labels: {app: app-%d, app.kubernetes.io/part-of: shop}}
    spec: {containers: [{name: app, image: app, ports: [{name: http, containerPort: 8080}]}]}
---
`, i, i/10, i, i)
	}
	return b.String()
}

// BenchmarkAdmitPodMonitor runs the admission chain over the Kthena PR's
// PodMonitor: alone with its ModelServing (rewritten, so the engine applies
// a patch), as scaleguard leaves it (nothing to patch), and among 2,000
// other Deployments with namespaceSelector any: true (every workload's
// template is read); with the family off as the baseline of the same run.
func BenchmarkAdmitPodMonitor(b *testing.B) {
	t := &testing.T{}
	pr := testdata(t, "kthena-pr.yaml")
	wide := strings.Replace(pr, "  selector:\n", "  namespaceSelector: {any: true}\n  selector:\n", 1)
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{}
	for _, id := range []string{monitor.PortID, monitor.DeprecatedTargetPortID, monitor.OvermatchID, monitor.NoTargetsID} {
		off.Rules[id] = policies.RuleOverride{Action: policies.Off}
	}
	for _, c := range []struct {
		name string
		docs string
	}{
		{"alone", pr},
		{"alone, as fixed (no patch)", strings.Replace(pr, "    - port: http\n      targetPort: 8000\n", "    - portNumber: 8000\n", 1)},
		{"any namespace, 2000 deployments", workloads(2000) + wide},
	} {
		for _, s := range []struct {
			name     string
			settings *policies.Settings
		}{{"family off (baseline)", off}, {"family on", policies.DefaultSettings()}} {
			b.Run(c.name+"/"+s.name, func(b *testing.B) {
				req := benchRequest(b, c.docs, s.settings)
				e := policies.NewEngine(policies.Default)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.Admit(req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
