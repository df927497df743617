package audit

import (
	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/policies"
)

// CheckReport renders a scan as check's report, so `scaleguard audit`
// prints exactly what `scaleguard check` prints (its text and JSON
// writers, its summary and exit codes). where names the cluster in text
// output, as a file name does in check's.
func CheckReport(res *Result, where string) check.Report {
	rep := check.Report{Findings: []check.Finding{}, Summary: check.Summary{Objects: len(res.Verdicts)}}
	for _, v := range res.Verdicts {
		var denied, warned, mutated bool
		for _, f := range v.Findings {
			rep.Findings = append(rep.Findings, check.Finding{
				Kind: v.Ref.Kind.GVK.Kind, Namespace: v.Ref.Namespace, Name: v.Ref.Name,
				Rule: f.Rule, Action: string(f.Action), Field: f.Field, Message: f.Message, Where: where,
			})
			switch f.Action {
			case policies.Deny:
				denied = true
			case policies.Warn:
				warned = true
			case policies.Mutate:
				mutated = true
			}
		}
		rep.Summary.Denied += count(denied)
		rep.Summary.Warned += count(warned)
		rep.Summary.Mutated += count(mutated)
	}
	return rep
}

func count(b bool) int {
	if b {
		return 1
	}
	return 0
}
