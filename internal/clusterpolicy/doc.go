// Package clusterpolicy turns ScaleGuardPolicy objects into the settings
// the engine reads for each namespace.
//
// Which policies cover a namespace: those whose namespaceSelector matches
// the namespace's labels (kubernetes.io/metadata.name holds its name; an
// absent or empty selector matches every namespace). No policy: the
// built-in defaults. Several policies (Merge):
//
//   - each rule gets the strictest action of those they set for it
//     (Enforce over Warn over Off); a rule none of them sets keeps its
//     default, Enforce (a policy that does not list a rule has no say in
//     it, so a cluster-wide policy and a team's policy can each relax
//     different rules; list a rule at Enforce to insist on it);
//   - an object may exempt itself from a rule with scaleguard.io/exempt only
//     where every one of them allows it (allowExemptions, globally or per
//     rule: false wins);
//   - the exemptions of every one of them apply (each within the
//     namespaces its own policy covers);
//   - every other setting (GPU tier, PromQL scope profiles, conflicts,
//     targetRef, and any added later) comes from the policy whose name sorts
//     first, as a whole.
//
// Each policy's status says what that made of it (Conflicting).
//
// serve reads policies through the informer cache (Store: no API call on
// the request path); a policy whose newest generation does not parse or
// validate leaves its last good generation in force (kept in memory, and
// in status.appliedSpec across restarts) and says so in its status and in
// the metric scaleguard_policy_refused. check reads them from files (Set).
package clusterpolicy
