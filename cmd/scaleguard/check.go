package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

func newCheckCommand() *cobra.Command {
	var files []string
	var output string
	var policyFiles []string
	cmd := &cobra.Command{
		Use:   "check -f PATH... [-o text|json] [--policy FILE]...",
		Short: "Judge manifests offline, as the admission chain would (exit 0: nothing denied, 1: denied, 2: usage or read error)",
		Long: "check reads manifests (files, folders, - for stdin; multi-document YAML, JSON, Lists), " +
			"applies every mutation scaleguard would make and then validates the mutated objects, " +
			"against a view of the cluster made of the manifests given. Objects without a namespace are judged as in \"default\". " +
			"Kinds scaleguard does not guard are read for context and otherwise ignored. " +
			"Objects are judged under the ScaleGuardPolicies given with --policy and those among the manifests, merged per namespace as in a cluster " +
			"(a namespaceSelector sees the labels of a Namespace among the manifests, and kubernetes.io/metadata.name); with none, the built-in settings.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stderr := cmd.ErrOrStderr()
			if output != "text" && output != "json" {
				fmt.Fprintf(stderr, "error: unknown output %q: use text or json\n", output)
				return exitError(2)
			}
			if len(files) == 0 {
				fmt.Fprintln(stderr, "error: no input: give -f PATH (a file, a folder, or - for stdin)")
				return exitError(2)
			}
			objs, err := manifests.Read(files, cmd.InOrStdin())
			if err != nil {
				fmt.Fprintln(stderr, "error:", err)
				return exitError(2)
			}
			settingsFor, err := checkSettings(stderr, policyFiles, objs)
			if err != nil {
				fmt.Fprintln(stderr, "error:", err)
				return exitError(2)
			}
			rep, err := check.RunWith(objs, policies.NewEngine(policies.Default), settingsFor, time.Now())
			if err != nil {
				var me *manifests.Error
				if !errors.As(err, &me) {
					err = fmt.Errorf("check: %w", err)
				}
				fmt.Fprintln(stderr, "error:", err)
				return exitError(2)
			}
			if output == "json" {
				err = check.WriteJSON(cmd.OutOrStdout(), rep)
			} else {
				err = check.WriteText(cmd.OutOrStdout(), rep)
			}
			if err != nil {
				return err
			}
			if rep.Denied() {
				return exitError(1)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "file, folder or - (stdin) to check; repeatable")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringArrayVar(&policyFiles, "policy", nil, policyFlagHelp)
	return cmd
}
