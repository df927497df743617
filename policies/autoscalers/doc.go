// Package autoscalers is the catalogue of the controllers of the ecosystem
// that scale a workload's replicas besides KEDA and a plain HPA: for each
// autoscaling kind, which workload it scales, in which modes, and what its
// controller does there (creates an HPA or a ScaledObject of a known name,
// or writes the replicas itself). Like the metric catalogue of
// policies/promql, it is data: every entry cites the file and version of
// the project's source it was read from, and adding a kind is an entry
// here, a line in apis/unstructured.go and a fixture.
//
// The objects are read as unstructured data (apis.IsUnstructured): only
// the fields the catalogue names are looked at (FieldPaths), and serve's
// cache keeps only those.
package autoscalers
