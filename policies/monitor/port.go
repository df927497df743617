package monitor

import (
	"fmt"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// portVerdict is what monitor-port makes of one endpoint: nothing (zero
// value), a rewrite to a port number or name, or a denial.
type portVerdict struct {
	field *field.Path
	// number, when non-zero, is the port number to rewrite the endpoint to.
	number int32
	// name, when set, is the Service port name to rewrite the endpoint to.
	name string
	// message says what was found and, for a rewrite, what was done.
	message string
	deny    bool
}

func (v portVerdict) fires() bool { return v.message != "" }

// podEndpointKey memoises the verdict of one PodMonitor endpoint.
type podEndpointKey struct{ index int }

// judgePodEndpoint judges the port selection of a PodMonitor endpoint.
func judgePodEndpoint(pm *monitoringv1.PodMonitor, i int, in *policies.Input) portVerdict {
	return in.Memo(podEndpointKey{i}, func() any {
		return podEndpoint(pm.Spec.PodMetricsEndpoints[i], endpointPath(i), resolvePodMonitor(pm, in), in.View.PodMonitorPortNumber())
	}).(portVerdict)
}

func endpointPath(i int) *field.Path {
	return field.NewPath("spec", "podMetricsEndpoints").Index(i)
}

// numberField is the field of a PodMonitor endpoint that takes a number.
func numberField(portNumber bool) string {
	if portNumber {
		return "portNumber"
	}
	return "targetPort"
}

func podEndpoint(ep monitoringv1.PodMetricsEndpoint, path *field.Path, t podTargets, portNumber bool) portVerdict {
	// The selection prometheus-operator applies: port, else portNumber,
	// else targetPort.
	var name, what string
	var number int32
	var f *field.Path
	switch {
	case ep.Port != nil && *ep.Port != "":
		name, what, f = *ep.Port, "port", path.Child("port")
	case ep.PortNumber != nil && *ep.PortNumber != 0:
		number, f = *ep.PortNumber, path.Child("portNumber")
	case ep.TargetPort != nil && ep.TargetPort.Type == intstr.String && ep.TargetPort.StrVal != "":
		name, what, f = ep.TargetPort.StrVal, "targetPort", path.Child("targetPort")
	case ep.TargetPort != nil && ep.TargetPort.Type == intstr.Int && ep.TargetPort.IntVal != 0:
		number, f = ep.TargetPort.IntVal, path.Child("targetPort")
	default:
		return portVerdict{}
	}
	to := numberField(portNumber)
	if number != 0 {
		if injectedNumber(number) || !judgeable(t.templates) || anyTemplate(t.templates, func(p podTemplate) bool { return p.hasPortNumber(number) }) {
			return portVerdict{}
		}
		fix := "declare the port in the pod template"
		if n, ok := onlyNumber(t.templates); ok {
			fix = fmt.Sprintf("write %s: %d, or declare containerPort %d in the pod template", to, n, number)
		}
		return portVerdict{field: f, deny: true, message: fmt.Sprintf(
			"%d is not a declared container port of the pods it selects (%s), and Prometheus keeps only declared ports, so it scrapes nothing from them; %s",
			number, describePorts(t.templates), fix)}
	}

	if n, ok := numericName(name); ok {
		// A number written as a string is still a name, and port names
		// need a letter: it can never match. The number is what was meant,
		// unless the pods are known not to declare it.
		if !judgeable(t.templates) || anyTemplate(t.templates, func(p podTemplate) bool { return p.hasPortNumber(n) }) {
			return portVerdict{field: f, number: n, message: fmt.Sprintf(
				"%q is a port name (a string), and port names need a letter, so it can never match; rewritten to %s: %d, the field that takes a number",
				name, to, n)}
		}
	}
	if injectedName(name) || !judgeable(t.templates) {
		return portVerdict{}
	}
	matches := nameMatcher(name)
	if anyTemplate(t.templates, func(p podTemplate) bool { return p.hasPortNamed(matches) }) {
		return portVerdict{}
	}
	found := fmt.Sprintf("%s %q names no container port of the pods it selects (%s), so Prometheus scrapes nothing from them", what, name, describePorts(t.templates))
	if _, ok := numericName(name); ok {
		found = fmt.Sprintf("%s %q is a port name (a string), not a number, and names no container port of the pods it selects (%s), so Prometheus scrapes nothing from them", what, name, describePorts(t.templates))
	}
	// The number written beside the name (which the name overrode), when
	// the pods declare it; else the one port every pod declares.
	if what == "port" {
		if n, field := besideNumber(ep, t.templates); n != 0 {
			return portVerdict{field: f, number: n, message: fmt.Sprintf("%s; rewritten to %s: %d, the %s written beside it (port took precedence over it)", found, to, n, field)}
		}
	}
	if n, ok := onlyNumber(t.templates); ok {
		return portVerdict{field: f, number: n, message: fmt.Sprintf("%s; rewritten to %s: %d, the one port they declare", found, to, n)}
	}
	return portVerdict{field: f, deny: true, message: found + "; " + portFix(t.templates, "port", to)}
}

// besideNumber is the number a PodMetricsEndpoint states besides its port
// name (portNumber, or targetPort as a number or as the name of a declared
// port), when the pods declare it.
func besideNumber(ep monitoringv1.PodMetricsEndpoint, ts []podTemplate) (int32, string) {
	var n int32
	var f string
	switch {
	case ep.PortNumber != nil && *ep.PortNumber != 0:
		n, f = *ep.PortNumber, "portNumber"
	case ep.TargetPort != nil && ep.TargetPort.Type == intstr.Int:
		n, f = ep.TargetPort.IntVal, "targetPort"
	case ep.TargetPort != nil && ep.TargetPort.StrVal != "":
		matches := nameMatcher(ep.TargetPort.StrVal)
		for _, t := range ts {
			for _, p := range t.ports() {
				if p.Name != "" && matches(p.Name) {
					if n != 0 && n != p.ContainerPort {
						return 0, ""
					}
					n, f = p.ContainerPort, "targetPort"
				}
			}
		}
	}
	if n == 0 || !anyTemplate(ts, func(p podTemplate) bool { return p.hasPortNumber(n) }) {
		return 0, ""
	}
	return n, f
}

// portFix says how to pick among the ports pods declare: by name in
// byName, by number in byNumber.
func portFix(ts []podTemplate, byName, byNumber string) string {
	var names []string
	var numbers []string
	seen := map[string]bool{}
	for _, t := range ts {
		for _, p := range t.ports() {
			if p.Name != "" && !seen["n"+p.Name] {
				seen["n"+p.Name] = true
				names = append(names, p.Name)
			}
			if n := strconv.Itoa(int(p.ContainerPort)); !seen[n] {
				seen[n] = true
				numbers = append(numbers, n)
			}
		}
	}
	switch {
	case len(numbers) == 0:
		return "declare the metrics port in the pod template (ports: [{name: metrics, containerPort: <port>}]) and name it here"
	case len(numbers) == 1 && len(names) == 0:
		return fmt.Sprintf("write %s: %s if that port serves metrics, or name the port in the pod templates", byNumber, numbers[0])
	case len(names) > 0:
		return fmt.Sprintf("write %s: <one of %s> or %s: <one of %s> for the port that serves metrics", byName, strings.Join(names, ", "), byNumber, strings.Join(numbers, ", "))
	}
	return fmt.Sprintf("write %s: <one of %s> for the port that serves metrics", byNumber, strings.Join(numbers, ", "))
}

// judgeable reports whether templates can ground a verdict on ports: some
// are selected, and the ports of each are known.
func judgeable(ts []podTemplate) bool {
	if len(ts) == 0 {
		return false
	}
	for _, t := range ts {
		if t.portsUnknown {
			return false
		}
	}
	return true
}

func anyTemplate(ts []podTemplate, f func(podTemplate) bool) bool {
	for _, t := range ts {
		if f(t) {
			return true
		}
	}
	return false
}

// podPortPatch rewrites endpoint i to select port number n: port (and the
// deprecated targetPort) removed, portNumber set; or, when the cluster's
// PodMonitor has no portNumber, targetPort set.
func podPortPatch(ep monitoringv1.PodMetricsEndpoint, i int, n int32, portNumber bool) []jsonpatch.Operation {
	base := "/spec/podMetricsEndpoints/" + strconv.Itoa(i)
	var ops []jsonpatch.Operation
	if ep.Port != nil {
		ops = append(ops, jsonpatch.NewOperation("remove", base+"/port", nil))
	}
	if portNumber {
		if ep.TargetPort != nil {
			ops = append(ops, jsonpatch.NewOperation("remove", base+"/targetPort", nil))
		}
		op := "add"
		if ep.PortNumber != nil {
			op = "replace"
		}
		return append(ops, jsonpatch.NewOperation(op, base+"/portNumber", n))
	}
	if ep.PortNumber != nil {
		ops = append(ops, jsonpatch.NewOperation("remove", base+"/portNumber", nil))
	}
	op := "add"
	if ep.TargetPort != nil {
		op = "replace"
	}
	return append(ops, jsonpatch.NewOperation(op, base+"/targetPort", n))
}

// checkPodMonitorPorts is monitor-port on a PodMonitor.
func checkPodMonitorPorts(pm *monitoringv1.PodMonitor, in *policies.Input) []policies.Finding {
	var out []policies.Finding
	portNumber := in.View.PodMonitorPortNumber()
	for i, ep := range pm.Spec.PodMetricsEndpoints {
		v := judgePodEndpoint(pm, i, in)
		switch {
		case !v.fires():
		case v.deny:
			out = append(out, policies.Denyf(v.field, "%s", v.message))
		default:
			out = append(out, policies.Mutatef(v.field, podPortPatch(ep, i, v.number, portNumber), "%s", v.message))
		}
	}
	return out
}

// checkServiceMonitorPorts is monitor-port on a ServiceMonitor: port names
// a Service port; targetPort a container port of the Services' pods.
func checkServiceMonitorPorts(sm *monitoringv1.ServiceMonitor, in *policies.Input) []policies.Finding {
	t := resolveServiceMonitor(sm, in)
	if len(t.services) == 0 || anyHandManaged(t.services) {
		// Endpoints written by hand name their ports, and list their
		// addresses, themselves.
		return nil
	}
	var out []policies.Finding
	for i, ep := range sm.Spec.Endpoints {
		path := field.NewPath("spec", "endpoints").Index(i)
		switch {
		case ep.Port != "":
			out = append(out, serviceEndpointPort(ep.Port, i, path.Child("port"), t.services)...)
		case ep.TargetPort != nil:
			var pods []podTemplate
			for _, svc := range t.services {
				pods = append(pods, t.pods[svc]...)
			}
			out = append(out, serviceEndpointTargetPort(*ep.TargetPort, path.Child("targetPort"), pods)...)
		}
	}
	return out
}

func serviceEndpointPort(name string, i int, f *field.Path, svcs []*corev1.Service) []policies.Finding {
	matches := nameMatcher(name)
	for _, s := range svcs {
		for _, p := range s.Spec.Ports {
			if p.Name != "" && matches(p.Name) {
				return nil
			}
		}
	}
	found := fmt.Sprintf("port %q names no port of the Services it selects (%s), so Prometheus scrapes nothing from them", name, describeServicePorts(svcs))
	if _, ok := numericName(name); ok {
		found = fmt.Sprintf("port %q is a Service port name (a string), not a number, and names no port of the Services it selects (%s), so Prometheus scrapes nothing from them; targetPort takes a container port number", name, describeServicePorts(svcs))
	}
	// The one port every selected Service has, when they agree on its name.
	only := ""
	for j, s := range svcs {
		if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name == "" || (j > 0 && s.Spec.Ports[0].Name != only) {
			only = ""
			break
		}
		only = s.Spec.Ports[0].Name
	}
	if only != "" {
		op := jsonpatch.NewOperation("replace", "/spec/endpoints/"+strconv.Itoa(i)+"/port", only)
		return []policies.Finding{policies.Mutatef(f, []jsonpatch.Operation{op}, "%s; rewritten to port: %s, the one port they have", found, only)}
	}
	return []policies.Finding{policies.Denyf(f, "%s; name the Service port that serves metrics here (an unnamed port cannot be selected by name: name it in the Service)", found)}
}

func serviceEndpointTargetPort(tp intstr.IntOrString, f *field.Path, pods []podTemplate) []policies.Finding {
	if !judgeable(pods) {
		return nil
	}
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 || injectedNumber(tp.IntVal) || anyTemplate(pods, func(p podTemplate) bool { return p.hasPortNumber(tp.IntVal) }) {
			return nil
		}
		return []policies.Finding{policies.Denyf(f,
			"%d is not a declared container port of the pods behind the Services it selects (%s), and Prometheus keeps only declared ports, so it scrapes nothing from them; declare containerPort %d in the pod template or select a declared port",
			tp.IntVal, describePorts(pods), tp.IntVal)}
	}
	if tp.StrVal == "" || injectedName(tp.StrVal) {
		return nil
	}
	matches := nameMatcher(tp.StrVal)
	if anyTemplate(pods, func(p podTemplate) bool { return p.hasPortNamed(matches) }) {
		return nil
	}
	fix := portFix(pods, "targetPort", "targetPort")
	if n, ok := numericName(tp.StrVal); ok {
		fix = fmt.Sprintf("%q is a name (a string); write targetPort: %d, a number", tp.StrVal, n)
	}
	return []policies.Finding{policies.Denyf(f, "%q names no container port of the pods behind the Services it selects (%s), so Prometheus scrapes nothing from them; %s",
		tp.StrVal, describePorts(pods), fix)}
}

// anyHandManaged reports whether a Service's endpoints are not made from
// its pods: no selector (Endpoints written by hand, whose port names are
// their own) or an ExternalName.
func anyHandManaged(svcs []*corev1.Service) bool {
	for _, s := range svcs {
		if len(s.Spec.Selector) == 0 || s.Spec.Type == corev1.ServiceTypeExternalName {
			return true
		}
	}
	return false
}
