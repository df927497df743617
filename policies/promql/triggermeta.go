package promql

import (
	"sort"
	"strconv"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

// TriggerMetadataID is the rule that reports trigger fields KEDA silently
// ignores.
const TriggerMetadataID = "trigger-metadata"

func init() {
	policies.MustRegister(policies.Rule{
		ID: TriggerMetadataID, Kinds: []schema.GroupVersionKind{apis.ScaledObject}, Action: policies.Warn,
		Summary: "a trigger field KEDA silently ignores: a trigger field written in metadata, an unknown or misspelt prometheus metadata key, ignoreNullValues written as a number",
		Doc: "KEDA reads a trigger's metadata by key and ignores every key it does not know, without an event unless its operator runs with " +
			"`KEDA_CHECK_UNEXPECTED_SCALERS_PARAMS`: a misspelt `activationThreshold` leaves activation at 0, and a `metricType: Value` written under `metadata` " +
			"leaves the trigger on AverageValue. Warned, with the right place or spelling:\n\n" +
			"- on every trigger, `metricType`, `useCachedMetrics` and `authenticationRef` under `metadata`: they are fields of the trigger itself;\n" +
			"- on a prometheus trigger, a metadata key KEDA v2.20's prometheus scaler does not read (keys: " + codeList(prometheusKeyList()) + ", and the cloud " +
			"identity keys): the nearest key when one is close, `metricName` (KEDA names the metric `s<index>-prometheus` itself), and the parameters KEDA reads only from a " +
			"TriggerAuthentication (`username`, `customAuthHeader`, `oauthTokenURI`, `scopes`, `clientID`, `endpointParams`, `ca`, `cert`); credentials written inline are " +
			"trigger-inline-secret's;\n" +
			"- `ignoreNullValues` written as a number: KEDA reads `\"0\"` as false (an empty result then fails the trigger instead of reading 0) and `\"1\"` as true, " +
			"and refuses any other value that is not a boolean.",
		Check: policies.On(checkTriggerMetadata),
	})
}

// prometheusKeys are the metadata keys KEDA v2.20's prometheus scaler
// reads (pkg/scalers/prometheus_scaler.go prometheusMetadata, the shared
// authentication's keys of order triggerMetadata, and the cloud
// round-trippers' keys in pkg/scalers/{aws,azure,gcp}).
var prometheusKeys = map[string]bool{
	"serverAddress": true, "query": true, "queryParameters": true, "threshold": true, "activationThreshold": true,
	"namespace": true, "customHeaders": true, "ignoreNullValues": true, "unsafeSsl": true, "timeout": true,
	"awsRegion": true, "identityOwner": true, "authModes": true, "authMode": true, "apiKey": true, "method": true,
	"keyParamName": true, "azureManagedPrometheusResourceURL": true, "credentialsFromEnv": true,
	"credentialsFromEnvFile": true, "awsAccessKeyID": true, "awsAccessKeyIDFromEnv": true, "awsSecretAccessKeyFromEnv": true,
}

// prometheusAuthParams are what KEDA's shared authentication reads only
// from a TriggerAuthentication (order=authParams) and that hold no secret
// themselves (the secret ones are trigger-inline-secret's).
var prometheusAuthParams = map[string]bool{
	"username": true, "customAuthHeader": true, "oauthTokenURI": true, "scopes": true, "scope": true,
	"clientID": true, "endpointParams": true, "ca": true, "cert": true, "awsRoleArn": true,
}

func prometheusKeyList() []string {
	var out []string
	for _, k := range []string{"serverAddress", "query", "threshold", "activationThreshold", "namespace", "customHeaders",
		"queryParameters", "ignoreNullValues", "unsafeSsl", "timeout", "authModes"} {
		if prometheusKeys[k] {
			out = append(out, k)
		}
	}
	return out
}

func checkTriggerMetadata(so *kedav1alpha1.ScaledObject, _ *policies.Input) []policies.Finding {
	var out []policies.Finding
	for i, t := range so.Spec.Triggers {
		path := triggerPath(i)
		keys := make([]string, 0, len(t.Metadata))
		for k := range t.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f, ok := misplaced(k, t, path); ok {
				out = append(out, f)
				continue
			}
			if t.Type != "prometheus" || (k != "ignoreNullValues" && (prometheusKeys[k] || secretName(k))) {
				continue // a known key (prometheusKey has nothing to say) needs no path.
			}
			out = append(out, prometheusKey(k, t.Metadata[k], metadataKeyPath(i, k))...)
		}
	}
	return out
}

