// Package all registers every rule family into policies.Default.
package all

import (
	// Rule families register themselves in init.
	_ "github.com/scaleguard/scaleguard/policies/conflict"
	_ "github.com/scaleguard/scaleguard/policies/gpu"
	_ "github.com/scaleguard/scaleguard/policies/livequery"
	_ "github.com/scaleguard/scaleguard/policies/monitor"
	_ "github.com/scaleguard/scaleguard/policies/promql"
	_ "github.com/scaleguard/scaleguard/policies/targetref"
)
