package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// checkOptions are the flags of check; a new flag is a field, a line in
// bind, and where needed a line in validate.
type checkOptions struct {
	files     []string
	output    string
	failOn    string
	quiet     bool
	verbose   bool
	exclude   []string
	namespace string
	fix       bool
	diff      bool
	policies  []string
}

func (o *checkOptions) bind(f *pflag.FlagSet) {
	f.StringArrayVarP(&o.files, "filename", "f", nil, "file, folder or - (stdin) to check; repeatable")
	f.StringVarP(&o.output, "output", "o", "text", "output format: "+strings.Join(check.Formats, ", "))
	f.StringVar(&o.failOn, "fail-on", string(check.FailOnDeny), "exit 1 on findings of this action or worse: deny or warn")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print only the findings that fail the run (see --fail-on) and errors")
	f.BoolVar(&o.verbose, "verbose", false, "also list the files and documents skipped, and the kustomizations rendered (on stderr)")
	f.StringArrayVar(&o.exclude, "exclude", nil, "leave out files and folders matching this glob when walking a folder (** for any depth; without a /, matches the base name); repeatable")
	f.StringVarP(&o.namespace, "namespace", "n", "default", "namespace of objects that have none")
	f.BoolVar(&o.fix, "fix", false, "write the changes the mutating webhook would make back into the files, keeping comments, order and quoting")
	f.BoolVar(&o.diff, "diff", false, "print the changes --fix would write as a unified diff on stdout (the report goes to stderr), and write nothing")
	f.StringArrayVar(&o.policies, "policy", nil, policyFlagHelp)
}

func (o *checkOptions) validate() error {
	if !slices.Contains(check.Formats, o.output) {
		return fmt.Errorf("unknown output %q: use %s", o.output, strings.Join(check.Formats, ", "))
	}
	if o.failOn != string(check.FailOnDeny) && o.failOn != string(check.FailOnWarn) {
		return fmt.Errorf("unknown --fail-on %q: use deny or warn", o.failOn)
	}
	for _, p := range o.exclude {
		if err := manifests.ValidateGlob(p); err != nil {
			return fmt.Errorf("--exclude: %w", err)
		}
	}
	if o.namespace == "" {
		return fmt.Errorf("--namespace must not be empty")
	}
	if len(o.files) == 0 {
		return fmt.Errorf("no input: give -f PATH (a file, a folder, or - for stdin)")
	}
	return nil
}

// settings are the rule settings check applies.
func (o *checkOptions) settings() (*policies.Settings, error) {
	return policies.DefaultSettings(), nil
}