// misplaced judges a trigger field written under metadata.
func misplaced(k string, t kedav1alpha1.ScaleTriggers, path *field.Path) (policies.Finding, bool) {
	switch k {
	case "metricType", "useCachedMetrics", "authenticationRef":
	default:
		return policies.Finding{}, false
	}
	v := strings.TrimSpace(t.Metadata[k])
	mp := path.Child("metadata").Child(k)
	switch k {
	case "metricType":
		now := "AverageValue (KEDA's default)"
		if t.MetricType != "" {
			now = string(t.MetricType)
		}
		return warnf(mp, "is a field of the trigger, not of its metadata, so KEDA ignores it and the trigger uses %s; move it up: %s: %s",
			now, path.Child("metricType"), v), true
	case "useCachedMetrics":
		return warnf(mp, "is a field of the trigger, not of its metadata, so KEDA ignores it and does not cache; move it up: %s: %s",
			path.Child("useCachedMetrics"), v), true
	case "authenticationRef":
		return warnf(mp, "is a field of the trigger, not of its metadata, so KEDA ignores it and the trigger authenticates with nothing; move it up: %s: {name: %s}",
			path.Child("authenticationRef"), v), true
	}
	return policies.Finding{}, false
}

// prometheusKey judges one metadata key of a prometheus trigger.
func prometheusKey(k, v string, p *field.Path) []policies.Finding {
	switch {
	case k == "ignoreNullValues":
		return ignoreNullValues(v, p)
	case prometheusKeys[k] || secretName(k):
		// Known, or a credential trigger-inline-secret reports.
		return nil
	case prometheusAuthParams[k]:
		return []policies.Finding{warnf(p, "is read by KEDA's prometheus scaler only from a TriggerAuthentication (authParams), so here it is ignored; "+
			"set it in a TriggerAuthentication referenced with authenticationRef")}
	case k == "metricName":
		return []policies.Finding{warnf(p, "is not read by KEDA's prometheus scaler, which names the metric s<index>-prometheus itself; remove it")}
	}
	if near := nearestKey(k); near != "" {
		return []policies.Finding{warnf(p, "is not a key of KEDA's prometheus scaler, which ignores it silently; did you mean %s?", near)}
	}
	return []policies.Finding{warnf(p, "is not a key of KEDA's prometheus scaler (v2.20), which ignores it silently; check the spelling against %s",
		strings.Join(prometheusKeyList(), ", "))}
}

// ignoreNullValues judges the value KEDA parses with strconv.ParseBool.
func ignoreNullValues(v string, p *field.Path) []policies.Finding {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return []policies.Finding{warnf(p, "is %q, which KEDA cannot read as a boolean, so it refuses the trigger; write \"true\" (an empty result reads as 0) or \"false\" (an empty result is an error)", v)}
	}
	if _, numErr := strconv.Atoi(v); numErr != nil {
		return nil
	}
	if b {
		return []policies.Finding{warnf(p, "is %q, which KEDA reads as true (an empty result reads as 0), not as a number; write \"true\"", v)}
	}
	return []policies.Finding{warnf(p, "is %q, which KEDA reads as false, not as a value for empty results: an empty result then fails the trigger instead of reading 0; "+
		"write \"false\" if that is meant, or \"true\" to read an empty result as 0", v)}
}

// nearestKey is the prometheus key closest to k: the same letters in
// another case or without separators, or a likely typo.
func nearestKey(k string) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(s)) }
	best, bestD := "", len(k)/4+1
	var keys []string
	for c := range prometheusKeys {
		keys = append(keys, c)
	}
	sort.Strings(keys)
	for _, c := range keys {
		if norm(c) == norm(k) {
			return c
		}
		if d := policies.EditDistance(norm(k), norm(c), bestD); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func warnf(p *field.Path, format string, args ...any) policies.Finding {
	f := policies.Warnf(p, format, args...)
	f.Rule = TriggerMetadataID
	return f
}
