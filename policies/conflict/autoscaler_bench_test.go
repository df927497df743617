package conflict_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

// BenchmarkValidateScaledObjectBesideAutoscalers validates a ScaledObject
// in a namespace holding n AIBrix PodAutoscalers and n Knative Services on
// other workloads (the catalogue is read for every ScaledObject), against
// the same namespace without them.
func BenchmarkValidateScaledObjectBesideAutoscalers(b *testing.B) {
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("autoscalers=%d", 2*n), func(b *testing.B) {
			var docs strings.Builder
			for i := 0; i < n; i++ {
				docs.WriteString(podAutoscaler(fmt.Sprintf("pa-%d", i), fmt.Sprintf("app-%d", i), "KPA"))
				docs.WriteString(knativeService(fmt.Sprintf("svc-%d", i), ""))
			}
			view := clusterview.NewManifests()
			if n > 0 {
				for _, o := range parse(b, docs.String()) {
					view.Add(decodeB(b, o))
				}
			}
			so := parse(b, scaledObject("llm", `{name: llm}`))[0]
			engine := policies.NewEngine(policies.Default)
			req := policies.Request{GVK: so.GVK, Operation: policies.Create, Object: so.JSON, View: view}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := engine.Validate(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
