package audit

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

func TestBuildReports(t *testing.T) {
	res := scanCluster(t, &Scanner{}, nil)
	reports := BuildReports(res)
	if len(reports) != 2 || reports["serving"] == nil || reports["kube-system"] == nil {
		t.Fatalf("want one report in serving and one in kube-system, got %v", keys(reports))
	}
	r := reports["serving"]
	if r.Name != ReportName || r.Source != ReportSource || r.Labels[ManagedByLabel] != ReportSource {
		t.Errorf("report metadata: %s source %q labels %v", r.Name, r.Source, r.Labels)
	}
	var findings int
	for _, v := range res.Verdicts {
		if v.Ref.Namespace == "serving" {
			findings += len(v.Findings)
		}
	}
	if len(r.Results) != findings {
		t.Errorf("%d results for %d findings", len(r.Results), findings)
	}
	s := r.Summary
	if s.Fail+s.Warn+s.Error+s.Skip != findings || s.Fail != 2 {
		t.Errorf("summary %+v: want 2 fail (gpu-unpaused, promql-unscoped) and %d in all", s, findings)
	}
	found := false
	for _, rr := range r.Results {
		if rr.Policy != "gpu-unpaused" {
			continue
		}
		found = true
		sub := rr.Subjects[0]
		if rr.Result != "fail" || rr.Severity != "high" || rr.Rule != "gpu-unpaused" ||
			sub.Kind != "ScaledObject" || sub.APIVersion != "keda.sh/v1alpha1" || sub.Name != "raw-vllm" ||
			sub.UID != types.UID("10000000-0000-0000-0000-000000000003") ||
			rr.Properties["action"] != "deny" || rr.Properties["field"] != "metadata.annotations[autoscaling.keda.sh/paused]" ||
			!strings.Contains(rr.Description, "is missing on a GPU-tier ScaledObject") || rr.Timestamp.Seconds != res.Time.Unix() {
			t.Errorf("gpu-unpaused result: %+v", rr)
		}
	}
	if !found {
		t.Error("no gpu-unpaused result")
	}
}

func TestBuildReportsBoundsResults(t *testing.T) {
	res := &Result{}
	ref := Ref{Kind: apis.Guarded[0], Namespace: "big", Name: "so", UID: "u"}
	var fs []policies.Finding
	for i := 0; i < MaxResults+7; i++ {
		fs = append(fs, policies.Finding{Rule: "promql-unscoped", Action: policies.Deny, Message: "m"})
	}
	res.Verdicts = []Verdict{{Ref: ref, Findings: fs}}
	r := BuildReports(res)["big"]
	if len(r.Results) != MaxResults || r.Summary.Fail != MaxResults+7 || r.Annotations[TruncatedAnnotation] != "7" {
		t.Errorf("results %d, summary %+v, annotations %v", len(r.Results), r.Summary, r.Annotations)
	}
}

func TestPolicyReportShape(t *testing.T) {
	res := scanCluster(t, &Scanner{}, nil)
	r := BuildReports(res)["serving"]
	u, err := asKind(r, PolicyReport)
	if err != nil {
		t.Fatal(err)
	}
	if u.GetAPIVersion() != "wgpolicyk8s.io/v1alpha2" || u.GetKind() != "PolicyReport" {
		t.Errorf("apiVersion %s kind %s", u.GetAPIVersion(), u.GetKind())
	}
	if _, ok := u.Object["source"]; ok {
		t.Error("a v1alpha2 PolicyReport has no report-level source")
	}
	results, _, _ := unstructured.NestedSlice(u.Object, "results")
	first := results[0].(map[string]any)
	for _, k := range []string{"source", "policy", "result", "resources", "message", "timestamp"} {
		if _, ok := first[k]; !ok {
			t.Errorf("result lacks %q: %v", k, first)
		}
	}
	// The verdicts a restarted audit reads back from its reports are the
	// verdicts it wrote.
	back := verdictsFromReports([]*unstructured.Unstructured{u})
	for uid, key := range verdicts(res) {
		if v := findVerdict(res, uid); v.Ref.Namespace != "serving" || len(v.Findings) == 0 {
			continue
		}
		if back[uid] != key {
			t.Errorf("verdict of %s read back as %q, wrote %q", uid, back[uid], key)
		}
	}
}

func findVerdict(res *Result, uid types.UID) Verdict {
	for _, v := range res.Verdicts {
		if v.Ref.UID == uid {
			return v
		}
	}
	return Verdict{}
}

func TestEventsOnlyOnVerdictChange(t *testing.T) {
	res := scanCluster(t, &Scanner{Excluded: []string{"kube-system"}}, nil)
	rec := events.NewFakeRecorder(100)
	if n := recordChanges(rec, res, map[types.UID]string{}); n != 2 {
		t.Errorf("first scan with findings on 2 objects recorded %d Events", n)
	}
	if n := recordChanges(rec, res, verdicts(res)); n != 0 {
		t.Errorf("an unchanged scan recorded %d Events", n)
	}
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{"promql-unscoped": {Action: policies.Off}}
	fixed := scanCluster(t, &Scanner{Excluded: []string{"kube-system"}}, off)
	before := verdicts(res)
	drain(rec)
	if n := recordChanges(rec, fixed, before); n != 1 {
		t.Errorf("one changed verdict recorded %d Events", n)
	}
	got := drain(rec)
	if len(got) != 1 || !strings.Contains(got[0], ReasonClean) {
		t.Errorf("events: %v", got)
	}
}

func drain(rec *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
