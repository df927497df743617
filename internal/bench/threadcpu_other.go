//go:build !linux

package bench

// ThreadCPU is not measured off Linux: it is always 0.
func ThreadCPU() int64 { return 0 }
