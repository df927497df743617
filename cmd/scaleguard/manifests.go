package main

import (
	"github.com/spf13/cobra"

	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// shippedConfiguration is what config/webhook/manifests.yaml is made of
// besides the dispatch table and the rules; config/webhook/service.yaml
// defines the Service.
var shippedConfiguration = webhooks.ConfigurationOptions{
	ServiceName:        "scaleguard-webhook",
	ServiceNamespace:   "scaleguard-system",
	ExcludedNamespaces: server.ExcludedNamespaces,
	TimeoutSeconds:     5,
}

// newManifestsCommand prints the webhook configurations that `make
// manifests` writes to config/webhook/manifests.yaml. It is hidden: the
// file is generated in the repository, not by users.
func newManifestsCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "manifests",
		Short:  "Print the webhook configurations of config/webhook/manifests.yaml",
		Hidden: true,
		Example: `  # regenerate the shipped webhook configurations
  scaleguard manifests > config/webhook/manifests.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return webhooks.WriteConfigurations(cmd.OutOrStdout(), policies.Default, shippedConfiguration)
		},
	}
}
