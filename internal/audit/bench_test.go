package audit

import (
	"context"
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
)

// BenchmarkScan is one full-speed scan of 300 GPU ScaledObjects and their
// Deployments (no Gate, no live check).
func BenchmarkScan(b *testing.B) {
	objs := fleet(300)
	view := clusterview.NewManifests(objs...)
	src := &objectsSource{objs: objs, view: view}
	s := &Scanner{Engine: policies.NewEngine(policies.Default)}
	for i := 0; i < b.N; i++ {
		if _, err := s.Scan(context.Background(), src, view, nil, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
