package clusterpolicy_test

import (
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
)

// TestAuditStatusCountsTheNamespacesCovered: each policy's audit status
// sums the findings of the namespaces it covers, by rule and action, and
// lists only the rules that found something.
func TestAuditStatusCountsTheNamespacesCovered(t *testing.T) {
	set := clusterpolicy.NewSet(nil, readPolicies(t, "testdata/policies.yaml")...)
	scan := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	counts := audit.Counts{Time: scan, Objects: 9, ByNamespace: map[string]map[string]audit.ActionCounts{
		"chat": {"promql-unscoped": {Deny: 2, Warn: 1}, "gpu-unpaused": {Mutate: 1}},
		"jobs": {"promql-unscoped": {Deny: 1}},
		"web":  {"target-ref": {}},
		// deleted since the scan: matched by its name alone
		"gone": {"promql-unscoped": {Warn: 4}},
	}}
	for _, tc := range []struct {
		policy             string
		deny, warn, mutate int32
		rules              map[string][3]int32
	}{
		{"a-serving", 2, 1, 1, map[string][3]int32{"promql-unscoped": {2, 1, 0}, "gpu-unpaused": {0, 0, 1}}},
		{"z-global", 3, 5, 1, map[string][3]int32{"promql-unscoped": {3, 5, 0}, "gpu-unpaused": {0, 0, 1}}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			p, ok := set.Get(tc.policy)
			if !ok {
				t.Fatalf("no policy %s in testdata", tc.policy)
			}
			st := clusterpolicy.AuditStatus(p, counts, namespaces())
			if !st.ScanTime.Time.Equal(scan.Truncate(time.Second)) {
				t.Errorf("scan time %v, want %v to the second", st.ScanTime, scan)
			}
			if st.Deny != tc.deny || st.Warn != tc.warn || st.Mutate != tc.mutate {
				t.Errorf("totals deny=%d warn=%d mutate=%d, want %d %d %d", st.Deny, st.Warn, st.Mutate, tc.deny, tc.warn, tc.mutate)
			}
			got := map[string][3]int32{}
			for i, r := range st.Rules {
				got[r.Rule] = [3]int32{r.Deny, r.Warn, r.Mutate}
				if i > 0 && st.Rules[i-1].Rule >= r.Rule {
					t.Errorf("rules not sorted: %v", st.Rules)
				}
			}
			if len(got) != len(tc.rules) {
				t.Errorf("rules %v, want %v", got, tc.rules)
			}
			for rule, want := range tc.rules {
				if got[rule] != want {
					t.Errorf("%s: %v, want %v", rule, got[rule], want)
				}
			}
		})
	}
}
