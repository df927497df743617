package monitor

import (
	"strconv"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	jsonpatch "gomodules.xyz/jsonpatch/v2"

	"github.com/scaleguard/scaleguard/policies"
)

// checkDeprecatedTargetPort is monitor-deprecated-targetport: a PodMonitor
// endpoint's targetPort beside port (or portNumber), which take precedence
// over it, is dropped. An endpoint whose port monitor-port rewrites or
// denies is left to monitor-port: its targetPort may be what the rewrite
// is made of, and the rewrite drops it.
func checkDeprecatedTargetPort(pm *monitoringv1.PodMonitor, in *policies.Input) []policies.Finding {
	var out []policies.Finding
	for i, ep := range pm.Spec.PodMetricsEndpoints {
		if ep.TargetPort == nil {
			continue
		}
		beside := ""
		switch {
		case ep.Port != nil && *ep.Port != "":
			beside = "port"
		case ep.PortNumber != nil && *ep.PortNumber != 0:
			beside = "portNumber"
		default:
			continue
		}
		if judgePodEndpoint(pm, i, in).fires() {
			continue
		}
		path := endpointPath(i).Child("targetPort")
		op := jsonpatch.NewOperation("remove", "/spec/podMetricsEndpoints/"+strconv.Itoa(i)+"/targetPort", nil)
		out = append(out, policies.Mutatef(path, []jsonpatch.Operation{op},
			"is deprecated, and prometheus-operator ignores it beside %s, which takes precedence; removed, %s kept", beside, beside))
	}
	return out
}
