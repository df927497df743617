package promql_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/policytest"
	"github.com/scaleguard/scaleguard/policies/promql"
)

type want = policytest.Want

var (
	deny = policytest.Deny
	warn = policytest.Warn
)

// family keeps the findings of this rule family.
func family(fs []policies.Finding) []policies.Finding {
	var out []policies.Finding
	for _, f := range fs {
		switch f.Rule {
		case promql.InvalidID, promql.UnscopedID, promql.CrossNamespaceID, promql.MetricNameID, promql.AggregationID, promql.InlineSecretID:
			out = append(out, f)
		}
	}
	return out
}

// testdata returns the documents of a testdata file up to and including
// the n-th (0-based), so that Admit judges the n-th.
func testdata(t *testing.T, file string, n int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	if n >= len(docs) {
		t.Fatalf("%s has %d documents", file, len(docs))
	}
	return strings.Join(docs[:n+1], "\n---\n")
}

type objectCase struct {
	docs string
	want []want
}

func runObjectCases(t *testing.T, cases map[string]objectCase) {
	t.Helper()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, c.docs)
			policytest.Expect(t, family(got.Result.Findings), c.want...)
			for _, f := range got.Result.Findings {
				if strings.Contains(f.Message, "s3cr3t") {
					t.Errorf("a finding echoes a credential: %s", f)
				}
			}
		})
	}
}

func q(i int) string { return "spec.triggers[" + string(rune('0'+i)) + "].metadata.query" }

func TestSeeds(t *testing.T) {
	isvcQuery := "spec.predictor.autoScaling.metrics[0].external.metric.query"
	runObjectCases(t, map[string]objectCase{
		"Kthena PR as proposed": {docs: testdata(t, "kthena-pr-scaledobject.yaml", 1), want: []want{
			deny(promql.UnscopedID, q(0), "selector `vllm:num_requests_waiting` lacks namespace=\"default\" and a workload label",
				"write `vllm:num_requests_waiting{namespace=\"default\", pod=~\"my-modelserving-[0-9]+-.*\"}`"),
			warn(promql.AggregationID, q(0), "outer avg() returns an average", "use sum()"),
			deny(promql.UnscopedID, q(1), "selector `kthena_router_active_downstream_requests` lacks a matcher on model",
				"write `kthena_router_active_downstream_requests{model=\"<model>\"}`"),
		}},
		"the review's suggestions": {docs: testdata(t, "kthena-pr-review-suggestions.yaml", 0), want: []want{
			deny(promql.UnscopedID, q(0), "lacks namespace=\"default\",",
				"write `vllm:num_requests_waiting{namespace=\"default\", modelserving_volcano_sh_name=\"my-modelserving\"}`"),
			warn(promql.AggregationID, q(0), "outer avg()"),
			warn(promql.AggregationID, q(1), "outer avg()"),
			deny(promql.UnscopedID, q(2), "lacks a matcher on model",
				"write `kthena_router_active_downstream_requests{namespace=\"default\", service=\"my-modelserving\", model=\"<model>\"}`"),
		}},
		"KServe docs InferenceService": {docs: testdata(t, "kserve-docs-inferenceservice.yaml", 0), want: []want{
			deny(promql.UnscopedID, isvcQuery, "selector `vllm:num_requests_running` lacks namespace=\"kserve-demo\"",
				"write `vllm:num_requests_running{namespace=\"kserve-demo\", model_name=\"fbopt\"}`"),
			warn(promql.AggregationID, isvcQuery, "has no outer aggregation", "wrap it in sum(...)"),
		}},
		"prokube TTFT ScaledObject is clean": {docs: testdata(t, "prokube-ttft.yaml", 1)},
		"prokube README strategies": {docs: testdata(t, "prokube-readme-variants.yaml", 0), want: []want{
			deny(promql.UnscopedID, q(0), "write `vllm:generation_tokens_total{namespace=\"developer1\", pod=~\"qwen25-05b-predictor-.*\"}`"),
			warn(promql.AggregationID, q(0), "outer avg()"),
			// DCGM and Kepler report the GPU's or container's pod in labels
			// of their own; namespace and pod are the exporter's unless
			// the scrape honors its labels.
			deny(promql.UnscopedID, q(1), "lacks namespace=\"developer1\",",
				"write `DCGM_FI_DEV_MEM_COPY_UTIL{namespace=\"developer1\", pod=~\"qwen25-05b-predictor.*\"}`, or `DCGM_FI_DEV_MEM_COPY_UTIL{exported_namespace=\"developer1\", exported_pod=~\"qwen25-05b-predictor.*\"}` if its ServiceMonitor or PodMonitor keeps honorLabels false"),
			warn(promql.AggregationID, q(1), "outer avg()"),
			deny(promql.UnscopedID, q(2), "lacks container_namespace=\"developer1\", so",
				"write `kepler_container_joules_total{container_namespace=\"developer1\", container_name=~\"qwen25-05b.*\"}`"),
			warn(promql.MetricNameID, q(3), `"vllm_gpu_cache_usage_perc"`, "use `vllm:kv_cache_usage_perc`"),
		}},
		"runbook raw-vllm: a KV-cache maximum under AverageValue": {docs: testdata(t, "runbook-scaledobjects.yaml", 0), want: []want{
			warn(promql.AggregationID, q(1), "outer max() returns one replica's value", "set metricType: Value"),
		}},
		"runbook simulator: namespace only": {docs: testdata(t, "runbook-scaledobjects.yaml", 1), want: []want{
			deny(promql.UnscopedID, q(0), "lacks a workload label", "write `vllm:num_requests_waiting{namespace=\"inference\", pod=~\"vllm-sim-.*\"}`"),
		}},
		"Kthena homogeneous policy is clean":   {docs: testdata(t, "kthena-autoscalingpolicies.yaml", 0)},
		"Kthena disaggregated policy is clean": {docs: testdata(t, "kthena-autoscalingpolicies.yaml", 1)},
	})
}

