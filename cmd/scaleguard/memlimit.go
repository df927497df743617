package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// DefaultMemoryLimitRatio is the share of its container's memory limit
// serve gives the Go runtime as its soft limit.
const DefaultMemoryLimitRatio = 0.9

// memoryLimitRefresh is how often the container's limit is read again, so
// that a pod resized in place gets the new one.
const memoryLimitRefresh = time.Minute

// checkMemoryLimitRatio refuses a ratio that is not a share.
func checkMemoryLimitRatio(ratio float64) error {
	if math.IsNaN(ratio) || ratio < 0 || ratio > 1 {
		return fmt.Errorf("--memory-limit-ratio %v: give a share of the container's memory limit in (0, 1], or 0 to set none", ratio)
	}
	return nil
}

// setMemoryLimit gives the Go runtime a soft memory limit of ratio times
// the limit provider reports (the container's, from its cgroup), read
// again every memoryLimitRefresh until ctx ends. Without one the runtime
// lets the heap grow to twice what is live between collections whatever
// the container allows, and a cache near the limit is OOM-killed; with
// one it collects more often as the heap nears it. A ratio of 0 leaves the
// runtime as it is; so does GOMEMLIMIT, when set (or AUTOMEMLIMIT=off).
// It returns the limit in force, math.MaxInt64 for none; an error says
// the container's limit could not be read, and the runtime is left as it
// was.
func setMemoryLimit(ctx context.Context, ratio float64, provider memlimit.Provider, log logr.Logger) (int64, error) {
	if err := checkMemoryLimitRatio(ratio); err != nil {
		return 0, err
	}
	if ratio == 0 {
		return debug.SetMemoryLimit(-1), nil
	}
	return memlimit.Set(
		memlimit.WithRatio(ratio),
		memlimit.WithProvider(provider),
		memlimit.WithLogger(slog.New(logr.ToSlogHandler(log))),
		memlimit.WithRefreshInterval(ctx, memoryLimitRefresh),
	)
}

// describeMemoryLimit renders a limit of setMemoryLimit for the log.
func describeMemoryLimit(limit int64) string {
	if limit == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%d MiB", limit>>20)
}
