package monitor

import (
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

// Rule IDs of the family.
const (
	PortID                 = "monitor-port"
	DeprecatedTargetPortID = "monitor-deprecated-targetport"
	OvermatchID            = "monitor-selector-overmatch"
	NoTargetsID            = "monitor-no-targets"
	LabelSourceID          = "promql-label-source"
)

var monitors = []schema.GroupVersionKind{apis.PodMonitor, apis.ServiceMonitor}

func init() {
	policies.MustRegister(
		policies.Rule{
			ID: PortID, Kinds: monitors, Action: policies.Mutate, MayDeny: true,
			Summary: "an endpoint's port matches no port of the pods (PodMonitor) or Services (ServiceMonitor) it selects; rewritten to the one port that exists, else denied with the ports listed",
			Doc:     portDoc,
			Check: func(in *policies.Input) []policies.Finding {
				switch m := in.Object.(type) {
				case *monitoringv1.PodMonitor:
					return checkPodMonitorPorts(m, in)
				case *monitoringv1.ServiceMonitor:
					return checkServiceMonitorPorts(m, in)
				}
				return nil
			},
		},
		policies.Rule{
			ID: DeprecatedTargetPortID, Kinds: []schema.GroupVersionKind{apis.PodMonitor}, Action: policies.Mutate,
			Summary: "a PodMonitor endpoint's deprecated targetPort beside port or portNumber, which take precedence over it, is removed",
			Doc:     deprecatedTargetPortDoc,
			Check:   policies.On(checkDeprecatedTargetPort),
		},
		policies.Rule{
			ID: OvermatchID, Kinds: []schema.GroupVersionKind{apis.ServiceMonitor}, Action: policies.Mutate,
			Summary: "a ServiceMonitor's selector also matches Services without the endpoints' ports; narrowed by a label that tells them apart, else warned",
			Doc:     overmatchDoc,
			Check:   policies.On(checkOvermatch),
		},
		policies.Rule{
			ID: NoTargetsID, Kinds: monitors, Action: policies.Warn, MayDeny: true,
			Summary: "a monitor selects nothing now (warned: its workload may come later); a namespace or selector value that can never match (an unrendered template) is denied",
			Doc:     noTargetsDoc,
			Check: func(in *policies.Input) []policies.Finding {
				switch m := in.Object.(type) {
				case *monitoringv1.PodMonitor:
					return checkNoTargetsPod(m, in)
				case *monitoringv1.ServiceMonitor:
					return checkNoTargetsService(m, in)
				}
				return nil
			},
		},
		policies.Rule{
			ID: LabelSourceID, Kinds: []schema.GroupVersionKind{apis.ScaledObject}, Action: policies.Warn,
			Summary: "a ScaledObject's query filters on a label (a pod label, service, endpoint) that none of the monitors scraping its target's pods produces",
			Doc:     labelSourceDoc,
			Check: policies.On(func(so *kedav1alpha1.ScaledObject, in *policies.Input) []policies.Finding {
				return checkLabelSource(so, in)
			}),
		},
	)
}

const portDoc = `
A PodMonitor endpoint's ` + "`port`" + ` names a container port of the pods it selects
(prometheus-operator keeps targets whose port name matches it, as a regular
expression); ` + "`portNumber`" + ` and the deprecated ` + "`targetPort`" + ` select by number, and
Prometheus discovers only declared ports. A ServiceMonitor endpoint's ` + "`port`" + `
names a Service port, its ` + "`targetPort`" + ` a container port of the Services' pods.
When nothing the monitor selects has the port, Prometheus scrapes nothing,
silently, and KEDA reads the empty result as zero and scales to the minimum.

scaleguard resolves what the monitor selects through the pod templates of
the workloads in its view (Pods are not cached) and:

- rewrites the endpoint when the fix is unambiguous: to the number written
  beside the port name (a ` + "`targetPort`" + ` or ` + "`portNumber`" + ` the name took precedence
  over), or to the one port number every selected pod declares
  (` + "`portNumber`" + `, or ` + "`targetPort`" + ` when the cluster's PodMonitor CRD predates
  prometheus-operator v0.79; serve reads the installed CRD, check assumes a
  current one); a ServiceMonitor's ` + "`port`" + ` is rewritten to the one port name
  every selected Service has;
- rewrites ` + "`port: \"8000\"`" + `, a number written as a string, to ` + "`portNumber: 8000`" + `:
  it is still a port name, and port names need a letter;
- otherwise denies, listing the ports that exist.

Nothing is judged when the monitor selects nothing (see monitor-no-targets),
when a selected workload's ports come from somewhere scaleguard does not read
(a KServe ServingRuntime), when a selected Service's endpoints are written by
hand (no selector), or for the ports service meshes inject into pods (Istio's
` + "`http-envoy-prom`" + ` 15090, Linkerd's ` + "`linkerd-admin`" + ` 4191). Pods scaleguard does
not see through a workload (bare Pods, Jobs) are not counted: a monitor that
selects only those selects nothing as far as scaleguard can tell.
`

const deprecatedTargetPortDoc = `
A PodMonitor endpoint's ` + "`targetPort`" + ` is deprecated, and prometheus-operator
ignores it when ` + "`port`" + ` or ` + "`portNumber`" + ` is set (port takes precedence over
portNumber, which takes precedence over targetPort). The Kthena KEDA pull
request wrote ` + "`port: http`" + ` and ` + "`targetPort: 8000`" + ` together, as if both applied.
The field is removed and ` + "`port`" + ` kept. When the port name matches nothing,
monitor-port rewrites the endpoint instead (using the targetPort's number
when the pods declare it).
`

const overmatchDoc = `
A ServiceMonitor whose endpoints select Service ports by name, and whose
selector also matches Services that have none of those ports (Kthena's
` + "`kthena-router`" + ` and ` + "`kthena-router-webhook`" + ` Services both carry
` + "`app.kubernetes.io/component: kthena-router`" + `; only the first has ` + "`http`" + `):
Prometheus discovers the extra Services' endpoints only to drop them. When
one label has a value that every matching Service with the port carries and
none without it, it is added to ` + "`matchLabels`" + `; otherwise the extra Services
are named in a warning. An endpoint that selects by ` + "`targetPort`" + ` may scrape
any of the Services, so the rule says nothing then.
`

const noTargetsDoc = `
A monitor whose selector matches no pod template (PodMonitor) or Service
(ServiceMonitor) in the namespaces it looks in (its own, ` + "`namespaceSelector.matchNames`" + `,
or every namespace with ` + "`any: true`" + `) scrapes nothing. It may be applied
before its workload, so this is a warning. A ` + "`namespaceSelector.matchNames`" + `
entry that is not a namespace name, or a selector key or value that is not a
valid label (an unrendered template such as ` + "`{{ .Release.Namespace }}`" + `), can
never match, and prometheus-operator rejects a monitor with an invalid
selector: that is denied, at its field.
`

const labelSourceDoc = `
When at least one monitor selects the pods of a ScaledObject's target, a
query that filters on a label none of them gives the series matches
nothing, and the autoscaler reads no value. prometheus-operator gives every
target namespace, pod, container and job (Prometheus adds instance);
endpoint, unless the endpoint selects its port by portNumber; service only
for a ServiceMonitor. A pod label becomes a series label only through
` + "`podTargetLabels`" + ` (sanitized: ` + "`modelserving.volcano.sh/name`" + ` becomes
` + "`modelserving_volcano_sh_name`" + `), a Service label only through ` + "`targetLabels`" + `,
anything else through relabelings. The rule judges only labels a monitor
would produce (service, endpoint, and the sanitized keys of the target's pod
labels), on metrics the target's pods emit (not those of a shared component
with a scope profile of its own, such as the Kthena router); a Prometheus
resource's own podTargetLabels are not visible to scaleguard, so this is a
warning.
`
