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
	serverPlaceholder   = "<engine URL>"
	poolPlaceholder     = "<InferencePool>"
	graphPlaceholder    = "<DynamoGraphDeployment>"
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
// in the label family fam (exported_* or not). Only labels the metric's
// exporter puts on that metric are suggested: a router's series carry the
// router's pod name, so a pod regex would select none of them.
func (w Workload) suggest(p policies.ScopeProfile, metric, ns string, written []*labels.Matcher, fam bool) *labels.Matcher {
	var cands []*labels.Matcher
	model := w.ModelName
	if model == "" {
		model = modelPlaceholder
	}
	if w.ModelName != "" && engineMetric(metric) {
		cands = append(cands, eq("model_name", w.ModelName))
	}
	if pods := w.podRegex(); pods != "" && !routerMetric(metric) {
		cands = append(cands, re(podLabel(p, fam), pods))
	}
	if w.ModelServing != "" {
		cands = append(cands, eq(modelServingLabel, w.ModelServing))
	}
	if engineMetric(metric) {
		cands = append(cands, eq("model_name", model))
	}
	if w.ModelName != "" {
		cands = append(cands, eq("model", w.ModelName))
	}
	allowed := func(label string) bool { return inProfile(p, label) && carries(metric, label) }
	for _, m := range written {
		for _, c := range cands {
			if m != nil && c.Name == m.Name && allowed(c.Name) {
				return c
			}
		}
	}
	for _, c := range cands {
		if allowed(c.Name) {
			return c
		}
	}
	for _, l := range p.WorkloadLabels {
		if allowed(l) && counterpart(l, fam, p) == l {
			return eq(l, placeholder(l, model, ns))
		}
	}
	if len(p.WorkloadLabels) == 0 {
		return eq("pod", workloadPlaceholder)
	}
	l := firstIn(p.WorkloadLabels, fam, p)
	return eq(l, placeholder(l, model, ns))
}

// placeholder is the value to write for a workload label the object does
// not tell.
func placeholder(label, model, ns string) string {
	switch label {
	case "model", "model_name", "target_model_name":
		return model
	case "server":
		return serverPlaceholder
	case "name", "inference_pool":
		return poolPlaceholder
	case "dynamo_namespace":
		return ns + "-" + graphPlaceholder
	}
	return workloadPlaceholder
}

// carries reports whether the metric's exporter puts label on it, true
// when the catalogue does not say.
func carries(metric, label string) bool {
	es := exposedBy[metric]
	if len(es) == 0 {
		es = claimants(metric)
	}
	for _, e := range es {
		if !has(e.Labels, label) {
			continue
		}
		if ls, ok := e.MetricLabels[baseName(metric)]; ok && !has(ls, label) {
			continue
		}
		return true
	}
	// The catalogue does not say (an exporter it does not know), or it
	// says the label is not one of the exporter's own: a label of the
	// scrape target (pod, service) or of a relabeling.
	return len(es) == 0 || !ownLabel(es, label)
}

// ownLabel reports whether label is one an exporter of es sets itself.
func ownLabel(es []*exporter, label string) bool {
	for _, e := range es {
		if has(e.Labels, label) || has(e.OtherLabels, label) {
			return true
		}
	}
	return false
}

// baseName strips the suffix a histogram's or counter's series adds.
func baseName(metric string) string {
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(metric, suf); ok {
			return b
		}
	}
	return metric
}

// routerMetric reports whether a router or gateway in front of the engine
// pods emits the metric (catalogue or scope profile): its pod label is the
// router's.
func routerMetric(name string) bool {
	if e := exposed[name]; e != nil {
		return e.Emits == router
	}
	for _, e := range claimants(name) {
		if e.Emits == router && !e.Complete {
			return true
		}
	}
	return false
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
	e := family(name)
	return e != nil && e.Emits == enginePod && has(e.Labels, "model_name")
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