const scaledObjectHead = `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: llm, namespace: serving}
spec:
  scaleTargetRef: {name: llm}
`

// trigger renders one prometheus trigger from metadata lines.
func trigger(metadata string, extra ...string) string {
	s := "    - type: prometheus\n"
	for _, e := range extra {
		s += "      " + e + "\n"
	}
	return s + "      metadata:\n" + metadata
}

const scopedTrigger = `        serverAddress: http://prometheus:9090
        query: sum(vllm:num_requests_waiting{namespace="serving", pod=~"llm-.*"})
        threshold: "5"
`

// thanosTenancy is a trigger through OpenShift's Thanos Querier tenancy
// port, as OpenShift's custom metrics autoscaler documents it.
func thanosTenancy(namespace, query string) string {
	return "        serverAddress: https://thanos-querier.openshift-monitoring.svc.cluster.local:9092\n" +
		"        namespace: " + namespace + "\n        authModes: bearer\n        query: '" + query + "'\n        threshold: \"5\"\n"
}

func so(triggers ...string) string {
	return scaledObjectHead + "  triggers:\n" + strings.Join(triggers, "")
}

func TestScaledObject(t *testing.T) {
	md := func(k string) string { return "spec.triggers[0].metadata." + k }
	runObjectCases(t, map[string]objectCase{
		"scoped":                             {docs: so(trigger(scopedTrigger))},
		"other trigger types are not judged": {docs: scaledObjectHead + "  triggers:\n    - type: cpu\n      metricType: Utilization\n      metadata: {value: \"50\"}\n"},
		"the second trigger's path": {docs: so(trigger(scopedTrigger), trigger("        serverAddress: http://prometheus:9090\n        query: sum(up)\n        threshold: \"1\"\n")),
			want: []want{deny(promql.UnscopedID, q(1), "selector `up`", "write `up{namespace=\"serving\", pod=~\"llm-.*\"}`")}},
		"query missing": {docs: so(trigger("        serverAddress: http://prometheus:9090\n        threshold: \"5\"\n")),
			want: []want{deny(promql.InvalidID, md("query"), "is missing, and KEDA's prometheus scaler requires a query")}},
		"serverAddress missing": {docs: so(trigger("        query: sum(x{namespace=\"serving\", pod=\"p\"})\n        threshold: \"5\"\n")),
			want: []want{deny(promql.InvalidID, md("serverAddress"), "is missing")}},
		"query does not parse": {docs: so(trigger("        serverAddress: http://prometheus:9090\n        query: sum(rate(x{namespace=\"serving\"}[5m])\n        threshold: \"5\"\n")),
			want: []want{deny(promql.InvalidID, md("query"), "does not parse at 1:")}},
		"threshold missing": {docs: so(trigger("        serverAddress: http://prometheus:9090\n        query: sum(x{namespace=\"serving\", pod=\"p\"})\n")),
			want: []want{deny(promql.InvalidID, md("threshold"), "is missing")}},
		"threshold KEDA cannot read": {docs: so(trigger(strings.Replace(scopedTrigger, `"5"`, `".5"`, 1))),
			want: []want{deny(promql.InvalidID, md("threshold"), `".5" is not a number KEDA can read`)}},
		"threshold zero":     {docs: so(trigger(strings.Replace(scopedTrigger, `"5"`, `"0"`, 1))), want: []want{deny(promql.InvalidID, md("threshold"), "is 0; it must be greater than 0")}},
		"threshold negative": {docs: so(trigger(strings.Replace(scopedTrigger, `"5"`, `"-2"`, 1))), want: []want{deny(promql.InvalidID, md("threshold"), "is -2")}},
		"threshold KEDA rounds to zero": {docs: so(trigger(strings.Replace(scopedTrigger, `"5"`, `"0.0001"`, 1))),
			want: []want{deny(promql.InvalidID, md("threshold"), "KEDA rounds to 0")}},
		"threshold with spaces and an exponent": {docs: so(trigger(strings.Replace(scopedTrigger, `"5"`, `" 1e3 "`, 1)))},
		"activationThreshold KEDA cannot read": {docs: so(trigger(scopedTrigger + "        activationThreshold: \"one\"\n")),
			want: []want{deny(promql.InvalidID, md("activationThreshold"), `"one" is not a number KEDA can read`)}},
		"activationThreshold": {docs: so(trigger(scopedTrigger + "        activationThreshold: \"0.5\"\n"))},
		"Utilization":         {docs: so(trigger(scopedTrigger, "metricType: Utilization")), want: []want{deny(promql.InvalidID, "spec.triggers[0].metricType", "Utilization is for cpu and memory")}},
		"tenant namespace of another namespace": {docs: so(trigger(scopedTrigger + "        namespace: other\n")),
			want: []want{deny(promql.CrossNamespaceID, md("namespace"), `is "other", but the ScaledObject is in "serving"`, `set it to "serving"`)}},
		"tenant namespace of its own": {docs: so(trigger(scopedTrigger + "        namespace: serving\n"))},
		// OpenShift's Thanos Querier tenancy port injects namespace="serving"
		// from KEDA's namespace metadata.
		"a tenancy proxy pins the namespace": {docs: so(trigger(thanosTenancy("serving", `sum(rate(http_requests_total{job="llm"}[1m]))`)))},
		"a tenancy proxy with another tenant": {docs: so(trigger(thanosTenancy("other", `sum(rate(http_requests_total{job="llm"}[1m]))`))), want: []want{
			deny(promql.CrossNamespaceID, md("namespace"), `is "other", but the ScaledObject is in "serving"`),
			deny(promql.UnscopedID, q(0), "lacks namespace=\"serving\","),
		}},
		"the Querier's port without tenancy": {docs: so(trigger(strings.Replace(thanosTenancy("serving", `sum(rate(http_requests_total{job="llm"}[1m]))`), ":9092", ":9091", 1))),
			want: []want{deny(promql.UnscopedID, q(0), "lacks namespace=\"serving\",")}},
		"a tenant header": {docs: so(trigger(scopedTrigger + "        customHeaders: X-Scope-OrgID=tenant-a\n"))},
		"an Authorization header": {docs: so(trigger(scopedTrigger + "        customHeaders: X-Scope-OrgID=tenant-a,Authorization=Bearer s3cr3t\n")),
			want: []want{deny(promql.InlineSecretID, md("customHeaders"), `header "Authorization" carries a credential`, "TriggerAuthentication or ClusterTriggerAuthentication")}},
		"a cookie whose value holds =": {docs: so(trigger(scopedTrigger + "        customHeaders: Cookie=session=s3cr3t\n")), want: []want{
			deny(promql.InlineSecretID, md("customHeaders"), `header "Cookie"`),
			deny(promql.InvalidID, md("customHeaders"), "entry 1 is not key=value"),
		}},
		"a credential under another header name": {docs: so(trigger(scopedTrigger + "        customHeaders: X-Upstream=Basic czNjcjN0\n")),
			want: []want{deny(promql.InlineSecretID, md("customHeaders"), `header "X-Upstream"`)}},
		"user info in serverAddress": {docs: so(trigger(strings.Replace(scopedTrigger, "http://prometheus:9090", "https://admin:s3cr3t@prometheus:9090", 1))),
			want: []want{deny(promql.InlineSecretID, md("serverAddress"), "carries user credentials (user:password@host)")}},
		"user info in a serverAddress without a scheme": {docs: so(trigger(strings.Replace(scopedTrigger, "http://prometheus:9090", "admin:s3cr3t@prometheus:9090", 1))),
			want: []want{deny(promql.InlineSecretID, md("serverAddress"), "carries user credentials (user:password@host)")}},
		"a token in the server address": {docs: so(trigger(strings.Replace(scopedTrigger, "http://prometheus:9090", "http://prometheus:9090/api?access_token=s3cr3t", 1))),
			want: []want{deny(promql.InlineSecretID, md("serverAddress"), `query parameter "access_token"`)}},
		"a token query parameter": {docs: so(trigger(scopedTrigger + "        queryParameters: timeout=30s,token=s3cr3t\n")),
			want: []want{deny(promql.InlineSecretID, md("queryParameters"), `query parameter "token"`)}},
		"a bearer token in metadata": {docs: so(trigger(scopedTrigger + "        bearerToken: s3cr3t\n")),
			want: []want{deny(promql.InlineSecretID, md("bearerToken"), "holds a credential in plain text", "KEDA reads it only from a TriggerAuthentication, so here it is also ignored")}},
		"a password in metadata": {docs: so(trigger(scopedTrigger + "        password: s3cr3t\n")),
			want: []want{deny(promql.InlineSecretID, md("password"), "holds a credential")}},
		"references to credentials are fine": {docs: so(trigger(scopedTrigger + "        passwordFromEnv: PROM_PASSWORD\n        oauthTokenURI: https://idp/token\n        authModes: bearer\n"))},
		"an apiKey in metadata is read, and exposed": {docs: so(trigger(scopedTrigger + "        authModes: apiKey\n        apiKey: s3cr3t\n")),
			want: []want{deny(promql.InlineSecretID, md("apiKey"), "holds a credential in plain text, readable by anyone who can read the object; store it in a Secret")}},
		"a scalingModifiers formula": {docs: strings.Replace(so(trigger(strings.Replace(scopedTrigger, "sum(", "avg(", 1)), trigger(scopedTrigger)),
			"  scaleTargetRef: {name: llm}\n", "  scaleTargetRef: {name: llm}\n  advanced:\n    scalingModifiers: {formula: \"(a + b) / 2\", target: \"5\"}\n", 1)},
		"a KServe predictor gets the model's name": {docs: `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: {name: opt, namespace: serving}
spec:
  predictor:
    model:
      modelFormat: {name: huggingface}
      args: ["--model_name", "opt-125m"]
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: opt, namespace: serving}
spec:
  scaleTargetRef: {name: opt-predictor}
  triggers:
` + trigger("        serverAddress: http://prometheus:9090\n        query: sum(vllm:num_requests_running)\n        threshold: \"4\"\n"),
			want: []want{deny(promql.UnscopedID, q(0), "write `vllm:num_requests_running{namespace=\"serving\", model_name=\"opt-125m\"}`")}},
		"generated by an InferenceService: judged there": {docs: `
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata:
  name: huggingface-fbopt-predictor
  namespace: kserve-demo
  ownerReferences:
    - {apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, name: huggingface-fbopt, uid: 7c1e6c2a-1b1a-4c55-9a55-2f8d7f1f0a01, controller: true}
spec:
  scaleTargetRef: {name: huggingface-fbopt-predictor}
  triggers:
` + trigger("        serverAddress: http://prometheus.istio-system.svc.cluster.local:9090\n        query: vllm:num_requests_running\n        threshold: \"2\"\n"),
			want: []want{
				warn(promql.UnscopedID, q(0), "selector `vllm:num_requests_running` lacks", `(generated by InferenceService "huggingface-fbopt": judged there)`),
				warn(promql.AggregationID, q(0), "has no outer aggregation"),
			}},
	})
}

