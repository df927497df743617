package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// buildVersion is the module version and the VCS commit the binary was
// built from, as the Go toolchain recorded them ("(devel)" and "" when it
// did not: a build outside a module or a VCS checkout).
func buildVersion() (version, commit string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)", ""
	}
	version = info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var modified bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && commit != "" {
		commit += "-dirty"
	}
	return version, commit
}

// versionLine is what `scaleguard version` and `--version` print.
func versionLine() string {
	version, commit := buildVersion()
	parts := []string{"scaleguard", version}
	if commit != "" {
		parts = append(parts, "commit "+commit)
	}
	parts = append(parts, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
	return strings.Join(parts, " ")
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the module version and commit scaleguard was built from",
		Example: "  scaleguard version\n  scaleguard --version",
		Args:    cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
		},
	}
}
