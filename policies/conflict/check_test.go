package conflict_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// check judges a folder as one set: each object of a conflicting pair
// reports the other.
func TestCheckReportsBothSides(t *testing.T) {
	objs, err := manifests.Read([]string{"testdata/folder"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := check.Run(objs, policies.NewEngine(policies.Default), policies.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Rule, "conflict-") && f.Action == string(policies.Deny) {
			got = append(got, f.Kind+" "+f.Namespace+"/"+f.Name+" "+f.Rule+" "+f.Field)
		}
	}
	sort.Strings(got)
	want := []string{
		"AutoscalingPolicy kthena-system/deepseek conflict-kthena spec.homogeneousTarget.target.targetRef",
		"HorizontalPodAutoscaler serving/llm conflict-hpa spec.scaleTargetRef",
		"InferenceService serving/qwen conflict-kserve metadata.annotations[serving.kserve.io/autoscalerClass]",
		"ScaledObject serving/deepseek conflict-kthena spec.scaleTargetRef",
		"ScaledObject serving/llm-queue conflict-hpa spec.scaleTargetRef",
		"ScaledObject serving/qwen-queue conflict-kserve spec.scaleTargetRef",
		"ScaledObject serving/sglang-queue conflict-scaledobject spec.scaleTargetRef",
		"ScaledObject serving/sglang-tokens conflict-scaledobject spec.scaleTargetRef",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("conflict denials:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep.Summary.Denied != len(want) {
		t.Errorf("summary: %d denied, want %d", rep.Summary.Denied, len(want))
	}
}
