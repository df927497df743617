package gpu

import (
	"fmt"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"

	"github.com/scaleguard/scaleguard/policies"
)

// podShape is one kind of pod a workload runs, with how many such pods
// make one replica of the scaled workload.
type podShape struct {
	// where names the template in messages ("" for a Deployment's only
	// template, `role "decode" workerTemplate` for a ModelServing).
	where string
	spec  *corev1.PodSpec
	// pods is the number of these pods per replica of the scaled workload;
	// 0 when the pods exist but do not scale with it (a KServe multi-node
	// worker Deployment): they decide the tier but are not counted.
	pods int64
}

// podReading is what one pod template says about GPUs.
type podReading struct {
	signals []signal
	// units are accelerator units per pod by name (an extended resource
	// name, or "device class X" for dynamic resource allocation).
	units map[string]int64
}

// signal is one piece of evidence that a pod runs on a GPU tier.
type signal struct {
	text   string
	origin origin
}

// origin is the kind of evidence a signal is: only accelerator resources
// and per-pod device claims say how many GPUs a pod holds.
type origin int

// Kinds of evidence.
const (
	fromAccelerator origin = iota // an accelerator resource request or limit
	fromClaim                     // a dynamic resource allocation claim
	fromPlacement                 // a GPU node selector, node affinity or toleration
	fromNamespace                 // the namespace label
)

func (r *podReading) add(o origin, format string, args ...any) {
	r.signals = append(r.signals, signal{text: fmt.Sprintf(format, args...), origin: o})
}

// readPod looks for every GPU signal of a pod spec.
func readPod(spec *corev1.PodSpec, ns string, view policies.ClusterView, s *policies.GPUSettings) podReading {
	r := podReading{units: map[string]int64{}}
	r.readResources(spec, s)
	r.readClaims(spec, ns, view, s)
	r.readPlacement(spec, s)
	return r
}

// isAccelerator reports whether a resource name matches the settings.
func isAccelerator(name corev1.ResourceName, s *policies.GPUSettings) bool {
	for _, p := range s.AcceleratorResources {
		if ok, _ := path.Match(p, string(name)); ok {
			return true
		}
	}
	return false
}

// quantity is what a container asks for: the request, or the limit when no
// request is given (the API server defaults extended-resource requests to
// their limits).
func quantity(c corev1.Container, name corev1.ResourceName) int64 {
	if q, ok := c.Resources.Requests[name]; ok {
		return q.Value()
	}
	if q, ok := c.Resources.Limits[name]; ok {
		return q.Value()
	}
	return 0
}

// readResources counts a pod's accelerator units the way the scheduler
// does (Kubernetes' effective request, KEP-753): app containers and
// sidecars (init containers with restartPolicy Always) run together and
// add up; one-shot init container i runs before the app containers, beside
// the sidecars declared before it. The pod holds the larger of the two
// peaks.
func (r *podReading) readResources(spec *corev1.PodSpec, s *policies.GPUSettings) {
	running := map[string]int64{}  // app containers and every sidecar
	sidecars := map[string]int64{} // sidecars declared so far
	initPeak := map[string]int64{} // the largest init-phase use
	for _, c := range spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			for name, n := range r.accelerators("sidecar init container", c, s) {
				running[name] += n
				sidecars[name] += n
			}
			for name, n := range sidecars {
				initPeak[name] = max(initPeak[name], n)
			}
			continue
		}
		asks := r.accelerators("init container", c, s)
		for name, n := range asks {
			initPeak[name] = max(initPeak[name], n+sidecars[name])
		}
		for name, n := range sidecars {
			initPeak[name] = max(initPeak[name], n+asks[name])
		}
	}
	for _, c := range spec.Containers {
		for name, n := range r.accelerators("container", c, s) {
			running[name] += n
		}
	}
	for name, n := range running {
		r.units[name] = max(n, initPeak[name])
	}
	for name, n := range initPeak {
		r.units[name] = max(r.units[name], n)
	}
}

// accelerators records a signal for every accelerator resource a
// container asks for and returns the units by resource name.
func (r *podReading) accelerators(kind string, c corev1.Container, s *policies.GPUSettings) map[string]int64 {
	out := map[string]int64{}
	for _, name := range containerResourceNames(c) {
		if !isAccelerator(name, s) {
			continue
		}
		n := quantity(c, name)
		if n <= 0 {
			continue // an explicit 0 asks for no device
		}
		verb := "requests"
		if _, ok := c.Resources.Requests[name]; !ok {
			verb = "limits"
		}
		r.add(fromAccelerator, "%s %q %s %s: %d", kind, c.Name, verb, name, n)
		out[string(name)] += n
	}
	return out
}

