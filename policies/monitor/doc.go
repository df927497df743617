// Package monitor holds the rules about PodMonitors and ServiceMonitors:
// whether a monitor really scrapes the pods an autoscaler reads
// (monitor-port, monitor-deprecated-targetport, monitor-selector-overmatch,
// monitor-no-targets), and whether a ScaledObject's query filters on labels
// the monitors of its target produce (promql-label-source).
//
// A monitor selects pods, and scaleguard never caches Pods (their number
// would dominate the webhook's memory): it resolves what a monitor selects
// through the pod templates of the workloads in the view (Deployments,
// StatefulSets, DaemonSets, Argo Rollouts, LeaderWorkerSets, Kthena
// ModelServings and, before KServe has created their Deployment,
// InferenceService predictors), with the labels each workload's controller
// adds to its pods. A label the controller sets per pod (a pod-template-hash,
// a group index) is present with a value scaleguard cannot know, so a
// selector on its value may or may not match; a template whose labels or
// ports come from somewhere scaleguard does not read (a KServe
// ServingRuntime) is never the ground for a denial.
//
// promql-label-source lives here rather than in package promql because what
// it knows is what a monitor produces: prometheus-operator's target labels,
// podTargetLabels, targetLabels and relabelings. Its reading of the query is
// a walk over the vector selectors that Prometheus's parser returns.
//
// What prometheus-operator generates from a monitor follows
// pkg/prometheus/promcfg.go (generatePodMonitorConfig and
// generateServiceMonitorConfig, v0.79 to v0.95): an endpoint's port is a
// regular expression kept against __meta_kubernetes_pod_container_port_name
// (PodMonitor) or the endpoint port name (ServiceMonitor) and takes
// precedence over portNumber, which takes precedence over targetPort; the
// target labels are namespace, pod, container, job, endpoint (port or
// targetPort, not portNumber) and, for a ServiceMonitor, service.
package monitor
