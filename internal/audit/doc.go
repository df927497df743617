// Package audit judges what is already stored in the cluster: every
// guarded object, read from the informer cache (serve) or listed once
// (`scaleguard audit`), goes through the same engine as on admission, as a
// CREATE of the object as stored (the validating phase; what the mutating
// phase would change is reported as "would change"). Nothing judged is
// written to.
//
// In serve, the Auditor scans on a period and on demand (Trigger; a change
// of the policies in force triggers it through Debounced), writes
// one report per namespace (OpenReports Report, else wgpolicyk8s.io
// PolicyReport, else none), sets scaleguard_audit_findings, records an
// Event on each object whose verdict changed and hands per-rule counts to a
// CountSink. A scan yields to admission requests (Gate).
//
// With a Prometheus address, each prometheus trigger query is also sent to
// Prometheus the way KEDA's prometheus scaler sends it (LiveCheck), and
// the audit-only rules of policies/livequery judge the answers.
package audit
