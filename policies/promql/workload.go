package promql

import (
	"regexp"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/scaleguard/scaleguard/policies"
)

// Workload is what an object scales, as far as label values in a fix can
// name it. Empty fields are unknown.
type Workload struct {
	// ModelName is the served model name: vLLM's and SGLang's model_name
	// label, and the model clients send through a router.
	ModelName string
	// ModelServing is the Kthena ModelServing scaled. Its pods are named
	// <modelserving>-<group index>-<role>-<role index>-<pod index>.
	ModelServing string
	// PodPrefix starts the name of every pod of the workload (other than
	// a ModelServing).
	PodPrefix string
}

// placeholders for values the object does not tell.
const (
	modelPlaceholder    = "<model>"
	workloadPlaceholder = "<workload>"
)

// modelServingLabel is the label a PodMonitor's podTargetLabels makes of
// the pod label modelserving.volcano.sh/name; Kthena's pods carry the
// pod label, but series carry it only when the scrape copies it.
const modelServingLabel = "modelserving_volcano_sh_name"

// podRegex matches the names of the workload's pods, "" when unknown.
func (w Workload) podRegex() string {
	switch {
	case w.ModelServing != "":
		return regexp.QuoteMeta(w.ModelServing) + "-[0-9]+-.*"
	case w.PodPrefix != "":
		return regexp.QuoteMeta(w.PodPrefix) + ".*"
	}
	return ""
}

// suggest returns the matcher a fix adds so that a selector of metric
// satisfies profile: on a label the selector already tries to narrow if
// possible, else preferring labels every scrape of the workload's pods
// carries (model_name, which the engine sets itself, and the pod name),
// in the label family fam (exported_* or not).
func (w Workload) suggest(p policies.ScopeProfile, metric string, written []*labels.Matcher, fam bool) *labels.Matcher {
	var cands []*labels.Matcher
	model := w.ModelName
	if model == "" {
		model = modelPlaceholder
	}
	if w.ModelName != "" && engineMetric(metric) {
		cands = append(cands, eq("model_name", w.ModelName))
	}
	if pods := w.podRegex(); pods != "" {
		cands = append(cands, re(podLabel(p, fam), pods))
	}
	if w.ModelServing != "" {
		cands = append(cands, eq(modelServingLabel, w.ModelServing))
	}
	if engineMetric(metric) {
		cands = append(cands, eq("model_name", model))
	}
	cands = append(cands, eq("model", model))
	for _, m := range written {
		for _, c := range cands {
			if m != nil && c.Name == m.Name && inProfile(p, c.Name) {
				return c
			}
		}
	}
	for _, c := range cands {
		if inProfile(p, c.Name) {
			return c
		}
	}
	if len(p.WorkloadLabels) == 0 {
		return eq("pod", workloadPlaceholder)
	}
	return eq(firstIn(p.WorkloadLabels, fam, p), workloadPlaceholder)
}

// podLabel is the profile's pod label in the family, else "pod".
func podLabel(p policies.ScopeProfile, fam bool) string {
	var other string
	for _, l := range p.WorkloadLabels {
		if !podSpellings[l] {
			continue
		}
		if counterpart(l, fam, p) == l {
			return l
		}
		if other == "" {
			other = l
		}
	}
	if other == "" {
		return "pod"
	}
	return other
}

// inProfile reports whether label is one of the profile's workload labels.
func inProfile(p policies.ScopeProfile, label string) bool {
	for _, l := range p.WorkloadLabels {
		if l == label {
			return true
		}
	}
	return false
}

// engineMetric reports whether an inference engine labels the metric with
// model_name itself.
func engineMetric(name string) bool {
	return strings.HasPrefix(name, vllm.Prefix) || strings.HasPrefix(name, sglang.Prefix)
}

func eq(name, value string) *labels.Matcher {
	return &labels.Matcher{Type: labels.MatchEqual, Name: name, Value: value}
}

func re(name, value string) *labels.Matcher {
	m, err := labels.NewMatcher(labels.MatchRegexp, name, value)
	if err != nil {
		// QuoteMeta output always compiles; keep a usable matcher anyway.
		return &labels.Matcher{Type: labels.MatchRegexp, Name: name, Value: value}
	}
	return m
}

// modelNameFromArgs finds the served model name in a model server's
// arguments: --model_name (KServe's huggingface server) or
// --served-model-name (vLLM, SGLang), as "--flag=value" or "--flag value".
func modelNameFromArgs(args []string) string {
	for i, a := range args {
		for _, flag := range []string{"--model_name", "--served-model-name", "--served_model_name"} {
			if v, ok := strings.CutPrefix(a, flag+"="); ok && v != "" {
				return v
			}
			if a == flag && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				return args[i+1]
			}
		}
	}
	return ""
}
