package gpu_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	jsonpatch "gomodules.xyz/jsonpatch/v2"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

const pausedField = "metadata.annotations[autoscaling.keda.sh/paused]"
const untilField = "metadata.annotations[scaleguard.io/unpause-until]"

// request builds an engine request for the last object of docs (a
// ScaledObject), with every object as the view; old, when not empty, is
// the stored ScaledObject and makes it an UPDATE.
func request(t *testing.T, docs, old string, now time.Time, settings *policies.Settings) policies.Request {
	t.Helper()
	objs, err := manifests.Parse("test", strings.NewReader(docs))
	if err != nil {
		t.Fatal(err)
	}
	view := clusterview.NewManifests()
	for _, o := range objs {
		obj, err := apis.Decode(o.GVK, o.JSON)
		if err != nil {
			t.Fatal(err)
		}
		view.Add(obj)
	}
	last := objs[len(objs)-1]
	req := policies.Request{GVK: last.GVK, Operation: policies.Create, Object: last.JSON, View: view, Settings: settings, Now: now}
	if old != "" {
		olds, err := manifests.Parse("old", strings.NewReader(old))
		if err != nil {
			t.Fatal(err)
		}
		req.Operation, req.OldObject = policies.Update, olds[0].JSON
	}
	return req
}

func engine() *policies.Engine { return policies.NewEngine(policies.Default) }

func TestPauseDecisions(t *testing.T) {
	cases := map[string]struct {
		annotations string
		want        []policytest.Want
	}{
		"no decision: paused":                 {"", []policytest.Want{policytest.Mutate(gpu.PausedDefaultID, pausedField, `set to "true"`, `Deployment "llm" runs on a GPU tier`, `container "vllm" limits nvidia.com/gpu: 1`, `scaleguard.io/unpause-until`)}},
		"other annotations only":              {`{team: llm}`, []policytest.Want{policytest.Mutate(gpu.PausedDefaultID, pausedField, `set to "true"`)}},
		"paused true":                         {`{autoscaling.keda.sh/paused: "true"}`, nil},
		"paused not a bool":                   {`{autoscaling.keda.sh/paused: "yes"}`, nil},
		"paused-replicas":                     {`{autoscaling.keda.sh/paused-replicas: "0"}`, nil},
		"paused-replicas beside paused false": {`{autoscaling.keda.sh/paused: "false", autoscaling.keda.sh/paused-replicas: "1"}`, nil},
		"explicit false is respected": {`{autoscaling.keda.sh/paused: "false"}`, []policytest.Want{
			policytest.Warn(gpu.UnpausedID, untilField, "is missing while autoscaling.keda.sh/paused is \"false\"", "at most 8h0m0s ahead")}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.Admit(t, deployment(gpuContainer)+scaledObject(tc.annotations, "")).Result.Findings
			policytest.Expect(t, append(policytest.OnlyRule(got, gpu.PausedDefaultID), policytest.OnlyRule(got, gpu.UnpausedID)...), tc.want...)
		})
	}
}

func TestPausePatchTouchesOnlyItsKeyAndIsIdempotent(t *testing.T) {
	for name, annotations := range map[string]string{"none": "", "others": `{team: llm, "a/b~c": x}`} {
		t.Run(name, func(t *testing.T) {
			req := request(t, deployment(gpuContainer)+scaledObject(annotations, ""), "", time.Time{}, nil)
			first, err := engine().Mutate(req)
			if err != nil {
				t.Fatal(err)
			}
			if len(first.Patch) != 1 || !strings.HasPrefix(first.Patch[0].Path, "/metadata/annotations") {
				t.Fatalf("patch %v, want one operation on the annotations", first.Patch)
			}
			var before, after struct {
				Metadata struct{ Annotations map[string]string } `json:"metadata"`
			}
			_ = json.Unmarshal(req.Object, &before)
			_ = json.Unmarshal(first.Object, &after)
			if after.Metadata.Annotations[gpu.PausedAnnotation] != "true" || len(after.Metadata.Annotations) != len(before.Metadata.Annotations)+1 {
				t.Errorf("annotations %v -> %v", before.Metadata.Annotations, after.Metadata.Annotations)
			}
			for k, v := range before.Metadata.Annotations {
				if after.Metadata.Annotations[k] != v {
					t.Errorf("annotation %q changed from %q to %q", k, v, after.Metadata.Annotations[k])
				}
			}
			again := req
			again.Object = first.Object
			second, err := engine().Mutate(again)
			if err != nil {
				t.Fatal(err)
			}
			if len(second.Patch) != 0 || len(second.Findings) != 0 {
				t.Errorf("second pass: patch %v findings %v, want nothing", second.Patch, second.Findings)
			}
		})
	}
	if p := gpu.PausePatch(map[string]string{"x": "y"}); p[0] != (jsonpatch.Operation{Operation: "add", Path: "/metadata/annotations/autoscaling.keda.sh~1paused", Value: "true"}) {
		t.Errorf("patch %v", p)
	}
}

