// Package livequery holds the audit-only rules that judge a trigger query
// by what the live Prometheus answers to it, asked the way KEDA's
// prometheus scaler asks (an instant query at the current time): an empty
// answer, which KEDA reads as 0, and an answer of several series, which
// KEDA refuses. They read policies.Input.Live, which only the audit fills,
// so they never run on admission or in check.
package livequery
