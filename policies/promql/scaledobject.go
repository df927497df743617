package promql

import (
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"

	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	"github.com/scaleguard/scaleguard/policies"
)

// meta reads a KEDA trigger metadata value the way KEDA does: trimmed, and
// absent when empty.
func meta(md map[string]string, key string) (string, bool) {
	v := strings.TrimSpace(md[key])
	return v, v != ""
}

// analyzeScaledObject judges the prometheus triggers of a ScaledObject, and
// the metadata of every trigger for inline credentials.
func analyzeScaledObject(so *kedav1alpha1.ScaledObject, in *policies.Input, check checker) []policies.Finding {
	ns := in.Namespace()
	w := scaledObjectWorkload(so, in.View, ns)
	composite := so.Spec.Advanced != nil && strings.TrimSpace(so.Spec.Advanced.ScalingModifiers.Formula) != ""
	var out []policies.Finding
	for i, t := range so.Spec.Triggers {
		path := triggerPath(i)
		mp := metadataPath(i)
		md := t.Metadata
		out = append(out, checkMetadataSecrets(t.Type, md, mp)...)
		if t.Type != "prometheus" {
			continue
		}
		if _, ok := meta(md, "query"); ok {
			server, _ := meta(md, "serverAddress")
			tenant, _ := meta(md, "namespace")
			out = append(out, check(Query{
				Text: md["query"], Field: metadataKeyPath(i, "query"), Namespace: ns, Consumer: KEDA,
				MetricType: t.MetricType, Composite: composite, Workload: w,
				TenantLabel: tenantLabel(server, tenant, ns, in.Settings.PromQL.TenancyProxies),
			})...)
		} else {
			out = append(out, deny(InvalidID, metadataKeyPath(i, "query"), "is missing, and KEDA's prometheus scaler requires a query; write the PromQL whose value scales the target"))
		}
		if _, ok := meta(md, "serverAddress"); !ok {
			out = append(out, deny(InvalidID, metadataKeyPath(i, "serverAddress"), "is missing, and KEDA's prometheus scaler requires the Prometheus URL; set it, e.g. http://prometheus-operated.monitoring.svc:9090"))
		}
		if t.MetricType == autoscalingv2.UtilizationMetricType {
			out = append(out, deny(InvalidID, path.Child("metricType"), "Utilization is for cpu and memory triggers, and KEDA's prometheus scaler rejects it; use AverageValue or Value"))
		}
		threshold, ok := meta(md, "threshold")
		out = append(out, checkThreshold(threshold, ok, metadataKeyPath(i, "threshold"), "KEDA's prometheus scaler")...)
		activation, ok := meta(md, "activationThreshold")
		out = append(out, checkActivation(activation, ok, metadataKeyPath(i, "activationThreshold"))...)
		for _, k := range []string{"customHeaders", "queryParameters"} {
			if v, ok := meta(md, k); ok {
				out = append(out, checkPairs(v, metadataKeyPath(i, k))...)
			}
		}
		if tenant, ok := meta(md, "namespace"); ok && tenant != ns {
			out = append(out, deny(CrossNamespaceID, metadataKeyPath(i, "namespace"),
				"is %q, but the ScaledObject is in %q: KEDA sends it to Prometheus as the tenant namespace, so the trigger reads another tenant's metrics; set it to %q or remove it",
				tenant, ns, ns))
		}
	}
	return out
}

// scaledObjectWorkload names what a ScaledObject scales: a ModelServing,
// or a Deployment (KServe's predictor when an InferenceService in the
// namespace owns that name), or any other workload by its pods' names.
func scaledObjectWorkload(so *kedav1alpha1.ScaledObject, view policies.ClusterView, ns string) Workload {
	target, ok := policies.KEDATarget(so)
	if !ok || target.Name == "" {
		return Workload{}
	}
	if target.GroupKind() == policies.ModelServingKind {
		return Workload{ModelServing: target.Name}
	}
	w := Workload{PodPrefix: target.Name + "-"}
	if target.GroupKind() == policies.DeploymentKind {
		if isvc := predictorOwner(view, ns, target.Name); isvc != nil {
			w.ModelName = isvcModelName(isvc)
		}
	}
	return w
}

// predictorOwner is the InferenceService whose predictor Deployment is
// named deployment: <isvc>-predictor, or <isvc>-<name>-predictor.
func predictorOwner(view policies.ClusterView, ns, deployment string) *kservev1beta1.InferenceService {
	base, ok := strings.CutSuffix(deployment, "-predictor")
	if view == nil || !ok {
		return nil
	}
	if isvc, ok := view.InferenceService(ns, base); ok && predictorName(isvc) == deployment {
		return isvc
	}
	for _, isvc := range view.InferenceServices(ns) {
		if predictorName(isvc) == deployment {
			return isvc
		}
	}
	return nil
}
