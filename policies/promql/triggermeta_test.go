package promql_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
	"github.com/scaleguard/scaleguard/policies/promql"
)

// TestTriggerMetadata: fields KEDA silently ignores, firing and not.
func TestTriggerMetadata(t *testing.T) {
	md := func(i int, k string) string { return "spec.triggers[" + string(rune('0'+i)) + "].metadata." + k }
	tm := func(field string, fragments ...string) want {
		return warn(promql.TriggerMetadataID, field, fragments...)
	}
	cases := map[string]struct {
		docs string
		want []want
	}{
		"a clean prometheus trigger": {docs: so(trigger(scopedTrigger + "        activationThreshold: \"1\"\n        ignoreNullValues: \"false\"\n        unsafeSsl: \"true\"\n        timeout: \"3000\"\n"))},
		"metricType under metadata": {docs: so(trigger(scopedTrigger + "        metricType: Value\n")),
			want: []want{tm(md(0, "metricType"), "is a field of the trigger, not of its metadata", "the trigger uses AverageValue (KEDA's default)",
				"move it up: spec.triggers[0].metricType: Value")}},
		"metricType under metadata beside the trigger's own": {docs: so(trigger(scopedTrigger+"        metricType: Value\n", "metricType: AverageValue")),
			want: []want{tm(md(0, "metricType"), "the trigger uses AverageValue;")}},
		"metricType under metadata of any trigger type": {docs: so(typed("cpu", "        value: \"60\"\n        metricType: Utilization\n")),
			want: []want{tm(md(0, "metricType"), "move it up: spec.triggers[0].metricType: Utilization")}},
		"authenticationRef under metadata": {docs: so(trigger(scopedTrigger + "        authenticationRef: keda-prom-creds\n")),
			want: []want{tm(md(0, "authenticationRef"), "authenticates with nothing", "spec.triggers[0].authenticationRef: {name: keda-prom-creds}")}},
		"a typo of activationThreshold": {docs: so(trigger(scopedTrigger + "        activationThreshhold: \"2\"\n")),
			want: []want{tm(md(0, "activationThreshhold"), "is not a key of KEDA's prometheus scaler, which ignores it silently; did you mean activationThreshold?")}},
		"snake case of a key": {docs: so(trigger(scopedTrigger + "        activation_threshold: \"2\"\n")),
			want: []want{tm(md(0, "activation_threshold"), "did you mean activationThreshold?")}},
		"wrong case of a key": {docs: so(trigger(scopedTrigger + "        ignorenullvalues: \"false\"\n")),
			want: []want{tm(md(0, "ignorenullvalues"), "did you mean ignoreNullValues?")}},
		"a key of another scaler": {docs: so(trigger(scopedTrigger + "        valueLocation: queue.depth\n")),
			want: []want{tm(md(0, "valueLocation"), "is not a key of KEDA's prometheus scaler (v2.20)", "serverAddress, query, threshold")}},
		"metricName": {docs: so(trigger(scopedTrigger + "        metricName: vllm_num_requests_waiting\n")),
			want: []want{tm(md(0, "metricName"), "names the metric s<index>-prometheus itself; remove it")}},
		"an authParams-only key": {docs: so(trigger(scopedTrigger + "        customAuthHeader: X-Api-Token\n")),
			want: []want{tm(md(0, "customAuthHeader"), "only from a TriggerAuthentication (authParams)")}},
		"a credential is trigger-inline-secret's alone": {docs: so(trigger(scopedTrigger + "        bearerToken: s3cr3t\n"))},
		"ignoreNullValues 0": {docs: so(trigger(scopedTrigger + "        ignoreNullValues: \"0\"\n")),
			want: []want{tm(md(0, "ignoreNullValues"), `is "0", which KEDA reads as false`, "fails the trigger instead of reading 0")}},
		"ignoreNullValues 1": {docs: so(trigger(scopedTrigger + "        ignoreNullValues: \"1\"\n")),
			want: []want{tm(md(0, "ignoreNullValues"), `is "1", which KEDA reads as true`)}},
		"ignoreNullValues not a boolean": {docs: so(trigger(scopedTrigger + "        ignoreNullValues: \"yes\"\n")),
			want: []want{tm(md(0, "ignoreNullValues"), "cannot read as a boolean, so it refuses the trigger")}},
		"keys of other scalers are not judged": {docs: so(typed("rabbitmq", "        queueName: orders\n        mode: QueueLength\n        value: \"20\"\n        hostFromEnv: RABBITMQ_URL\n"))},
		"the cloud identity keys":              {docs: so(trigger(scopedTrigger + "        awsRegion: eu-west-1\n        identityOwner: operator\n"))},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, policytest.OnlyRule(got.Result.Findings, promql.TriggerMetadataID), c.want...)
		})
	}
	if r, ok := policies.Default.Get(promql.TriggerMetadataID); !ok || r.Action != policies.Warn {
		t.Errorf("trigger-metadata is registered as %v, want a warn rule", r.Action)
	}
}
