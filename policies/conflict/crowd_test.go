package conflict_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/policies/conflict"
	"github.com/scaleguard/scaleguard/policies/policytest"
)

// scaledObjectsOn renders ScaledObjects named after names, all on the
// Deployment "llm".
func scaledObjectsOn(names ...string) string {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(scaledObject(n, `{name: llm}`))
	}
	return b.String()
}

// Conflicts on one target are grouped: the judged object gets one finding
// naming the others (the first few, then a count), so N objects on a
// target give N findings, not N².
func TestConflictsOnOneTargetAreGrouped(t *testing.T) {
	const edited = "(already so before this update; admitted so it can be fixed by editing)"
	taken := "\n  advanced: {horizontalPodAutoscalerConfig: {name: shared}}"
	cases := map[string]struct {
		stored, obj, old string
		want             []want
	}{
		"three on one target": {
			stored: scaledObjectsOn("a", "b"),
			obj:    scaledObject("c", `{name: llm}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef",
				`the workload "llm" (apps/v1 Deployment) is already scaled by 2 other ScaledObjects ("a", "b")`,
				"merge the triggers into one ScaledObject (KEDA scales on the highest of them) and delete the others")},
		},
		"eight on one target": {
			stored: scaledObjectsOn("a", "b", "c", "d", "e", "f", "g"),
			obj:    scaledObject("h", `{name: llm}`),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef",
				`is already scaled by 7 other ScaledObjects ("a", "b", "c", "d", "e" and 2 more)`)},
		},
		"three sharing one HPA name": {
			stored: scaledObjectIn("serving", "a", `{name: one}`, taken) + scaledObjectIn("serving", "b", `{name: two}`, taken),
			obj:    scaledObjectIn("serving", "c", `{name: three}`, taken),
			want: []want{policytest.Deny(conflict.ScaledObjectID, "spec.advanced.horizontalPodAutoscalerConfig.name",
				`gives this ScaledObject the HPA name "shared", which is already the HPA of 2 other ScaledObjects ("a", "b"); KEDA would make them all write one HPA`)},
		},
		"already among three, edited": {
			stored: scaledObjectsOn("a", "b"),
			old:    scaledObject("c", `{name: llm}`),
			obj:    strings.Replace(scaledObject("c", `{name: llm}`), "maxReplicaCount: 4", "maxReplicaCount: 8", 1),
			want: []want{policytest.Warn(conflict.ScaledObjectID, "spec.scaleTargetRef",
				`is already scaled by 2 other ScaledObjects ("a", "b")`, edited)},
		},
		"moved among three": {
			stored: scaledObjectsOn("a", "b"),
			old:    scaledObject("c", `{name: other}`),
			obj:    scaledObject("c", `{name: llm}`),
			want:   []want{policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef", `is already scaled by 2 other ScaledObjects ("a", "b")`)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := stored(t, tc.stored, tc.obj, tc.old)
			policytest.Expect(t, policytest.OnlyRule(got, conflict.ScaledObjectID), tc.want...)
		})
	}
}

// TestManyOnOneTargetGiveOneFindingEach judges 300 ScaledObjects on one
// Deployment, each against the 299 others: one finding each.
func TestManyOnOneTargetGiveOneFindingEach(t *testing.T) {
	var names []string
	for i := range 300 {
		names = append(names, fmt.Sprintf("so-%03d", i))
	}
	all := scaledObjectsOn(names...)
	c := policytest.Admit(t, all+scaledObject(names[0], `{name: llm}`))
	got := policytest.OnlyRule(c.Result.Findings, conflict.ScaledObjectID)
	policytest.Expect(t, got, policytest.Deny(conflict.ScaledObjectID, "spec.scaleTargetRef",
		`is already scaled by 299 other ScaledObjects ("so-001", "so-002", "so-003", "so-004", "so-005" and 294 more)`))
}
