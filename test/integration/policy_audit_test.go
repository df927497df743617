package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/internal/audit"
)

// ruleFindings is a rule's line in a policy's status.audit.
func ruleFindings(st sgv1alpha1.ScaleGuardPolicyStatus, rule string) (sgv1alpha1.RuleFindings, bool) {
	if st.Audit == nil {
		return sgv1alpha1.RuleFindings{}, false
	}
	for _, r := range st.Audit.Rules {
		if r.Rule == rule {
			return r, true
		}
	}
	return sgv1alpha1.RuleFindings{}, false
}

// auditEvents are the audit's Events on a ScaledObject, as "reason: note".
func auditEvents(t *testing.T, c client.Client, ns, name string) []string {
	t.Helper()
	var list eventsv1.EventList
	if err := c.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "ScaledObject" && e.Regarding.Name == name && strings.HasPrefix(e.Reason, "Audit") {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

// TestPolicyChangeRescansWhatIsStored: a ScaledObject admitted while its
// policy had promql-unscoped Off is found by the audit scan that switching
// the rule to Enforce starts (nothing else starts one: the suite's audit
// period is an hour), in the metric, an Event on the object and the
// policy's status; switching it back to Off clears them at the next
// triggered scan. A metadata-only change of the policy starts no scan.
func TestPolicyChangeRescansWhatIsStored(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, new([]string))
	const ns, rule = "pol-audit", "promql-unscoped"
	series := fmt.Sprintf(`scaleguard_audit_findings{action="deny",namespace=%q,rule=%q}`, ns, rule)
	labelledNamespace(t, c, ns, map[string]string{"scaleguard-test": ns})
	p := createPolicy(t, c, `
apiVersion: scaleguard.io/v1alpha1
kind: ScaleGuardPolicy
metadata: {name: pol-audit}
spec:
  namespaceSelector: {matchLabels: {scaleguard-test: pol-audit}}
  rules:
    promql-unscoped: {action: "Off"}
`)
	so := unscopedSO(t, c, ns, "chat", "")
	until(t, "the policy switches promql-unscoped off", 10*time.Second, func() (bool, string) {
		v := dryRun(t, so)
		return !v.denied && !warned(v, rule, ""), v.String()
	})
	createSeen(t, c, so)

	until(t, "the status counts nothing while the rule is off", 30*time.Second, func() (bool, string) {
		st := policyStatus(t, c, "pol-audit")
		_, found := ruleFindings(st, rule)
		return st.Audit != nil && !found && st.Audit.Deny == 0, fmt.Sprintf("%+v", st.Audit)
	})
	if got := metricLine(t, series); got != "" {
		t.Fatalf("%s = %s while the rule is off", series, got)
	}

	switched := time.Now()
	if err := setRules(c, p, map[string]any{rule: map[string]any{"action": "Enforce"}}); err != nil {
		t.Fatal(err)
	}
	until(t, "the scan the change starts reports the stored object", 90*time.Second, func() (bool, string) {
		return metricLine(t, series) == "1", series + " = " + metricLine(t, series)
	})
	found := time.Since(switched)
	took := until(t, "the policy's status counts it", 30*time.Second, func() (bool, string) {
		st := policyStatus(t, c, "pol-audit")
		r, _ := ruleFindings(st, rule)
		return r.Deny == 1 && st.Audit.Deny >= 1 && st.Audit.ScanTime.Add(time.Second).After(switched), fmt.Sprintf("%+v", st.Audit)
	})
	t.Logf("switched to Enforce → in the metric after %s, in the status %s later", found.Round(time.Millisecond), took.Round(time.Millisecond))
	ev := auditEvents(t, c, ns, "chat")
	if len(ev) != 1 || !strings.HasPrefix(ev[0], audit.ReasonFindings+": ") || !strings.Contains(ev[0], "[promql-unscoped] spec.triggers[0].metadata.query") {
		t.Errorf("want one %s Event on chat naming the rule and the field, got %q", audit.ReasonFindings, ev)
	}

	switched = time.Now()
	if err := setRules(c, p, map[string]any{rule: map[string]any{"action": "Off"}}); err != nil {
		t.Fatal(err)
	}
	until(t, "switched back off, the next scan drops the finding", 90*time.Second, func() (bool, string) {
		return metricLine(t, series) == "", series + " = " + metricLine(t, series)
	})
	until(t, "and the status counts zero", 30*time.Second, func() (bool, string) {
		st := policyStatus(t, c, "pol-audit")
		_, found := ruleFindings(st, rule)
		return st.Audit != nil && !found && st.Audit.Deny == 0 && st.Audit.ScanTime.Add(time.Second).After(switched), fmt.Sprintf("%+v", st.Audit)
	})
	t.Logf("switched back to Off → cleared after %s", time.Since(switched).Round(time.Millisecond))

	// A change that leaves the spec in force as it is starts no scan.
	judged := func() string { return metricLine(t, "scaleguard_audit_objects_judged_total") }
	before := judged()
	if err := c.Get(ctx, client.ObjectKeyFromObject(p), p); err != nil {
		t.Fatal(err)
	}
	p.SetAnnotations(map[string]string{"note": "metadata only"})
	if err := c.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2*audit.DefaultDebounce + 3*time.Second)
	if after := judged(); after != before {
		t.Errorf("a metadata-only change of the policy started a scan: objects judged %s → %s", before, after)
	}
}
