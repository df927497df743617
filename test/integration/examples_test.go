package integration

import (
	"context"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/internal/controlplane"
	"github.com/scaleguard/scaleguard/internal/manifests"
)

// expectedExamples is what `make demo` must show for every example: the
// API server's result and the rules named in its denial, warnings or
// patches. An example without an entry fails the test.
var expectedExamples = map[string]struct {
	result string
	rules  []string
}{
	"00-namespaces.yaml:1":                          {"created", nil},
	"00-namespaces.yaml:7":                          {"created", nil},
	"00-namespaces.yaml:12":                         {"created", nil},
	"00-namespaces.yaml:17":                         {"created", nil},
	"00-namespaces.yaml:22":                         {"created", nil},
	"00-namespaces.yaml:27":                         {"created", nil},
	"00-namespaces.yaml:32":                         {"created", nil},
	"autoscalers/10-deployment.yaml:1":              {"created", nil},
	"autoscalers/20-podautoscaler.yaml:1":           {"created", nil},
	"autoscalers/30-scaledobject.yaml:1":            {"denied", []string{"conflict-autoscaler"}},
	"conflicts/10-deployment.yaml:1":                {"created", nil},
	"conflicts/20-hpa.yaml:1":                       {"created", nil},
	"conflicts/30-scaledobject.yaml:1":              {"denied", []string{"conflict-hpa"}},
	"conflicts/31-scaledobject-takeover.yaml:1":     {"created", nil},
	"conflicts/40-inferenceservice.yaml:1":          {"created", nil},
	"conflicts/41-scaledobject-predictor.yaml:1":    {"denied", []string{"conflict-kserve"}},
	"conflicts/42-inferenceservice-fixed.yaml:1":    {"updated", nil},
	"conflicts/43-scaledobject-admitted.yaml:1":     {"created", nil},
	"conflicts/50-vpa.yaml:1":                       {"created", []string{"conflict-vpa"}},
	"gpu/05-resourcequota.yaml:1":                   {"created", nil},
	"gpu/10-deployment-raw-vllm.yaml:1":             {"created", nil},
	"gpu/20-scaledobject-raw-vllm.yaml:1":           {"created", []string{"gpu-paused-default", "gpu-idle-cost", "gpu-quota", "promql-aggregation"}},
	"kserve/10-inferenceservice-docs.yaml:1":        {"denied", []string{"promql-unscoped", "promql-aggregation"}},
	"kserve/11-inferenceservice-docs-scoped.yaml:1": {"created", nil},
	"kserve/20-inferenceservice-opt.yaml:1":         {"created", nil},
	"kserve/21-scaledobject-ttft.yaml:1":            {"created", nil},
	"kthena/10-modelserving.yaml:1":                 {"created", nil},
	"kthena/20-podmonitor.yaml:1":                   {"created", []string{"monitor-port"}},
	"kthena/21-router.yaml:1":                       {"created", nil},
	"kthena/21-router.yaml:20":                      {"created", nil},
	"kthena/21-router.yaml:36":                      {"created", []string{"monitor-selector-overmatch"}},
	"kthena/30-scaledobject-as-proposed.yaml:1":     {"denied", []string{"promql-unscoped", "promql-aggregation", "gpu-paused-default", "gpu-idle-cost", "trigger-metadata"}},
	"kthena/31-scaledobject-no-kind.yaml:1":         {"denied", []string{"target-ref", "gpu-paused-default"}},
	"kthena/32-scaledobject-no-apiversion.yaml:1":   {"denied", []string{"target-ref"}},
	"kthena/33-scaledobject-fixed.yaml:1":           {"created", []string{"gpu-paused-default"}},
	"kthena/34-scaledobject-pod-label.yaml:1":       {"updated", []string{"gpu-paused-default", "promql-label-source"}},
	"policy/10-scaleguardpolicy.yaml:1":             {"created", nil},
	// kserve/10 again, under the policy: admitted with the same findings as warnings.
	"policy/20-inferenceservice-docs.yaml:1": {"created", []string{"promql-unscoped", "promql-aggregation"}},
}

// pausedPatch is what the demo prints for the pause gpu-paused-default
// injects into a ScaledObject sent without annotations.
const pausedPatch = `add /metadata/annotations {"autoscaling.keda.sh/paused":"true"}`

// expectedPatches are the changes admission makes to examples (none for
// an example not listed).
var expectedPatches = map[string][]string{
	"gpu/20-scaledobject-raw-vllm.yaml:1": {pausedPatch},
	"kthena/20-podmonitor.yaml:1": {
		"add /spec/podMetricsEndpoints/0/portNumber 8000",
		"remove /spec/podMetricsEndpoints/0/port",
		"remove /spec/podMetricsEndpoints/0/targetPort",
	},
	"kthena/33-scaledobject-fixed.yaml:1":     {pausedPatch},
	"kthena/34-scaledobject-pod-label.yaml:1": {pausedPatch},
}

// ruleRef finds "[rule-id] " at the start of a finding's text; field paths
// such as spec.triggers[0] or roles[decode] never follow whitespace.
var ruleRef = regexp.MustCompile(`(?:^|\s)\[([a-z][a-z0-9]*(?:-[a-z0-9]+)*)\] `)

func TestExamplesThroughTheAPIServer(t *testing.T) {
	dir := filepath.Join(env.Root, "examples")
	objs, err := manifests.Read([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	outcomes, err := controlplane.Apply(context.Background(), env.Config, objs, waitSeen)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, o := range outcomes {
		key := strings.TrimPrefix(o.Object.Where(), dir+"/")
		seen[key] = true
		want, ok := expectedExamples[key]
		if !ok {
			t.Errorf("%s (%s %s): no expectation; it was %s", key, o.Object.GVK.Kind, o.Object.Name, o.Result)
			continue
		}
		if o.Result != want.result {
			t.Errorf("%s: %s, want %s (%s)", key, o.Result, want.result, o.Message)
		}
		text := strings.Join(append(append(append([]string{}, o.Causes...), o.Warnings...), o.Changes...), "\n")
		if o.Result == "error" {
			text += o.Message
		}
		got := map[string]bool{}
		for _, m := range ruleRef.FindAllStringSubmatch(text, -1) {
			got[m[1]] = true
		}
		var gotList []string
		for r := range got {
			gotList = append(gotList, r)
		}
		sort.Strings(gotList)
		wantList := append([]string(nil), want.rules...)
		sort.Strings(wantList)
		if strings.Join(gotList, ",") != strings.Join(wantList, ",") {
			t.Errorf("%s: rules %v, want %v\n%s", key, gotList, wantList, text)
		}
		if want := expectedPatches[key]; strings.Join(o.Changes, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: patched %q, want %q", key, o.Changes, want)
		}
	}
	for key := range expectedExamples {
		if !seen[key] {
			t.Errorf("%s: expected but not in examples/", key)
		}
	}
}