const isvcHead = `
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: huggingface-fbopt
  namespace: kserve-demo
  annotations: {serving.kserve.io/deploymentMode: RawDeployment, serving.kserve.io/autoscalerClass: keda}
spec:
`

// external renders one prometheus external metric.
func external(query, target string, extra ...string) string {
	s := "        - type: External\n          external:\n            metric:\n              backend: prometheus\n" +
		"              serverAddress: http://prometheus:9090\n              query: '" + query + "'\n"
	for _, e := range extra {
		s += "              " + e + "\n"
	}
	return s + "            target: " + target + "\n"
}

func isvc(components string) string { return isvcHead + components }

func predictor(metrics ...string) string {
	return `  predictor:
    model:
      modelFormat: {name: huggingface}
      args: [--model_name=fbopt, --model_id=facebook/opt-125m]
    autoScaling:
      metrics:
` + strings.Join(metrics, "")
}

// typed renders one trigger of any type from metadata lines.
func typed(typ, metadata string) string {
	return "    - type: " + typ + "\n      metadata:\n" + metadata
}

// TestOtherTriggerTypes: trigger-inline-secret judges the metadata of
// every trigger type, not only prometheus; the query rules judge only
// prometheus triggers.
func TestOtherTriggerTypes(t *testing.T) {
	md := func(i int, k string) string { return "spec.triggers[" + string(rune('0'+i)) + "].metadata." + k }
	const rabbit = "        queueName: orders\n        mode: QueueLength\n        value: \"20\"\n"
	runObjectCases(t, map[string]objectCase{
		"rabbitmq: user info in host": {docs: so(typed("rabbitmq", rabbit+"        host: amqp://guest:s3cr3t@rabbitmq.serving.svc:5672/orders\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "host"), "carries user credentials (user:password@host)", "TriggerAuthentication or ClusterTriggerAuthentication with authenticationRef")}},
		"rabbitmq: host from the environment":  {docs: so(typed("rabbitmq", rabbit+"        hostFromEnv: RABBITMQ_URL\n"))},
		"rabbitmq: a host without credentials": {docs: so(typed("rabbitmq", rabbit+"        host: amqp://rabbitmq.serving.svc:5672/orders\n        protocol: amqp\n"))},
		"metrics-api: a token in the url": {docs: so(trigger(scopedTrigger), typed("metrics-api",
			"        url: http://api.serving.svc:8080/stats?token=s3cr3t\n        valueLocation: queue.depth\n        targetValue: \"10\"\n")),
			want: []want{deny(promql.InlineSecretID, md(1, "url"), `query parameter "token" carries a credential`)}},
		"metrics-api: a bearer token inline is ignored and exposed": {docs: so(typed("metrics-api",
			"        url: http://api.serving.svc:8080/stats\n        valueLocation: queue.depth\n        targetValue: \"10\"\n        authMode: bearer\n        token: s3cr3t\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "token"), "KEDA reads it only from a TriggerAuthentication, so here it is also ignored", "(authModes: bearer, basic or custom)")}},
		"redis: a password inline": {docs: so(typed("redis", "        address: redis.serving.svc:6379\n        listName: jobs\n        password: s3cr3t\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "password"), "holds a credential in plain text, readable by anyone who can read the object; store it in a Secret")}},
		"redis: passwordFromEnv names a variable": {docs: so(typed("redis", "        address: redis.serving.svc:6379\n        listName: jobs\n        passwordFromEnv: REDIS_PASSWORD\n"))},
		"mysql: user info in a connection string": {docs: so(typed("mysql", "        connectionString: shop:s3cr3t@tcp(mysql.serving.svc:3306)/shop\n        query: SELECT COUNT(*) FROM jobs\n        queryValue: \"4\"\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "connectionString"), "carries user credentials")}},
		"azure-queue: an account key in a connection string": {docs: so(typed("azure-queue",
			"        queueName: jobs\n        connection: DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=s3cr3t;EndpointSuffix=core.windows.net\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "connection"), `connection string part "AccountKey" carries a credential`)}},
		"postgresql: a password in a connection string": {docs: so(typed("postgresql",
			"        connection: host=db.serving.svc port=5432 user=app password=s3cr3t dbname=shop\n        query: SELECT 1\n        targetQueryValue: \"1\"\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "connection"), `connection string part "password"`)}},
		"postgresql: a URL connection string": {docs: so(typed("postgresql",
			"        connection: postgresql://app:s3cr3t@db.serving.svc:5432/shop\n        query: SELECT 1\n        targetQueryValue: \"1\"\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "connection"), "carries user credentials")}},
		"azure-queue: connection from the environment": {docs: so(typed("azure-queue", "        queueName: jobs\n        connectionFromEnv: STORAGE_CONNECTION\n"))},
		// Keys named like credentials that KEDA scalers use for other things.
		"kafka: saslTokenProvider names a mechanism": {docs: so(typed("kafka",
			"        bootstrapServers: kafka.serving.svc:9092\n        consumerGroup: g\n        topic: t\n        lagThreshold: \"50\"\n        sasl: oauthbearer\n        saslTokenProvider: aws_msk_iam\n"))},
		"gcp-pubsub: credentials from an env file": {docs: so(typed("gcp-pubsub", "        subscriptionName: s\n        credentialsFromEnvFile: GOOGLE_APPLICATION_CREDENTIALS_JSON\n"))},
		"gcp-pubsub: inline credentials": {docs: so(typed("gcp-pubsub", "        subscriptionName: s\n        credentials: '{\"private_key\": \"s3cr3t\"}'\n")),
			want: []want{deny(promql.InlineSecretID, md(0, "credentials"), "holds a credential")}},
		"kubernetes-resource: key names a ConfigMap entry": {docs: so(typed("kubernetes-resource",
			"        resourceKind: ConfigMap\n        resourceName: scaling\n        key: desired\n        targetValue: \"1\"\n"))},
		"selenium-grid: session settings": {docs: so(typed("selenium-grid",
			"        url: http://selenium-hub.serving.svc:4444/graphql\n        browserName: chrome\n        sessionBrowserName: chrome\n        nodeMaxSessions: \"4\"\n"))},
		"an email address is not an address with credentials": {docs: so(typed("github-runner", "        owner: shop\n        runnerScope: repo\n        repos: shop\n        labels: ops@example.com\n"))},
	})
}

func TestInferenceService(t *testing.T) {
	const scoped = `sum(vllm:num_requests_running{namespace="kserve-demo", model_name="fbopt"})`
	m := func(comp, k string) string { return "spec." + comp + ".autoScaling.metrics[0].external." + k }
	runObjectCases(t, map[string]objectCase{
		"the docs query scoped":  {docs: isvc(predictor(external(scoped, "{type: Value, value: \"2\"}")))},
		"a number as the target": {docs: isvc(predictor(external(scoped, "{type: Value, value: 2}")))},
		"avg whatever target.type says": {docs: isvc(predictor(external(strings.Replace(scoped, "sum", "avg", 1), "{type: Value, value: \"2\"}"))),
			want: []want{warn(promql.AggregationID, m("predictor", "metric.query"), "whatever target.type says", "use sum()")}},
		"a latency": {docs: isvc(predictor(external(`histogram_quantile(0.95, sum by (le) (rate(vllm:time_to_first_token_seconds_bucket{namespace="kserve-demo", model_name="fbopt"}[2m])))`, "{type: Value, value: \"2\"}"))),
			want: []want{warn(promql.AggregationID, m("predictor", "metric.query"), "returns a quantile", "autoscalerClass: external")}},
		"other backends and resource metrics are not judged": {docs: isvc(predictor(
			"        - type: Resource\n          resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n",
			strings.Replace(external("sum(up)", "{type: Value, value: \"2\"}"), "backend: prometheus", "backend: graphite", 1)))},
		"averageValue instead of value": {docs: isvc(predictor(external(scoped, "{type: AverageValue, averageValue: \"2\"}"))),
			want: []want{deny(promql.InvalidID, m("predictor", "target.value"), "KServe passes only target.value to KEDA as the threshold and ignores averageValue")}},
		"no target value": {docs: isvc(predictor(external(scoped, "{type: Value}"))),
			want: []want{deny(promql.InvalidID, m("predictor", "target.value"), "is missing")}},
		"a quantity KEDA cannot read": {docs: isvc(predictor(external(scoped, "{type: Value, value: 500m}"))),
			want: []want{deny(promql.InvalidID, m("predictor", "target.value"), `"500m" is not a number KEDA can read`)}},
		"another tenant namespace": {docs: isvc(predictor(external(scoped, "{type: Value, value: \"2\"}", "namespace: other"))),
			want: []want{deny(promql.CrossNamespaceID, m("predictor", "metric.namespace"), `is "other", but the InferenceService is in "kserve-demo"`)}},
		"user info in serverAddress": {docs: isvc(predictor(strings.Replace(external(scoped, "{type: Value, value: \"2\"}"), "http://prometheus", "http://admin:s3cr3t@prometheus", 1))),
			want: []want{deny(promql.InlineSecretID, m("predictor", "metric.serverAddress"), "user credentials", "external.authenticationRef")}},
		"a transformer": {docs: isvc(predictor(external(scoped, "{type: Value, value: \"2\"}")) +
			"  transformer:\n    containers: [{name: t, image: t}]\n    autoScaling:\n      metrics:\n" + external("sum(rate(http_requests_total[1m]))", "{type: Value, value: \"50\"}")),
			want: []want{deny(promql.UnscopedID, m("transformer", "metric.query"),
				"write `http_requests_total{namespace=\"kserve-demo\", pod=~\"huggingface-fbopt-transformer-.*\"}`")}},
		"an explainer": {docs: isvc(predictor(external(scoped, "{type: Value, value: \"2\"}")) +
			"  explainer:\n    containers: [{name: e, image: e}]\n    autoScaling:\n      metrics:\n" + external("sum(x{namespace=\"other\", pod=\"e\"})", "{type: Value, value: \"1\"}")),
			want: []want{deny(promql.CrossNamespaceID, m("explainer", "metric.query"), `reads namespace "other"`)}},
		"a named predictor": {docs: isvc(strings.Replace(predictor(external("sum(DCGM_FI_DEV_GPU_UTIL)", "{type: Value, value: \"80\"}")), "  predictor:\n", "  predictor:\n    name: blue\n", 1)),
			want: []want{deny(promql.UnscopedID, m("predictor", "metric.query"), "pod=~\"huggingface-fbopt-blue-predictor-.*\"")}},
		"the model name defaults to the InferenceService's": {docs: isvc(strings.Replace(predictor(external("sum(vllm:num_requests_running)", "{type: Value, value: \"2\"}")), "--model_name=fbopt, ", "", 1)),
			want: []want{deny(promql.UnscopedID, m("predictor", "metric.query"), "model_name=\"huggingface-fbopt\"")}},
	})
}

const policyHead = `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicy
metadata: {name: llm-policy, namespace: serving}
spec:
`

func source(query string) string {
	return "prometheus: {serverURL: \"http://prometheus:9090\", query: '" + query + "'}"
}

func TestAutoscalingPolicy(t *testing.T) {
	const scoped = `sum(vllm:num_requests_waiting{namespace="serving", modelserving_volcano_sh_name="llm"})`
	homogeneous := func(query, targetValue string) string {
		return policyHead + "  metrics: [{name: waiting, targetValue: \"" + targetValue + "\"}]\n" +
			"  homogeneousTarget:\n    minReplicas: 1\n    maxReplicas: 4\n    target:\n      targetRef: {kind: ModelServing, name: llm}\n" +
			"      metricSources:\n        waiting: {" + source(query) + "}\n"
	}
	hq := "spec.homogeneousTarget.target.metricSources[waiting].prometheus.query"
	runObjectCases(t, map[string]objectCase{
		"homogeneous scoped": {docs: homogeneous(scoped, "5")},
		"homogeneous unscoped": {docs: homogeneous("sum(vllm:num_requests_waiting)", "5"), want: []want{
			deny(promql.UnscopedID, hq, "write `vllm:num_requests_waiting{namespace=\"serving\", pod=~\"llm-[0-9]+-.*\"}`"),
		}},
		"avg": {docs: homogeneous(strings.Replace(scoped, "sum", "avg", 1), "5"), want: []want{
			warn(promql.AggregationID, hq, "Kthena computes desired = ceil(value / targetValue)", "return a total"),
		}},
		"a scalar is fine for Kthena": {docs: homogeneous("scalar("+scoped+")", "5")},
		"targetValue zero": {docs: homogeneous(scoped, "0"), want: []want{
			deny(promql.InvalidID, "spec.metrics[0].targetValue", `is 0; it must be greater than 0, because Kthena divides the value of source "waiting" by it`),
		}},
		"a source without a metric entry": {docs: strings.Replace(homogeneous(scoped, "5"), "name: waiting,", "name: running,", 1), want: []want{
			warn(promql.InvalidID, "spec.homogeneousTarget.target.metricSources[waiting]", `source "waiting" has no entry in spec.metrics, so Kthena never evaluates it`),
		}},
		"user info in serverURL": {docs: strings.Replace(homogeneous(scoped, "5"), "http://prometheus", "http://admin:s3cr3t@prometheus", 1), want: []want{
			deny(promql.InlineSecretID, "spec.homogeneousTarget.target.metricSources[waiting].prometheus.serverURL", "Kthena's prometheus source has no credential field"),
		}},
		"pod sources are not judged": {docs: strings.Replace(homogeneous(scoped, "5"), source(scoped), "pod: {name: \"vllm:num_requests_waiting\"}", 1)},
		"heterogeneous": {docs: policyHead + "  metrics: [{name: waiting, targetValue: \"0\"}]\n  heterogeneousTarget:\n    params:\n" +
			"      - target:\n          targetRef: {name: llm-a100}\n          metricSources:\n            waiting: {" + source(`sum(vllm:num_requests_waiting{namespace="serving", modelserving_volcano_sh_name="llm-a100"})`) + "}\n" +
			"      - target:\n          targetRef: {name: llm-l4}\n          metricSources:\n            waiting: {" + source("sum(vllm:num_requests_waiting)") + "}\n",
			want: []want{
				deny(promql.UnscopedID, "spec.heterogeneousTarget.params[1].target.metricSources[waiting].prometheus.query", "modelserving_volcano_sh_name=\"llm-l4\""),
				deny(promql.InvalidID, "spec.metrics[0].targetValue", "is 0"),
			}},
		"disaggregated": {docs: policyHead + "  disaggregatedTarget:\n    targetRef: {kind: ModelServing, name: pd}\n    roles:\n" +
			"      prefill:\n        metrics: [{name: q, targetValue: \"4\"}]\n        metricSources:\n          q: {" + source(`sum(vllm:num_requests_waiting{namespace="serving", modelserving_volcano_sh_name="pd"})`) + "}\n" +
			"      decode:\n        metrics: [{name: q, targetValue: \"4\"}]\n        metricSources:\n          q: {" + source(`sum(vllm:num_requests_waiting{namespace="other", modelserving_volcano_sh_name="pd"})`) + "}\n",
			want: []want{
				deny(promql.CrossNamespaceID, "spec.disaggregatedTarget.roles[decode].metricSources[q].prometheus.query", `reads namespace "other"`),
			}},
		// A policy may scale a ModelServing of another namespace (the
		// conflict rules judge that); its queries read that target's load.
		"a target in another namespace: queries read the target's namespace": {docs: strings.Replace(
			homogeneous(strings.Replace(scoped, `namespace="serving"`, `namespace="models"`, 1), "5"), "targetRef: {kind: ModelServing, name: llm}", "targetRef: {kind: ModelServing, name: llm, namespace: models}", 1)},
		"a target in another namespace: the policy's namespace is another's": {docs: strings.Replace(
			homogeneous(scoped, "5"), "targetRef: {kind: ModelServing, name: llm}", "targetRef: {kind: ModelServing, name: llm, namespace: models}", 1),
			want: []want{deny(promql.CrossNamespaceID, hq, `reads namespace "serving", not target ModelServing "llm"'s namespace "models"`,
				"write `vllm:num_requests_waiting{namespace=\"models\", modelserving_volcano_sh_name=\"llm\"}`")}},
		"a target in another namespace: the fix names it": {docs: strings.Replace(
			homogeneous("sum(vllm:num_requests_waiting)", "5"), "targetRef: {kind: ModelServing, name: llm}", "targetRef: {kind: ModelServing, name: llm, namespace: models}", 1),
			want: []want{deny(promql.UnscopedID, hq, "lacks namespace=\"models\" and", "write `vllm:num_requests_waiting{namespace=\"models\", pod=~\"llm-[0-9]+-.*\"}`")}},
		"an explicit target namespace equal to the policy's": {docs: strings.Replace(
			homogeneous(scoped, "5"), "targetRef: {kind: ModelServing, name: llm}", "targetRef: {kind: ModelServing, name: llm, namespace: serving}", 1)},
		"disaggregated: the target's namespace": {docs: policyHead + "  disaggregatedTarget:\n    targetRef: {kind: ModelServing, name: pd, namespace: models}\n    roles:\n" +
			"      prefill:\n        metrics: [{name: q, targetValue: \"4\"}]\n        metricSources:\n          q: {" + source(`sum(vllm:num_requests_waiting{namespace="models", pod=~"pd-[0-9]+-prefill-.*"})`) + "}\n"},
		"the older AutoscalingPolicyBinding has no queries": {docs: `
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: AutoscalingPolicyBinding
metadata: {name: llm, namespace: serving}
spec:
  policyRef: {name: llm-policy}
  homogeneousTarget:
    minReplicas: 1
    maxReplicas: 4
    target:
      targetRef: {kind: ModelServing, name: llm}
`},
	})
}

// TestDefaultProfiles pins the documented defaults for
// workload-local metrics, and the exporter profiles chosen by prefix.
func TestDefaultProfiles(t *testing.T) {
	s := policies.DefaultPromQLSettings()
	want := []string{"pod", "model_name", "model", "service", "deployment", "job",
		"modelserving_volcano_sh_name", "serving_kserve_io_inferenceservice", "app"}
	if got := s.Default.WorkloadLabels; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("default workload labels %v, want %v", got, want)
	}
	if got := s.Default.Namespaces(); strings.Join(got, ",") != "namespace" || !s.Default.RequireNamespace {
		t.Errorf("default namespace labels %v (required %v), want [namespace], required", got, s.Default.RequireNamespace)
	}
	for metric, profile := range map[string]string{
		"vllm:num_requests_waiting": "workload",
		"http_requests_total":       "workload",
		"":                          "workload",
		"kthena_router_active_downstream_requests": "kthena-router",
		"DCGM_FI_DEV_GPU_UTIL":                     "dcgm-exporter",
		"nginx_ingress_controller_requests":        "ingress-nginx",
		"kepler_container_joules_total":            "kepler",
		"kepler_pod_cpu_joules_total":              "kepler-pod",
	} {
		if got := s.ProfileFor(metric).Name; got != profile {
			t.Errorf("profile of %q is %q, want %q", metric, got, profile)
		}
	}
}

// TestSettingsValidate covers the PromQL section of the settings.
func TestSettingsValidate(t *testing.T) {
	if err := policies.ValidateSettings(policies.DefaultSettings(), policies.Default); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	s := policies.DefaultSettings()
	s.PromQL.Default.MetricPrefix = "vllm:"
	s.PromQL.Profiles = append([]policies.ScopeProfile{{Name: "kthena-router", MetricPrefix: "kthena_router_", WorkloadLabels: []string{"model"}}},
		policies.ScopeProfile{Name: "dup", MetricPrefix: "kthena_router_", WorkloadLabels: []string{"model"}},
		policies.ScopeProfile{Name: "", MetricPrefix: "", NamespaceLabels: []string{"name-space"}, WorkloadLabels: []string{"bad-label"}},
		policies.ScopeProfile{Name: "exporter", MetricPrefix: "exp_", NamespaceLabels: []string{"exported_namespace", "exported_namespace"},
			WorkloadLabels: []string{"exported_pod", "exported_namespace"}},
		policies.ScopeProfile{Name: "ns-as-workload", MetricPrefix: "nsw_", WorkloadLabels: []string{"namespace"}})
	s.PromQL.ExtraMetrics = []string{"not a metric"}
	err := policies.ValidateSettings(s, policies.Default)
	if err == nil {
		t.Fatal("invalid PromQL settings validated")
	}
	for _, frag := range []string{
		"promql.default.metricPrefix: must be empty",
		`promql.profiles[1].metricPrefix: "kthena_router_" is used by another profile`,
		"promql.profiles[2].name: required", "promql.profiles[2].metricPrefix: required",
		`promql.profiles[2].workloadLabels[0]: "bad-label" is not a label name`,
		`promql.profiles[2].namespaceLabels[0]: "name-space" is not a label name`,
		`promql.extraMetrics[0]: "not a metric" is not a metric name`,
		`promql.profiles[3].namespaceLabels[1]: "exported_namespace" is listed twice`,
		`promql.profiles[3].workloadLabels[1]: "exported_namespace" is a namespace label`,
		`promql.profiles[4].workloadLabels[0]: "namespace" is a namespace label`,
	} {
		if !strings.Contains(err.Error(), frag) {
			t.Errorf("error %q lacks %q", err, frag)
		}
	}
}
