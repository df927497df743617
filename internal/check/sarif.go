package check

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/scaleguard/scaleguard/policies"
)

// sarifLevels maps actions to SARIF result levels.
var sarifLevels = map[string]string{"deny": "error", "warn": "warning", "mutate": "note"}

// writeSARIF prints a SARIF 2.1.0 log: one rule descriptor per rule ID
// with its help text, one result per finding located at the line of its
// field (else of its document), and the input errors as tool execution
// notifications. Code-scanning views (GitHub's among them) annotate the
// manifest lines from it.
func writeSARIF(w io.Writer, rep Report, opts WriteOptions) error {
	log, err := sarif.New(sarif.Version210)
	if err != nil {
		return err
	}
	driver := sarif.NewDriver("scaleguard")
	if opts.Version != "" {
		driver.WithVersion(opts.Version)
	}
	run := sarif.NewRun(*sarif.NewTool(driver))
	index := map[string]int{}
	addRule := func(id string, r *policies.Rule) {
		if _, ok := index[id]; ok {
			return
		}
		desc := run.AddRule(id)
		index[id] = len(run.Tool.Driver.Rules) - 1
		if r == nil {
			desc.WithDescription(id)
			return
		}
		doc := r.Doc
		if doc == "" {
			doc = r.Summary + "."
		}
		desc.WithDescription(r.Summary).
			WithFullDescription(sarif.NewMultiformatMessageString(doc)).
			WithHelp(sarif.NewMultiformatMessageString(doc).WithMarkdown(doc)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevels[string(r.Action)]))
	}
	for i := range opts.Rules {
		addRule(opts.Rules[i].ID, &opts.Rules[i])
	}
	for _, f := range rep.Findings {
		addRule(f.Rule, nil)
		msg := fmt.Sprintf("%s %s/%s: %s", f.Kind, f.Namespace, f.Name, f.Message)
		if f.Field != "" {
			msg = fmt.Sprintf("%s %s/%s: %s: %s", f.Kind, f.Namespace, f.Name, f.Field, f.Message)
		}
		res := run.CreateResultForRule(f.Rule).
			WithRuleIndex(index[f.Rule]).
			WithLevel(sarifLevels[f.Action]).
			WithMessage(sarif.NewTextMessage(Safe(msg)))
		loc := sarif.NewLocation().WithLogicalLocations([]*sarif.LogicalLocation{
			sarif.NewLogicalLocation().
				WithName(Safe(f.Name)).
				WithFullyQualifiedName(Safe(f.APIVersion + "/" + f.Kind + "/" + f.Namespace + "/" + f.Name)).
				WithKind("object"),
		})
		if f.File != "-" {
			loc.WithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(artifact(f.File)).
				WithRegion(sarif.NewRegion().WithStartLine(max(f.Line, 1))))
		}
		res.AddLocation(loc)
	}
	inv := run.AddInvocation(len(rep.Errors) == 0)
	for _, e := range rep.Errors {
		n := sarif.NewNotification().WithLevel("error").WithTextMessage(Safe(e.Message))
		if e.File != "" && e.File != "-" {
			n.AddLocation(sarif.NewLocation().WithPhysicalLocation(sarif.NewPhysicalLocation().
				WithArtifactLocation(artifact(e.File)).
				WithRegion(sarif.NewRegion().WithStartLine(max(e.Line, 1)))))
		}
		inv.AddTToolExecutionNotification(n)
	}
	log.AddRun(run)
	if err := log.PrettyWrite(w); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// artifact is a file as a SARIF artifact location: a relative path is a
// relative URI reference resolved against the checkout (%SRCROOT%), an
// absolute one a file URI. Either is percent-encoded, so any file name
// gives a valid URI.
func artifact(file string) *sarif.ArtifactLocation {
	p := filepath.ToSlash(file)
	if filepath.IsAbs(file) {
		return sarif.NewSimpleArtifactLocation((&url.URL{Scheme: "file", Path: p}).String())
	}
	return sarif.NewSimpleArtifactLocation((&url.URL{Path: p}).String()).WithUriBaseId("%SRCROOT%")
}
