package monitor

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// injectedPorts are container ports that service-mesh admission webhooks
// add to pods when they are created, so pod templates do not show them:
// an endpoint naming one is not judged.
var injectedPorts = []struct {
	name   string
	number int32
}{
	{"http-envoy-prom", 15090}, // Istio's istio-proxy sidecar
	{"linkerd-admin", 4191},    // Linkerd's linkerd-proxy sidecar
}

func injectedName(name string) bool {
	for _, p := range injectedPorts {
		if p.name == name {
			return true
		}
	}
	return false
}

func injectedNumber(n int32) bool {
	for _, p := range injectedPorts {
		if p.number == n {
			return true
		}
	}
	return false
}

// nameMatcher is how prometheus-operator matches a port name: as a
// Prometheus relabeling regex, anchored at both ends.
func nameMatcher(name string) func(string) bool {
	if re, err := regexp.Compile("^(?:" + name + ")$"); err == nil {
		return re.MatchString
	}
	return func(s string) bool { return s == name }
}

// numericName returns the number a port name spells when it is only
// digits (port: "8000"): a name Kubernetes never gives a port, since port
// names need a letter.
func numericName(name string) (int32, bool) {
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil || n < 1 || n > 65535 || strings.TrimLeft(name, "0123456789") != "" {
		return 0, false
	}
	return int32(n), true
}

// scrapeable reports whether a declared port can serve an HTTP scrape.
func scrapeable(p corev1.ContainerPort) bool {
	return p.Protocol == "" || p.Protocol == corev1.ProtocolTCP
}

// hasPortNamed reports whether a template declares a port whose name
// matches.
func (t podTemplate) hasPortNamed(matches func(string) bool) bool {
	for _, p := range t.ports() {
		if p.Name != "" && matches(p.Name) {
			return true
		}
	}
	return false
}

// hasPortNumber reports whether a template declares the port number.
func (t podTemplate) hasPortNumber(n int32) bool {
	for _, p := range t.ports() {
		if p.ContainerPort == n {
			return true
		}
	}
	return false
}

// numbers lists a template's distinct scrapeable port numbers.
func (t podTemplate) numbers() []int32 {
	seen := map[int32]bool{}
	var out []int32
	for _, p := range t.ports() {
		if scrapeable(p) && !seen[p.ContainerPort] {
			seen[p.ContainerPort] = true
			out = append(out, p.ContainerPort)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// onlyNumber is the one port number every template declares, when each
// declares exactly one and they agree.
func onlyNumber(ts []podTemplate) (int32, bool) {
	var n int32
	for i, t := range ts {
		ns := t.numbers()
		if len(ns) != 1 || (i > 0 && ns[0] != n) {
			return 0, false
		}
		n = ns[0]
	}
	return n, len(ts) > 0
}

// describePorts renders what templates declare, for messages:
// `ModelServing "llm" role "decode" entry pods declare 8000 (unnamed)`.
func describePorts(ts []podTemplate) string {
	const most = 4
	// In a stable order: a cache lists its objects in none.
	ts = slices.SortedFunc(slices.Values(ts), func(a, b podTemplate) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.kind, b.kind), cmp.Compare(a.name, b.name), cmp.Compare(a.part, b.part))
	})
	var parts []string
	for i, t := range ts {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(ts)-most))
			break
		}
		var ps []string
		for _, p := range t.ports() {
			ps = append(ps, describePort(p))
		}
		if len(ps) == 0 {
			parts = append(parts, t.owner()+" declare no ports")
			continue
		}
		parts = append(parts, t.owner()+" declare "+strings.Join(ps, ", "))
	}
	return strings.Join(parts, "; ")
}

func describePort(p corev1.ContainerPort) string {
	s := strconv.Itoa(int(p.ContainerPort))
	if p.Name != "" {
		s = fmt.Sprintf("%q (%d)", p.Name, p.ContainerPort)
	} else {
		s += " (unnamed)"
	}
	if !scrapeable(p) {
		s += " " + string(p.Protocol)
	}
	return s
}

// describeServicePorts renders Services' ports: `Service "x" has "http" 80→8080`.
func describeServicePorts(svcs []*corev1.Service) string {
	const most = 4
	var parts []string
	for i, s := range svcs {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(svcs)-most))
			break
		}
		var ps []string
		for _, p := range s.Spec.Ports {
			target := p.TargetPort.String()
			if p.TargetPort.IntValue() == 0 && p.TargetPort.StrVal == "" {
				target = strconv.Itoa(int(p.Port))
			}
			name := "unnamed"
			if p.Name != "" {
				name = strconv.Quote(p.Name)
			}
			ps = append(ps, fmt.Sprintf("%s %d→%s", name, p.Port, target))
		}
		if len(ps) == 0 {
			ps = []string{"no ports"}
		}
		parts = append(parts, fmt.Sprintf("Service %q has %s", s.Name, strings.Join(ps, ", ")))
	}
	return strings.Join(parts, "; ")
}
