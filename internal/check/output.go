package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/scaleguard/scaleguard/policies"
)

// Formats are the output formats of check, in the order help lists them.
var Formats = []string{"text", "json", "sarif", "github", "junit"}

// FailOn is the least severe action that fails a run: deny (the default)
// or warn.
type FailOn string

// The levels --fail-on accepts.
const (
	FailOnDeny FailOn = "deny"
	FailOnWarn FailOn = "warn"
)

// Fails reports whether a finding's action fails a run at this level.
// Mutations never do: the mutating webhook applies them.
func (l FailOn) Fails(action string) bool {
	return action == string(policies.Deny) || (l == FailOnWarn && action == string(policies.Warn))
}

// Failed reports whether any finding fails the run at level l.
func (r Report) Failed(l FailOn) bool {
	for _, f := range r.Findings {
		if l.Fails(f.Action) {
			return true
		}
	}
	return false
}

// Only is the report with just the findings that fail at level l.
func (r Report) Only(l FailOn) Report {
	out := r
	out.Findings = []Finding{}
	for _, f := range r.Findings {
		if l.Fails(f.Action) {
			out.Findings = append(out.Findings, f)
		}
	}
	return out
}

// WriteOptions tune how a report is written.
type WriteOptions struct {
	// Color marks actions with ANSI colours (text only).
	Color bool
	// Quiet leaves out the summary line (text) and passing objects (junit).
	Quiet bool
	// FailOn decides what junit counts as a failure.
	FailOn FailOn
	// Rules describe the rule IDs in SARIF output.
	Rules []policies.Rule
	// Version is scaleguard's version, for SARIF.
	Version string
}

// Write prints the report in one of Formats.
func Write(w io.Writer, format string, rep Report, opts WriteOptions) error {
	if opts.FailOn == "" {
		opts.FailOn = FailOnDeny
	}
	switch format {
	case "text":
		return writeText(w, rep, opts)
	case "json":
		return WriteJSON(w, rep)
	case "sarif":
		return writeSARIF(w, rep, opts)
	case "github":
		return writeGitHub(w, rep)
	case "junit":
		return writeJUnit(w, rep, opts)
	}
	return fmt.Errorf("unknown output %q: use %s", format, strings.Join(Formats, ", "))
}

// WriteJSON prints the report as the check JSON contract. Strings are
// written as found: JSON escapes control characters, and a JSON consumer
// decides how to show the rest.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText prints one line per finding and a summary line.
func WriteText(w io.Writer, rep Report) error { return writeText(w, rep, WriteOptions{}) }

var colors = map[string]string{"deny": "\x1b[31m", "warn": "\x1b[33m", "mutate": "\x1b[36m"}

func writeText(w io.Writer, rep Report, opts WriteOptions) error {
	var b strings.Builder
	for _, f := range rep.Findings {
		action := f.Action
		if c, ok := colors[action]; ok && opts.Color {
			action = c + action + "\x1b[0m"
		}
		b.WriteString(Safe(f.Where))
		if f.Kustomization != "" {
			fmt.Fprintf(&b, " (kustomization %s)", Safe(f.Kustomization))
		}
		fmt.Fprintf(&b, ": %s %s/%s: %s [%s]", Safe(f.Kind), Safe(f.Namespace), Safe(f.Name), action, f.Rule)
		if f.Field != "" {
			fmt.Fprintf(&b, " %s:", Safe(f.Field))
		}
		fmt.Fprintf(&b, " %s\n", Safe(f.Message))
	}
	if !opts.Quiet {
		b.WriteString(rep.Summary.String())
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// String is the summary line of text output.
func (s Summary) String() string {
	out := fmt.Sprintf("%d objects: %d denied, %d warned, %d mutated", s.Objects, s.Denied, s.Warned, s.Mutated)
	if s.Skipped > 0 {
		out += fmt.Sprintf("; %d files or documents skipped (--verbose lists them)", s.Skipped)
	}
	return out
}
