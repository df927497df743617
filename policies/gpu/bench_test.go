package gpu_test

import (
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// BenchmarkAdmitRunbook runs the admission chain (mutate, then validate)
// over the runbook's ScaledObject and Deployment, with every rule, and with
// the gpu-* rules off as the baseline of the same run.
func BenchmarkAdmitRunbook(b *testing.B) {
	t := &testing.T{}
	docs := readFile(t, "raw-vllm-deployment.yaml") + readFile(t, "raw-vllm-scaledobject.yaml")
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{}
	for _, id := range []string{gpu.PausedDefaultID, gpu.UnpausedID, gpu.IdleCostID, gpu.QuotaID, gpu.CooldownID} {
		off.Rules[id] = policies.RuleOverride{Action: policies.Off}
	}
	for name, settings := range map[string]*policies.Settings{"gpu rules off (baseline)": off, "all rules": policies.DefaultSettings()} {
		b.Run(name, func(b *testing.B) {
			req := request(&testing.T{}, docs, "", time.Now(), settings)
			e := engine()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Admit(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
