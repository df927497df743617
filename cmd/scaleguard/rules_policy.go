package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
	"github.com/scaleguard/scaleguard/policies"
)

// ruleUnderPolicy is one rule's line of `rules --policy -o json`.
type ruleUnderPolicy struct {
	ID      string `json:"id"`
	Default string `json:"default"`
	// Action is Enforce, Warn or Off under the policies.
	Action string `json:"action"`
	// Effective is what the rule then does: deny, warn, mutate or off.
	Effective       string `json:"effective"`
	AllowExemptions bool   `json:"allowExemptions"`
	Summary         string `json:"summary"`
}

func writeRulesUnderPolicies(cmd *cobra.Command, rules []policies.Rule, files []string, output string) error {
	ps, err := readPolicyFiles(files, policies.Default)
	if err != nil {
		fmt.Fprintln(cmd.ErrOrStderr(), "error:", err)
		return exitError(2)
	}
	set := clusterpolicy.NewSet(nil, mergeByName(ps)...)
	settings := clusterpolicy.Merge(set.Policies())
	var names []string
	for _, p := range set.Policies() {
		names = append(names, fmt.Sprintf("%q", p.Name))
	}
	var out []ruleUnderPolicy
	for _, r := range rules {
		enf := settings.Enforcement(r.ID)
		out = append(out, ruleUnderPolicy{
			ID: r.ID, Default: string(r.Action), Action: string(enf), Effective: effectiveAction(r.Action, enf),
			AllowExemptions: settings.AllowsExemption(r.ID), Summary: r.Summary,
		})
	}
	w := cmd.OutOrStdout()
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "text":
		var b strings.Builder
		fmt.Fprintf(&b, "under ScaleGuardPolicy %s:\n", strings.Join(names, ", "))
		fmt.Fprintf(&b, "%-30s %-7s %-20s %-11s %s\n", "RULE", "DEFAULT", "UNDER THE POLICY", "EXEMPTIONS", "SUMMARY")
		for _, r := range out {
			ex := "allowed"
			if !r.AllowExemptions {
				ex = "forbidden"
			}
			fmt.Fprintf(&b, "%-30s %-7s %-20s %-11s %s\n", r.ID, r.Default, r.Effective+" ("+r.Action+")", ex, r.Summary)
		}
		_, err := fmt.Fprint(w, b.String())
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "error: output %q is not available with --policy: use text or json\n", output)
	return exitError(2)
}

// effectiveAction is what a rule with a default action does under an
// enforcement.
func effectiveAction(def policies.Action, enf policies.Enforcement) string {
	switch enf {
	case policies.Off:
		return "off"
	case policies.WarnOnly:
		return string(policies.Warn)
	}
	return string(def)
}
