package check

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML as CI systems read it (Jenkins, GitLab, Azure Pipelines): the
// schema is informal, and these are the elements and attributes they all
// accept.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit prints one test case per judged object, failed when one of
// its findings fails the run at opts.FailOn (the failing findings are its
// failure text, the others its output), and one errored test case per
// input that could not be read.
func writeJUnit(w io.Writer, rep Report, opts WriteOptions) error {
	suite := junitSuite{Name: "scaleguard check", Skipped: rep.Summary.Skipped}
	for _, j := range rep.Judged {
		c := junitCase{
			Name:      Safe(fmt.Sprintf("%s %s/%s", j.Object.GVK.Kind, j.Namespace, j.Object.Name)),
			Classname: Safe(j.Object.Source),
			File:      Safe(j.Object.Source),
			Line:      j.Object.Line,
		}
		var failed, other []string
		var firstFailure *Finding
		for i, f := range j.Findings {
			line := Safe(fmt.Sprintf("%s [%s] %s: %s", f.Action, f.Rule, f.Field, f.Message))
			if opts.FailOn.Fails(f.Action) {
				failed = append(failed, fmt.Sprintf("%s:%d: %s", Safe(f.File), f.Line, line))
				if firstFailure == nil {
					firstFailure = &j.Findings[i]
				}
			} else {
				other = append(other, fmt.Sprintf("%s:%d: %s", Safe(f.File), f.Line, line))
			}
		}
		if firstFailure != nil {
			suite.Failures++
			c.Line = firstFailure.Line
			c.Failure = &junitProblem{
				Message: Safe(fmt.Sprintf("[%s] %s", firstFailure.Rule, firstFailure.Message)),
				Type:    firstFailure.Action,
				Text:    strings.Join(failed, "\n"),
			}
		} else if opts.Quiet {
			continue
		}
		c.SystemOut = strings.Join(other, "\n")
		suite.Cases = append(suite.Cases, c)
	}
	for _, e := range rep.Errors {
		suite.Errors++
		suite.Cases = append(suite.Cases, junitCase{
			Name: "read " + Safe(e.File), Classname: Safe(e.File), File: Safe(e.File), Line: e.Line,
			Error: &junitProblem{Message: Safe(e.Message), Type: "input"},
		})
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: "scaleguard", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
