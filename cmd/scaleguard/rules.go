package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/scaleguard/scaleguard/policies"
)

func newRulesCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Print the rule catalogue",
		Example: `  scaleguard rules
  scaleguard rules -o markdown > docs/rules.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules := policies.Default.Rules()
			w := cmd.OutOrStdout()
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
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"text", "markdown", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}