// TestFullUpdateWithoutTheAnnotation is a controller (KEDA, KServe)
// replacing the stored, paused object with one that lacks the annotation.
func TestFullUpdateWithoutTheAnnotation(t *testing.T) {
	stored := scaledObject(`{autoscaling.keda.sh/paused: "true"}`, "")
	docs := deployment(gpuContainer) + scaledObject("", "")

	mut, err := engine().Mutate(request(t, docs, stored, time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	policytest.Expect(t, mut.Findings, policytest.Mutate(gpu.PausedDefaultID, pausedField,
		`set to "true" on this update, which drops the stored pause decision (a controller's full update`))

	// The mutating webhook failed open: the validating side refuses.
	val, err := engine().Validate(request(t, docs, stored, time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	policytest.Expect(t, policytest.OnlyRule(val.Findings, gpu.UnpausedID),
		policytest.Deny(gpu.UnpausedID, pausedField, "is missing on a GPU-tier ScaledObject", "fails open"))

	// A stored object without a decision (it predates scaleguard, or was
	// admitted while its target did not exist) is paused on any update, and
	// the warning says why an update did it.
	mut, err = engine().Mutate(request(t, docs, scaledObject("", ""), time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	policytest.Expect(t, mut.Findings, policytest.Mutate(gpu.PausedDefaultID, pausedField,
		`set to "true" on this update: the stored ScaledObject has no pause decision either`, "any update of a GPU-tier ScaledObject without one pauses it"))

	// On CREATE nothing is said about updates.
	mut, err = engine().Mutate(request(t, docs, "", time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(mut.Findings) != 1 || strings.Contains(mut.Findings[0].Message, "update") {
		t.Errorf("create: %v", mut.Findings)
	}

	// Even when the stored object had no decision either (it was admitted
	// while its target did not exist): gpu-unpaused keeps denying on UPDATE.
	val, err = engine().Validate(request(t, docs, scaledObject("", ""), time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	policytest.Expect(t, policytest.OnlyRule(val.Findings, gpu.UnpausedID),
		policytest.Deny(gpu.UnpausedID, pausedField, "is missing on a GPU-tier ScaledObject"))
}

func TestGeneratedScaledObjectIsPausedAndWarnedNotDenied(t *testing.T) {
	so := strings.Replace(scaledObject("", ""), "{name: llm, namespace: serving}",
		"{name: llm, namespace: serving, ownerReferences: [{apiVersion: serving.kserve.io/v1beta1, kind: InferenceService, name: llm, uid: u, controller: true}]}", 1)
	docs := deployment(gpuContainer) + so
	mut, err := engine().Mutate(request(t, docs, "", time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	// Un-pausing it means annotating the ScaledObject itself: KServe copies
	// the InferenceService's annotations only on a spec-changing rewrite.
	policytest.Expect(t, mut.Findings, policytest.Mutate(gpu.PausedDefaultID, pausedField, `set to "true"`,
		`scaleguard.io/unpause-until: <RFC 3339 time> on this ScaledObject itself (annotations of InferenceService "llm" reach it only when KServe rewrites it for a spec change`,
		"KServe's next spec-changing rewrite replaces the annotations set here, and scaleguard pauses it again"))
	val, err := engine().Validate(request(t, docs, "", time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	policytest.Expect(t, policytest.OnlyRule(val.Findings, gpu.UnpausedID),
		policytest.Warn(gpu.UnpausedID, pausedField, "is missing", `generated by InferenceService "llm": judged there`))
}

func TestObjectsBeingDeletedAreNotJudged(t *testing.T) {
	so := strings.Replace(scaledObject("", "  minReplicaCount: 1\n  cooldownPeriod: 10\n"), "{name: llm, namespace: serving}",
		"{name: llm, namespace: serving, deletionTimestamp: \"2026-01-01T00:00:00Z\", finalizers: [finalizer.keda.sh]}", 1)
	got := policytest.Admit(t, deployment(gpuContainer)+so).Result.Findings
	policytest.Expect(t, got)
}

func TestUnpauseExpiry(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	unpaused := func(until string) string {
		if until == "" {
			return `{autoscaling.keda.sh/paused: "false"}`
		}
		return `{autoscaling.keda.sh/paused: "false", scaleguard.io/unpause-until: "` + until + `"}`
	}
	require := policies.DefaultSettings()
	require.GPU.RequireUnpauseExpiry = true
	cases := map[string]struct {
		annotations string
		settings    *policies.Settings
		want        []policytest.Want
	}{
		"2h ahead":            {unpaused("2026-03-01T14:00:00Z"), require, nil},
		"exactly the window":  {unpaused("2026-03-01T20:00:00+00:00"), require, nil},
		"missing, warn only":  {unpaused(""), nil, []policytest.Want{policytest.Warn(gpu.UnpausedID, untilField, "is missing", "re-pauses it then")}},
		"missing, required":   {unpaused(""), require, []policytest.Want{policytest.Deny(gpu.UnpausedID, untilField, "is missing")}},
		"9h ahead, warn only": {unpaused("2026-03-01T21:00:00Z"), nil, []policytest.Want{policytest.Warn(gpu.UnpausedID, untilField, "is 9h0m0s ahead, more than the 8h0m0s", "before 2026-03-01T20:00:00Z")}},
		"9h ahead, required":  {unpaused("2026-03-01T21:00:00Z"), require, []policytest.Want{policytest.Deny(gpu.UnpausedID, untilField, "is 9h0m0s ahead")}},
		"not RFC 3339":        {unpaused("tomorrow 9am"), require, []policytest.Want{policytest.Deny(gpu.UnpausedID, untilField, `is "tomorrow 9am", not an RFC 3339 time`)}},
		"already passed":      {unpaused("2026-03-01T11:00:00Z"), require, []policytest.Want{policytest.Deny(gpu.UnpausedID, untilField, "has already passed", "in a loop", `write autoscaling.keda.sh/paused: "true"`)}},
		// Refused even when an expiry is not required: written again after it
		// passed, it would loop between the pause keeper and a GitOps tool.
		"already passed, warn only": {unpaused("2026-03-01T11:00:00Z"), nil, []policytest.Want{policytest.Deny(gpu.UnpausedID, untilField, "has already passed")}},
		"paused, expiry stale":      {`{autoscaling.keda.sh/paused: "true", scaleguard.io/unpause-until: "2026-03-01T11:00:00Z"}`, require, nil},
		"paused, expiry far":        {`{autoscaling.keda.sh/paused: "true", scaleguard.io/unpause-until: "2027-01-01T00:00:00Z"}`, require, nil},
		"paused-replicas wins":      {`{autoscaling.keda.sh/paused: "false", autoscaling.keda.sh/paused-replicas: "0"}`, require, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := policytest.AdmitAt(t, now, deployment(gpuContainer)+scaledObject(tc.annotations, ""), tc.settings).Result.Findings
			policytest.Expect(t, policytest.OnlyRule(got, gpu.UnpausedID), tc.want...)
		})
	}

	t.Run("not a GPU tier", func(t *testing.T) {
		got := policytest.AdmitAt(t, now, deployment(`{containers: [{name: c, image: i}]}`)+scaledObject(unpaused(""), ""), require).Result.Findings
		policytest.Expect(t, policytest.OnlyRule(got, gpu.UnpausedID))
	})

	// An update that leaves the decision alone is not re-judged against the
	// clock: the un-pause was within the window when it was written.
	t.Run("unchanged on update", func(t *testing.T) {
		stored := scaledObject(unpaused("2026-03-01T21:00:00Z"), "")
		later := scaledObject(unpaused("2026-03-01T21:00:00Z"), "  minReplicaCount: 0\n")
		val, err := engine().Validate(request(t, deployment(gpuContainer)+later, stored, now, require))
		if err != nil {
			t.Fatal(err)
		}
		policytest.Expect(t, policytest.OnlyRule(val.Findings, gpu.UnpausedID))

		val, err = engine().Validate(request(t, deployment(gpuContainer)+scaledObject(unpaused(""), "  minReplicaCount: 0\n"), scaledObject(unpaused(""), ""), now, require))
		if err != nil {
			t.Fatal(err)
		}
		policytest.Expect(t, policytest.OnlyRule(val.Findings, gpu.UnpausedID),
			policytest.Warn(gpu.UnpausedID, untilField, "is missing", "already so before this update"))
	})
	t.Run("changed on update", func(t *testing.T) {
		stored := scaledObject(unpaused("2026-03-01T14:00:00Z"), "")
		val, err := engine().Validate(request(t, deployment(gpuContainer)+scaledObject(unpaused("2026-03-02T14:00:00Z"), ""), stored, now, require))
		if err != nil {
			t.Fatal(err)
		}
		policytest.Expect(t, policytest.OnlyRule(val.Findings, gpu.UnpausedID), policytest.Deny(gpu.UnpausedID, untilField, "is 26h0m0s ahead"))
	})
}

// TestPlacementOnlyTierSaysSo: a tier decided by placement alone is named
// as such, and no message counts GPUs for it.
func TestPlacementOnlyTierSaysSo(t *testing.T) {
	toleration := deployment(`{tolerations: [{key: nvidia.com/gpu, operator: Exists}], containers: [{name: c, image: i, resources: {requests: {cpu: "1"}}}]}`)
	got := policytest.Admit(t, toleration+scaledObject("", "")).Result.Findings
	policytest.Expect(t, policytest.OnlyRule(got, gpu.PausedDefaultID), policytest.Mutate(gpu.PausedDefaultID, pausedField,
		`Deployment "llm" runs on a GPU tier (placement only, no accelerator requested: toleration of the nvidia.com/gpu taint)`))

	val, err := engine().Validate(request(t, toleration+scaledObject("", ""), "", time.Time{}, nil))
	if err != nil {
		t.Fatal(err)
	}
	policytest.Expect(t, policytest.OnlyRule(val.Findings, gpu.UnpausedID), policytest.Deny(gpu.UnpausedID, pausedField,
		`Deployment "llm" runs on a GPU tier (placement only, no accelerator requested: toleration of the nvidia.com/gpu taint)`))

	// With an accelerator request beside the toleration, the request is
	// what is named.
	both := deployment(`{tolerations: [{key: nvidia.com/gpu, operator: Exists}], containers: [{name: vllm, image: vllm, resources: {limits: {nvidia.com/gpu: "1"}}}]}`)
	got = policytest.Admit(t, both+scaledObject("", "")).Result.Findings
	policytest.Expect(t, policytest.OnlyRule(got, gpu.PausedDefaultID), policytest.Mutate(gpu.PausedDefaultID, pausedField,
		`runs on a GPU tier (container "vllm" limits nvidia.com/gpu: 1, and 1 more)`))
	for _, f := range got {
		if strings.Contains(f.Message, "placement only") {
			t.Errorf("counted tier called placement only: %s", f.Message)
		}
	}
}

// TestPausedDefaultDoc: the advice for KServe-generated ScaledObjects is
// to annotate the ScaledObject, not the InferenceService, whose annotation
// changes KServe never copies without a spec change.
func TestPausedDefaultDoc(t *testing.T) {
	rule, ok := policies.Default.Get(gpu.PausedDefaultID)
	if !ok {
		t.Fatal("gpu-paused-default is not registered")
	}
	for _, want := range []string{"annotate the generated ScaledObject itself", "only when its `.spec` differs", "predictor pods", "pauses it again"} {
		if !strings.Contains(rule.Doc, want) {
			t.Errorf("doc lacks %q", want)
		}
	}
	if strings.Contains(rule.Doc, "KServe copies them") {
		t.Errorf("doc still says KServe copies the InferenceService's annotations")
	}
}
