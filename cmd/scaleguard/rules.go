package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/scaleguard/scaleguard/policies"
)

func newRulesCommand() *cobra.Command {
	var output string
	var policyFiles []string
	cmd := &cobra.Command{
		Use:   "rules [--policy FILE]...",
		Short: "Print the rule catalogue, and each rule's action under a ScaleGuardPolicy",
		Long: "rules prints every rule with its default action. With --policy it also prints the action each rule gets " +
			"under the policies given, merged as if they all covered one namespace (the strictest action wins), " +
			"and whether objects may exempt themselves from it.",
		Example: `  scaleguard rules
  scaleguard rules -o markdown > docs/rules.md
  scaleguard rules --policy config/samples/default-policy.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules := policies.Default.Rules()
			w := cmd.OutOrStdout()
			if len(policyFiles) > 0 {
				return writeRulesUnderPolicies(cmd, rules, policyFiles, output)
			}
			switch output {
			case "text":
				return policies.WriteCatalogText(w, rules)
			case "markdown":
				return policies.WriteCatalogMarkdown(w, rules)
			case "json":
				type entry struct {
					ID      string   `json:"id"`
					Action  string   `json:"action"`
					Kinds   []string `json:"kinds"`
					Summary string   `json:"summary"`
				}
				out := []entry{}
				for _, r := range rules {
					e := entry{ID: r.ID, Action: string(r.Action), Summary: r.Summary}
					for _, k := range r.Kinds {
						e.Kinds = append(e.Kinds, k.GroupVersion().String()+"/"+k.Kind)
					}
					out = append(out, e)
				}
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			return fmt.Errorf("unknown output %q: use text, markdown or json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, markdown or json")
	cmd.Flags().StringArrayVar(&policyFiles, "policy", nil, policyFlagHelp)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "markdown", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
