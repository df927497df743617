package policies

// Live is what the audit observed of the running system for one object:
// what audit-only rules judge. The webhook and check never have it.
type Live struct {
	// Queries are the object's trigger queries that the live Prometheus
	// answered, each evaluated the way the autoscaler evaluates it.
	Queries []LiveQuery
}

// LiveQuery is the live answer to one trigger query.
type LiveQuery struct {
	// Field is the path of the query, e.g. spec.triggers[0].metadata.query.
	Field string
	// Query is the PromQL that was sent.
	Query string
	// Server is the Prometheus address the query was sent to.
	Server string
	// Series is the number of series in the answer.
	Series int
	// Labels are the label sets of the first few series (the metric name
	// included as __name__ when the answer kept it).
	Labels []map[string]string
	// IgnoreNullValues is the trigger's ignoreNullValues (KEDA's default,
	// true, reads an empty answer as 0; false makes it an error).
	IgnoreNullValues bool
}
