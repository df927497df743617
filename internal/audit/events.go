package audit

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	"github.com/scaleguard/scaleguard/policies"
)

// Event reasons.
const (
	// ReasonFindings: the audit's verdict on the object changed and it has
	// findings.
	ReasonFindings = "AuditFindings"
	// ReasonClean: the object had findings and has none any more.
	ReasonClean = "AuditClean"
	// eventAction is the events.k8s.io action of audit Events.
	eventAction = "Audit"
	// maxNote is the longest note of an events.k8s.io Event.
	maxNote = 1024
)

// verdictKey identifies a verdict: which rules said what about which
// fields. Message details (a cost figure, a series count) do not count, so
// an unchanged problem records no new Event.
func verdictKey(fs []policies.Finding) string {
	keys := make([]string, 0, len(fs))
	for _, f := range fs {
		keys = append(keys, f.Rule+"\x00"+string(f.Action)+"\x00"+f.Field)
	}
	sort.Strings(keys)
	return strings.Join(keys, "\x01")
}

// verdicts maps each judged object to its verdict key.
func verdicts(res *Result) map[types.UID]string {
	out := make(map[types.UID]string, len(res.Verdicts))
	for _, v := range res.Verdicts {
		out[v.Ref.UID] = verdictKey(v.Findings)
	}
	return out
}

// verdictsFromReports rebuilds the previous verdicts from the reports a
// previous process wrote, so a restart does not record every Event again.
func verdictsFromReports(reports []*unstructured.Unstructured) map[types.UID]string {
	byUID := map[types.UID][]policies.Finding{}
	for _, r := range reports {
		results, _, _ := unstructured.NestedSlice(r.Object, "results")
		for _, raw := range results {
			m, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			props, _, _ := unstructured.NestedStringMap(m, "properties")
			if props["action"] == "" {
				continue // a note, not a finding
			}
			rule, _, _ := unstructured.NestedString(m, "policy")
			res, _, _ := unstructured.NestedSlice(m, "resources")
			for _, s := range res {
				sm, ok := s.(map[string]any)
				if !ok {
					continue
				}
				uid, _, _ := unstructured.NestedString(sm, "uid")
				byUID[types.UID(uid)] = append(byUID[types.UID(uid)],
					policies.Finding{Rule: rule, Action: policies.Action(props["action"]), Field: props["field"]})
			}
		}
	}
	out := make(map[types.UID]string, len(byUID))
	for uid, fs := range byUID {
		out[uid] = verdictKey(fs)
	}
	return out
}

// recordChanges records an Event on every object whose verdict differs
// from before. An object not judged before counts as having had no
// findings, so a new object with findings gets one Event and a new clean
// object none.
func recordChanges(rec events.EventRecorder, res *Result, before map[types.UID]string) int {
	n := 0
	for _, v := range res.Verdicts {
		key := verdictKey(v.Findings)
		if before[v.Ref.UID] == key {
			continue
		}
		n++
		if len(v.Findings) == 0 {
			rec.Eventf(v.Object, nil, corev1.EventTypeNormal, ReasonClean, eventAction, "scaleguard audit: no findings any more")
			continue
		}
		typ := corev1.EventTypeNormal
		for _, f := range v.Findings {
			if f.Action == policies.Deny {
				typ = corev1.EventTypeWarning
			}
		}
		rec.Eventf(v.Object, nil, typ, ReasonFindings, eventAction, "%s", note(v.Findings))
	}
	return n
}

// note renders findings in at most maxNote bytes.
func note(fs []policies.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scaleguard audit: %d finding(s):", len(fs))
	for _, f := range fs {
		b.WriteString(" " + string(f.Action) + " " + f.String() + ";")
	}
	return truncate(strings.TrimSuffix(b.String(), ";"), maxNote)
}

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
