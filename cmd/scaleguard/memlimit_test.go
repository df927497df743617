package main

import (
	"context"
	"errors"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// TestMemoryLimitFollowsTheContainer: serve's soft memory limit is the
// ratio of what the provider reports, none when it reports none, and left
// alone with a ratio of 0, a GOMEMLIMIT of the operator's, or a limit
// that cannot be read.
func TestMemoryLimitFollowsTheContainer(t *testing.T) {
	if _, ok := os.LookupEnv("AUTOMEMLIMIT"); ok {
		t.Skip("AUTOMEMLIMIT is set in this environment")
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOMEMLIMIT is set in this environment")
	}
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	const gib = 1 << 30
	notCalled := func() (uint64, error) {
		t.Error("the container's limit was read")
		return 0, nil
	}
	set := func(ratio float64, p memlimit.Provider) (int64, error) {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		return setMemoryLimit(ctx, ratio, p, logr.Discard())
	}

	if got, err := set(0.5, memlimit.Limit(gib)); err != nil || got != gib/2 || debug.SetMemoryLimit(-1) != gib/2 {
		t.Fatalf("half of 1 GiB: got %d (%v), runtime %d", got, err, debug.SetMemoryLimit(-1))
	}
	if describeMemoryLimit(gib/2) != "512 MiB" {
		t.Errorf("described as %q", describeMemoryLimit(gib/2))
	}
	if got, err := set(0.9, func() (uint64, error) { return 0, memlimit.ErrNoLimit }); err != nil || got != math.MaxInt64 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Fatalf("no limit: got %d (%v), runtime %d", got, err, debug.SetMemoryLimit(-1))
	}
	if describeMemoryLimit(math.MaxInt64) != "none" {
		t.Errorf("no limit described as %q", describeMemoryLimit(math.MaxInt64))
	}

	debug.SetMemoryLimit(3 * gib)
	if got, err := set(0, notCalled); err != nil || got != 3*gib || debug.SetMemoryLimit(-1) != 3*gib {
		t.Errorf("ratio 0: got %d (%v), runtime %d", got, err, debug.SetMemoryLimit(-1))
	}
	if _, err := set(0.9, func() (uint64, error) { return 0, errors.New("no cgroup") }); err == nil || debug.SetMemoryLimit(-1) != 3*gib {
		t.Errorf("unreadable limit: %v, runtime %d", err, debug.SetMemoryLimit(-1))
	}
	for _, bad := range []float64{-0.1, 1.5, math.NaN()} {
		if _, err := set(bad, notCalled); err == nil || checkMemoryLimitRatio(bad) == nil {
			t.Errorf("ratio %v accepted", bad)
		}
	}
	t.Setenv("GOMEMLIMIT", "3GiB")
	if got, err := set(0.9, notCalled); err != nil || got != 3*gib || debug.SetMemoryLimit(-1) != 3*gib {
		t.Errorf("GOMEMLIMIT set: got %d (%v), runtime %d", got, err, debug.SetMemoryLimit(-1))
	}
}
