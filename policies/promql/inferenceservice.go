package promql

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/policies"
)

// analyzeInferenceService judges the prometheus external metrics of every
// component (predictor, transformer, explainer). KServe turns each into a
// KEDA trigger: query and serverAddress verbatim, threshold = target.value
// as written, namespace when set, and no metricType.
func analyzeInferenceService(isvc *kservev1beta1.InferenceService, in *policies.Input, check checker) []policies.Finding {
	ns := in.Namespace()
	model := isvcModelName(isvc)
	type component struct {
		name string
		ext  *kservev1beta1.ComponentExtensionSpec
		pods string
	}
	comps := []component{{"predictor", &isvc.Spec.Predictor.ComponentExtensionSpec, predictorName(isvc)}}
	if t := isvc.Spec.Transformer; t != nil {
		comps = append(comps, component{"transformer", &t.ComponentExtensionSpec, isvc.Name + "-transformer"})
	}
	if e := isvc.Spec.Explainer; e != nil {
		comps = append(comps, component{"explainer", &e.ComponentExtensionSpec, isvc.Name + "-explainer"})
	}
	var out []policies.Finding
	for _, c := range comps {
		if c.ext.AutoScaling == nil {
			continue
		}
		w := Workload{ModelName: model, PodPrefix: c.pods + "-"}
		for i, m := range c.ext.AutoScaling.Metrics {
			ext := m.External
			if ext == nil || ext.Metric.Backend != "prometheus" {
				continue
			}
			path := field.NewPath("spec", c.name, "autoScaling", "metrics").Index(i).Child("external")
			mp := path.Child("metric")
			if strings.TrimSpace(ext.Metric.Query) != "" {
				out = append(out, check(Query{
					Text: ext.Metric.Query, Field: mp.Child("query"), Namespace: ns, Consumer: KServe, Workload: w,
					TenantLabel: tenantLabel(ext.Metric.ServerAddress, strings.TrimSpace(ext.Metric.Namespace), ns, in.Settings.PromQL.TenancyProxies),
				})...)
			} else {
				out = append(out, deny(InvalidID, mp.Child("query"), "is missing, and the KEDA trigger KServe generates requires a query; write the PromQL whose value scales the %s", c.name))
			}
			if strings.TrimSpace(ext.Metric.ServerAddress) == "" {
				out = append(out, deny(InvalidID, mp.Child("serverAddress"), "is missing, and the KEDA trigger KServe generates requires the Prometheus URL; set it"))
			} else {
				out = append(out, addressSecrets(ext.Metric.ServerAddress, mp.Child("serverAddress"), secretFix(KServe, ""))...)
			}
			if tenant := strings.TrimSpace(ext.Metric.Namespace); tenant != "" && tenant != ns {
				out = append(out, deny(CrossNamespaceID, mp.Child("namespace"),
					"is %q, but the InferenceService is in %q: KEDA sends it to Prometheus as the tenant namespace, so the metric reads another tenant's load; set it to %q or remove it",
					tenant, ns, ns))
			}
			out = append(out, isvcThreshold(ext.Target, path.Child("target"))...)
		}
	}
	return out
}

// isvcThreshold judges target.value, which KServe copies verbatim into
// the KEDA threshold ("0" when unset; averageValue is not used).
func isvcThreshold(t kservev1beta1.MetricTarget, path *field.Path) []policies.Finding {
	if t.Value == nil && t.AverageValue != nil {
		return []policies.Finding{deny(InvalidID, path.Child("value"),
			"is missing: KServe passes only target.value to KEDA as the threshold and ignores averageValue, so the threshold would be 0; move the number to target.value")}
	}
	raw := ""
	if t.Value != nil {
		raw = string(*t.Value)
	}
	return checkThreshold(raw, t.Value != nil, path.Child("value"), "the KEDA trigger KServe generates")
}

// predictorName is the name KServe gives the predictor's Deployment (and
// its Service, HPA or ScaledObject).
func predictorName(isvc *kservev1beta1.InferenceService) string {
	if n := isvc.Spec.Predictor.Name; n != "" {
		return isvc.Name + "-" + n + "-predictor"
	}
	return isvc.Name + "-predictor"
}

// isvcModelName is the model name the predictor serves: --model_name (or
// --served-model-name) in its arguments, else the InferenceService's name,
// which KServe's model servers use by default.
func isvcModelName(isvc *kservev1beta1.InferenceService) string {
	if m := isvc.Spec.Predictor.Model; m != nil {
		if n := modelNameFromArgs(m.Args); n != "" {
			return n
		}
	}
	return isvc.Name
}