func newCheckCommand() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check -f PATH... [-o " + strings.Join(check.Formats, "|") + "]",
		Short: "Judge manifests offline, as the admission chain would (exit 0: nothing fails, 1: a finding fails the run, 2: usage or read error)",
		Long: `check reads manifests (files, folders, - for stdin; multi-document YAML, JSON, Lists), applies every mutation
scaleguard would make and then validates the mutated objects, against a view of the cluster made of the manifests given.
Objects without a namespace are judged as in --namespace ("default"). Kinds scaleguard does not guard are read for
context and otherwise ignored.

In a folder, files that are not Kubernetes objects (Helm values, CI configuration) are skipped and counted, a Helm
chart is skipped with a hint to pipe "helm template" into "check -f -", and a folder with a kustomization.yaml is
rendered with kustomize: its objects are judged as kustomize builds them, each kustomization against its own view,
and its patch files are not read as objects. A file that cannot be parsed is an error naming it (exit 2) and the
other files are still judged.

Exit 0: no finding fails the run; 1: a finding does (a deny, or with --fail-on warn also a warning); 2: a usage error,
or an input that could not be read or judged.`,
		Example: `  # a GitOps repository, annotated in a pull request
  scaleguard check -f . -o github

  # what kustomize or helm renders
  kustomize build overlays/prod | scaleguard check -f - -o json
  helm template charts/vllm | scaleguard check -f - --namespace serving

  # write the mutating webhook's changes into the files (or only show them)
  scaleguard check -f deploy/ --fix
  scaleguard check -f deploy/ --diff

  # code scanning; fail on warnings too; leave out vendored charts
  scaleguard check -f . -o sarif --fail-on warn --exclude 'vendor/**' > scaleguard.sarif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, o)
		},
	}
	o.bind(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(check.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"deny", "warn"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runCheck(cmd *cobra.Command, o *checkOptions) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if err := o.validate(); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitError(2)
	}
	settings, err := o.settings()
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitError(2)
	}
	in := manifests.Load(o.files, manifests.Options{Stdin: cmd.InOrStdin(), Exclude: o.exclude})
	settingsFor, err := checkSettings(stderr, o.policies, in)
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return exitError(2)
	}
	rep := check.Judge(in, check.Options{
		Engine: policies.NewEngine(policies.Default), Settings: settings, SettingsFor: settingsFor, Now: time.Now(), Namespace: o.namespace,
	})
	failOn := check.FailOn(o.failOn)
	if o.verbose {
		printInputs(stderr, in)
	}
	if !o.quiet {
		for _, h := range rep.Hints {
			fmt.Fprintln(stderr, "note:", check.Safe(h))
		}
	}
	fixFailed := false
	if o.fix || o.diff {
		fixFailed = !applyFixes(stdout, stderr, rep, o)
	}
	for _, e := range rep.Errors {
		where := e.File
		if e.Line > 0 {
			where = fmt.Sprintf("%s:%d", e.File, e.Line)
		}
		fmt.Fprintf(stderr, "error: %s: %s\n", check.Safe(where), check.Safe(e.Message))
	}
	out := stdout
	if o.diff {
		out = stderr
	}
	shown := rep
	if o.quiet {
		shown = rep.Only(failOn)
	}
	vers, _ := buildVersion()
	err = check.Write(out, o.output, shown, check.WriteOptions{
		Color: o.output == "text" && colorful(out), Quiet: o.quiet, FailOn: failOn,
		Rules: policies.Default.Rules(), Version: vers,
	})
	if err != nil {
		return err
	}
	switch {
	case len(rep.Errors) > 0 || fixFailed:
		return exitError(2)
	case rep.Failed(failOn):
		return exitError(1)
	}
	return nil
}

// applyFixes writes (or, with --diff, prints) the mutating webhook's
// changes; it reports false when a file could not be fixed.
func applyFixes(stdout, stderr io.Writer, rep check.Report, o *checkOptions) bool {
	fixes, unfixable, errs := check.Fixes(rep)
	ok := len(errs) == 0
	for _, err := range errs {
		fmt.Fprintln(stderr, "error:", check.Safe(err.Error()))
	}
	for _, u := range unfixable {
		if o.quiet {
			continue
		}
		fmt.Fprintf(stderr, "note: %s: %s %s/%s: not fixed in place (%s); the mutating webhook changes %s\n",
			check.Safe(u.Object.Where()), u.Object.GVK.Kind, check.Safe(u.Namespace), check.Safe(u.Object.Name),
			u.Reason, check.Safe(patchSummary(u)))
	}
	for _, f := range fixes {
		for _, line := range f.Reformatted {
			fmt.Fprintf(stderr, "note: %s:%d: the fixed document was re-serialised (comments, key order and quoting kept; indentation and blank lines normalised)\n", check.Safe(f.Path), line)
		}
		if o.diff {
			if err := f.WriteDiff(stdout); err != nil {
				fmt.Fprintln(stderr, "error:", err)
				ok = false
			}
			continue
		}
		if err := f.Write(); err != nil {
			fmt.Fprintln(stderr, "error:", err)
			ok = false
			continue
		}
		if !o.quiet {
			fmt.Fprintf(stderr, "fixed %s\n", check.Safe(f.Path))
		}
	}
	return ok
}

func patchSummary(u check.Unfixable) string {
	var parts []string
	for _, op := range u.Patch {
		if op.Operation == "remove" {
			parts = append(parts, "remove "+op.Path)
			continue
		}
		value, _ := json.Marshal(op.Value)
		parts = append(parts, fmt.Sprintf("%s %s %s", op.Operation, op.Path, value))
	}
	return strings.Join(parts, "; ")
}

// printInputs lists, for --verbose, what was skipped and what kustomize
// rendered.
func printInputs(w io.Writer, in manifests.Result) {
	for _, s := range in.Sets {
		if s.Kustomization != "" {
			fmt.Fprintf(w, "rendered %s with kustomize: %d objects\n", check.Safe(s.Kustomization), len(s.Objects))
		}
	}
	for _, s := range in.Skipped {
		where := s.Source
		if s.Line > 0 {
			where = fmt.Sprintf("%s:%d", s.Source, s.Line)
		}
		fmt.Fprintf(w, "skipped %s: %s\n", check.Safe(where), check.Safe(s.Reason))
	}
}

// colorful reports whether w is a terminal and NO_COLOR (no-color.org) is
// unset or empty.
func colorful(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(f.Fd()))
}
