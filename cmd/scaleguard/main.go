// Command scaleguard guards LLM-inference autoscaling: an admission webhook
// (serve), an offline checker for CI (check), a read-only audit of what a
// cluster stores (audit), the rule catalogue (rules), a local control plane
// to try it on (dev) and its build (version).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	_ "github.com/scaleguard/scaleguard/policies/all"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		var e exitError
		if errors.As(err, &e) {
			return int(e)
		}
		fmt.Fprintln(stderr, "error:", err)
		return 2
	}
	return 0
}

// exitError carries an exit code out of a command without printing.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func newRootCommand() *cobra.Command {
	zapOpts := &zap.Options{Development: false, TimeEncoder: zapcore.RFC3339TimeEncoder}
	root := &cobra.Command{
		Use:           "scaleguard",
		Short:         "Admission webhook and policy guard for LLM-inference autoscaling with KEDA",
		Version:       versionLine(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			// dev prints its own report; its logs stay at errors unless asked.
			if cmd.Name() == "dev" && !cmd.Flags().Changed("zap-log-level") {
				zapOpts.Level = zapcore.ErrorLevel
			}
			ctrl.SetLogger(zap.New(zap.UseFlagOptions(zapOpts)))
		},
	}
	fs := flag.NewFlagSet("zap", flag.ContinueOnError)
	zapOpts.BindFlags(fs)
	root.PersistentFlags().AddGoFlagSet(fs)

	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newServeCommand(), newCheckCommand(), newAuditCommand(), newRulesCommand(), newDevCommand(), newVersionCommand(), newManifestsCommand())
	return root
}