func containerResourceNames(c corev1.Container) []corev1.ResourceName {
	seen := map[corev1.ResourceName]bool{}
	var out []corev1.ResourceName
	for _, l := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
		for name := range l {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// readClaims follows the pod's resource claims to their
// ResourceClaimTemplate or ResourceClaim. Devices from a template are
// claimed per pod and counted; a shared ResourceClaim decides the tier but
// its devices do not grow with the replica count.
func (r *podReading) readClaims(spec *corev1.PodSpec, ns string, view policies.ClusterView, s *policies.GPUSettings) {
	for _, pc := range spec.ResourceClaims {
		switch {
		case pc.ResourceClaimTemplateName != nil:
			t, ok := view.ResourceClaimTemplate(ns, *pc.ResourceClaimTemplateName)
			if !ok {
				continue
			}
			for _, d := range gpuDevices(&t.Spec.Spec, s) {
				r.add(fromClaim, "resource claim %q (ResourceClaimTemplate %q) asks for device class %q", pc.Name, t.Name, d.class)
				if d.count > 0 {
					r.units["device class "+d.class] += d.count
				}
			}
		case pc.ResourceClaimName != nil:
			c, ok := view.ResourceClaim(ns, *pc.ResourceClaimName)
			if !ok {
				continue
			}
			for _, d := range gpuDevices(&c.Spec, s) {
				r.add(fromClaim, "resource claim %q (shared ResourceClaim %q) asks for device class %q", pc.Name, c.Name, d.class)
			}
		}
	}
}

type claimedDevice struct {
	class string
	// count is the number of devices, 0 when it is not a fixed number
	// (allocation mode All).
	count int64
}

func gpuDevices(spec *resourcev1.ResourceClaimSpec, s *policies.GPUSettings) []claimedDevice {
	var out []claimedDevice
	add := func(class string, mode resourcev1.DeviceAllocationMode, count int64) {
		if !gpuClass(class, s) {
			return
		}
		switch {
		case mode == resourcev1.DeviceAllocationModeAll:
			count = 0
		case count <= 0:
			count = 1
		}
		out = append(out, claimedDevice{class: class, count: count})
	}
	for _, req := range spec.Devices.Requests {
		if req.Exactly != nil {
			add(req.Exactly.DeviceClassName, req.Exactly.AllocationMode, req.Exactly.Count)
			continue
		}
		// One of the alternatives is allocated: count the first GPU one.
		for _, sub := range req.FirstAvailable {
			if gpuClass(sub.DeviceClassName, s) {
				add(sub.DeviceClassName, sub.AllocationMode, sub.Count)
				break
			}
		}
	}
	return out
}

func gpuClass(class string, s *policies.GPUSettings) bool {
	lc := strings.ToLower(class)
	for _, sub := range s.DeviceClassSubstrings {
		if strings.Contains(lc, strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

func (r *podReading) readPlacement(spec *corev1.PodSpec, s *policies.GPUSettings) {
	keys := make([]string, 0, len(spec.NodeSelector))
	for k := range spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := spec.NodeSelector[k]
		if nodeLabelSelectsGPU(k, []string{v}, s) {
			r.add(fromPlacement, "nodeSelector %s: %s", k, v)
		}
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, e := range term.MatchExpressions {
				if affinitySelectsGPU(e, s) {
					r.add(fromPlacement, "required node affinity %s %s %v", e.Key, e.Operator, e.Values)
				}
			}
		}
	}
	for _, t := range spec.Tolerations {
		for _, k := range s.TolerationKeys {
			if t.Key == k {
				r.add(fromPlacement, "toleration of the %s taint", k)
			}
		}
	}
}

// nodeLabelSelectsGPU reports whether requiring key to have one of values
// selects GPU nodes.
func nodeLabelSelectsGPU(key string, values []string, s *policies.GPUSettings) bool {
	for _, l := range s.NodeLabels {
		if l.Key != key {
			continue
		}
		for _, v := range values {
			if len(l.Values) == 0 {
				if v != "false" && v != "0" {
					return true
				}
				continue
			}
			for _, want := range l.Values {
				if v == want {
					return true
				}
			}
		}
	}
	return false
}

func affinitySelectsGPU(e corev1.NodeSelectorRequirement, s *policies.GPUSettings) bool {
	switch e.Operator {
	case corev1.NodeSelectorOpIn:
		return nodeLabelSelectsGPU(e.Key, e.Values, s)
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpGt:
		// Any value (or a count above some number) of a GPU-only label;
		// a label the admin restricted to some values cannot be judged so.
		for _, l := range s.NodeLabels {
			if l.Key == e.Key && len(l.Values) == 0 {
				return true
			}
		}
	}
	return false
}
