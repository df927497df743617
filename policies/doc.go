// Package policies is scaleguard's engine: rules, their registry, their
// settings and the ClusterView they read.
//
// A rule is a pure function of the object under judgement, a read-only
// ClusterView of related objects and the effective Settings. It returns
// findings: deny, warn, or mutate (a JSON patch with its reason). Rules do no
// I/O, read no clock and keep no state, so the webhook (serve), the offline
// CLI (check) and any other entry point reach the same verdict for the same
// inputs.
//
// Each rule family lives in its own package under policies/ and registers
// its rules in init; policies/all imports every family.
package policies
