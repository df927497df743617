package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	sgv1alpha1 "github.com/scaleguard/scaleguard/apis/scaleguard/v1alpha1"
	"github.com/scaleguard/scaleguard/internal/audit"
	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/policies"
)

// auditOptions are the flags of `scaleguard audit`.
type auditOptions struct {
	kubeconfig, context, namespace, output, prometheus string
	timeout                                            time.Duration
}

func newAuditCommand() *cobra.Command {
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit [--kubeconfig FILE] [-n NAMESPACE] [-o " + strings.Join(check.Formats, "|") + "] [--prometheus URL]",
		Short: "Judge what a live cluster already stores, read-only, as check judges manifests (exit 0: nothing denied, 1: denied, 2: usage or read error)",
		Long: "audit reads every object scaleguard guards (and what its rules look at) from the cluster once, and judges each as the admission chain " +
			"would judge it written again: the findings of the validating phase, and what the mutating phase would change. It writes nothing. " +
			"Namespaces the webhooks never judge (" + fmt.Sprint(server.ExcludedNamespaces) + ") are skipped unless named with -n. " +
			"Each object is judged under the cluster's ScaleGuardPolicies covering its namespace, as admission would judge it. " +
			"With --prometheus, each prometheus trigger's query is also sent to that Prometheus as KEDA sends it, and an empty answer or one of several " +
			"series is reported (promql-no-series, promql-many-series).",
		Example: `  # everything the current context's cluster stores, as check would print it
  scaleguard audit

  # one namespace of the local demo cluster, with live query checks, as SARIF
  scaleguard audit --kubeconfig /tmp/sg.kubeconfig -n serving \
    --prometheus http://localhost:9090 -o sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAudit(cmd.Context(), o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	f.StringVar(&o.context, "context", "", "kubeconfig context (default: the current context)")
	f.StringVarP(&o.namespace, "namespace", "n", "", "audit only this namespace (default: every namespace the webhooks judge)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: "+strings.Join(check.Formats, ", ")+" (check's formats)")
	f.StringVar(&o.prometheus, "prometheus", "", "base URL of the Prometheus to send trigger queries to, instead of each trigger's serverAddress (e.g. http://localhost:9090 through kubectl port-forward)")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "give up reading the cluster after this long")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(check.Formats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runAudit(ctx context.Context, o auditOptions, stdout, stderr io.Writer) error {
	if !slices.Contains(check.Formats, o.output) {
		fmt.Fprintf(stderr, "error: unknown output %q: use %s\n", o.output, strings.Join(check.Formats, ", "))
		return exitError(2)
	}
	if o.prometheus != "" {
		if err := sgv1alpha1.ValidatePrometheusAddress(o.prometheus); err != nil {
			fmt.Fprintf(stderr, "error: --prometheus: %v\n", err)
			return exitError(2)
		}
	}
	cfg, where, err := kubeConfig(o.kubeconfig, o.context)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitError(2)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	c, err := client.New(cfg, client.Options{Scheme: apis.Scheme})
	if err != nil {
		fmt.Fprintf(stderr, "error: connecting to %s: %v\n", cfg.Host, err)
		return exitError(2)
	}
	snap, err := audit.TakeSnapshot(ctx, c, c.RESTMapper(), o.namespace)
	if err != nil {
		fmt.Fprintf(stderr, "error: reading the cluster at %s: %v\n", cfg.Host, err)
		return exitError(2)
	}
	for _, n := range snap.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	// The cluster's ScaleGuardPolicies, read once: each object is judged
	// under its namespace's settings, as admission judges it.
	store, err := clusterpolicy.ReadOnce(ctx, c, c.RESTMapper(), policies.Default, nil, snap.View.Namespace, logr.Discard())
	if err != nil {
		fmt.Fprintf(stderr, "error: reading the cluster at %s: %v\n", cfg.Host, err)
		return exitError(2)
	}
	for _, n := range store.Current().Refused() {
		fmt.Fprintln(stderr, "note:", n)
	}
	s := &audit.Scanner{Engine: policies.NewEngine(policies.Default), Namespace: o.namespace, SettingsFor: store.SettingsFor}
	if o.namespace == "" {
		s.Excluded = server.ExcludedNamespaces
	}
	if o.prometheus != "" {
		s.Live = &audit.LiveCheck{Address: o.prometheus, Auth: c}
	}
	res, err := s.Scan(ctx, snap, snap.View, policies.DefaultSettings(), time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitError(2)
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	rep := audit.CheckReport(res, where)
	vers, _ := buildVersion()
	err = check.Write(stdout, o.output, rep, check.WriteOptions{
		Color: o.output == "text" && colorful(stdout),
		Rules: policies.Default.Rules(), Version: vers,
	})
	if err != nil {
		return err
	}
	if rep.Denied() {
		return exitError(1)
	}
	return nil
}

// kubeConfig loads a client configuration the way kubectl does and names
// the cluster for text output: the context, else the server.
func kubeConfig(path, context string) (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading the kubeconfig: %w", err)
	}
	where := cfg.Host
	if raw, err := cc.RawConfig(); err == nil {
		if context != "" {
			where = context
		} else if raw.CurrentContext != "" {
			where = raw.CurrentContext
		}
	}
	return cfg, where, nil
}
