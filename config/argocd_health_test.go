// Package config_test checks the operating files shipped under config/:
// the Argo CD plugin and health checks, the Grafana dashboard and the
// Prometheus alerts.
package config_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// healthKeyPrefix is how argocd-cm names a health check: the prefix, then
// group_Kind (Argo CD's lua.GetConfigMapKey).
const healthKeyPrefix = "resource.customizations.health."

func healthScripts(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("argocd", "argocd-cm-health.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(b, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Name != "argocd-cm" || cm.Namespace != "argocd" || cm.Kind != "ConfigMap" {
		t.Fatalf("the snippet is %s %s/%s, want ConfigMap argocd/argocd-cm", cm.Kind, cm.Namespace, cm.Name)
	}
	return cm.Data
}

// runHealth runs a health script as Argo CD does (util/lua/lua.go in
// argo-cd v3.5): the package, base and table libraries only (no string or
// math), obj as a global, one second to finish, a table returned.
func runHealth(script string, obj map[string]any) (status, message string, err error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), Protect: true}, lua.LString(lib.name)); err != nil {
			return "", "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, obj))
	if err := l.DoString(script); err != nil {
		return "", "", err
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return "", "", errNotATable
	}
	return lua.LVAsString(ret.RawGetString("status")), lua.LVAsString(ret.RawGetString("message")), nil
}

type healthError string

func (e healthError) Error() string { return string(e) }

const errNotATable = healthError("the script did not return a table")

// toLua converts a decoded object as Argo CD's decodeValue does.
func toLua(l *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := l.NewTable()
		for k, e := range v {
			t.RawSetString(k, toLua(l, e))
		}
		return t
	case []any:
		t := l.NewTable()
		for _, e := range v {
			t.Append(toLua(l, e))
		}
		return t
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	}
	return lua.LNil
}

// healthCases are the sample objects of argocd/testdata/health and what
// Argo CD must show for each.
var healthCases = map[string]struct {
	status  string
	message []string
}{
	"modelserving-no-status.yaml":             {"Progressing", []string{"waiting for the ModelServing controller to report a status"}},
	"modelserving-progressing.yaml":           {"Progressing", []string{"Progressing: Some groups is progressing: [0 1]; 0 of 2 serving groups available"}},
	"modelserving-never-ready.yaml":           {"Progressing", []string{"Progressing: Some groups is progressing: [1]; 1 of 2 serving groups available"}},
	"modelserving-updating.yaml":              {"Progressing", []string{"UpdateInProgress: ", "Updated Groups are: [0]"}},
	"modelserving-healthy.yaml":               {"Healthy", []string{"2 of 2 serving groups available"}},
	"modelserving-scaled-up-not-created.yaml": {"Progressing", []string{"2 of 3 serving groups available"}},
	"modelserving-scaled-to-zero.yaml":        {"Healthy", []string{"scaled to zero serving groups"}},
	"modelserving-not-observed.yaml":          {"Progressing", []string{"observe generation 4"}},

	"autoscalingpolicy-homogeneous.yaml":             {"Healthy", []string{"reports no status for this kind of target"}},
	"autoscalingpolicy-disaggregated-no-status.yaml": {"Progressing", []string{"waiting for Kthena's autoscaler to report a status"}},
	"autoscalingpolicy-healthy.yaml":                 {"Healthy", []string{"disaggregated autoscaling policy reconciled"}},
	"autoscalingpolicy-panic.yaml":                   {"Healthy", []string{"reconciled; in panic mode: decode"}},
	"autoscalingpolicy-target-missing.yaml":          {"Degraded", []string{"TargetFound is False: modelserving kthena-demo/qwen not found"}},
	"autoscalingpolicy-reconcile-failed.yaml":        {"Degraded", []string{"Ready is False: querying metrics of role decode"}},
	"autoscalingpolicy-not-observed.yaml":            {"Progressing", []string{"observe generation 3"}},

	"scaledobject-paused-no-status.yaml":        {"Suspended", []string{"paused on purpose (autoscaling.keda.sh/paused: true)", "(KEDA has not reported the pause yet)"}},
	"scaledobject-paused-keda-initialized.yaml": {"Suspended", []string{"paused on purpose", "(KEDA has not reported the pause yet)"}},
	"scaledobject-paused.yaml":                  {"Suspended", []string{`KEDA does not scale it; to let KEDA scale it, write autoscaling.keda.sh/paused: "false" with scaleguard.io/unpause-until`}},
	"scaledobject-paused-stale-fallback.yaml":   {"Suspended", []string{"paused on purpose"}},
	"scaledobject-paused-failed.yaml":           {"Degraded", []string{"KEDA could not pause it: failed to delete HPA for paused ScaledObject"}},
	"scaledobject-paused-replicas.yaml":         {"Suspended", []string{"(autoscaling.keda.sh/paused-replicas: 0)"}},
	"scaledobject-unpaused-until.yaml":          {"Healthy", []string{"ready for scaling"}},
	"scaledobject-paused-scale-in.yaml":         {"Suspended", []string{"ready for scaling"}},
	"scaledobject-healthy.yaml":                 {"Healthy", []string{"ScaledObject is defined correctly and is ready for scaling"}},
	"scaledobject-initialized.yaml":             {"Progressing", []string{"waiting for KEDA"}},
	"scaledobject-no-status.yaml":               {"Progressing", []string{"waiting for KEDA"}},
	"scaledobject-degraded.yaml":                {"Degraded", []string{"doesn't have correct triggers specification"}},
	"scaledobject-fallback.yaml":                {"Degraded", []string{"falling back"}},
}

func TestHealthChecksReadSampleStatuses(t *testing.T) {
	scripts := healthScripts(t)
	var keys []string
	for k := range scripts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{
		healthKeyPrefix + "keda.sh_ScaledObject",
		healthKeyPrefix + "workload.serving.volcano.sh_AutoscalingPolicy",
		healthKeyPrefix + "workload.serving.volcano.sh_ModelServing",
	}
	if strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("keys %v, want %v", keys, want)
	}

	for file, tc := range healthCases {
		t.Run(file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("argocd", "testdata", "health", file))
			if err != nil {
				t.Fatal(err)
			}
			var obj map[string]any
			if err := yaml.Unmarshal(b, &obj); err != nil {
				t.Fatal(err)
			}
			group := strings.SplitN(obj["apiVersion"].(string), "/", 2)[0]
			script, ok := scripts[healthKeyPrefix+group+"_"+obj["kind"].(string)]
			if !ok {
				t.Fatalf("no health check for %s", obj["kind"])
			}
			status, message, err := runHealth(script, obj)
			if err != nil {
				t.Fatal(err)
			}
			if status != tc.status {
				t.Errorf("status %q, want %q (message %q)", status, tc.status, message)
			}
			for _, f := range tc.message {
				if !strings.Contains(message, f) {
					t.Errorf("message %q lacks %q", message, f)
				}
			}
		})
	}
}

// TestEverySampleIsJudged keeps a sample from sitting unused.
func TestEverySampleIsJudged(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("argocd", "testdata", "health", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, ok := healthCases[filepath.Base(f)]; !ok {
			t.Errorf("%s has no expectation in healthCases", f)
		}
	}
	if len(files) != len(healthCases) {
		t.Errorf("%d samples, %d expectations", len(files), len(healthCases))
	}
}
