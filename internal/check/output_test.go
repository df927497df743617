package check_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// Each finding's line is the line of its field in a multi-document file
// (of the closest written parent when the field is not written).
func TestFindingLinesPointAtTheirFields(t *testing.T) {
	rep := judge(t, []string{"testdata/lines.yaml"}, "")
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s %s %d", f.Name, f.Rule, f.Field, f.Line))
	}
	want := []string{
		"llm-queue promql-unscoped spec.triggers[1].metadata.query 33",
		"other promql-cross-namespace spec.triggers[0].metadata.query 43",
		"other target-ref spec.scaleTargetRef.apiVersion 39",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range rep.Findings {
		if f.File != "testdata/lines.yaml" || f.APIVersion != "keda.sh/v1alpha1" || f.Where != fmt.Sprintf("testdata/lines.yaml:%d", f.Line) {
			t.Errorf("finding %+v", f)
		}
	}
}

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("sarif-schema-2.1.0.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validateSARIF(t *testing.T, schema *jsonschema.Schema, out []byte) map[string]any {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("SARIF output does not validate against the SARIF 2.1.0 schema: %v\n%s", err, out)
	}
	var log map[string]any
	_ = json.Unmarshal(out, &log)
	return log
}

func TestSARIF(t *testing.T) {
	schema := sarifSchema(t)
	dir := copyInto(t, "testdata/lines.yaml", "testdata/fix/in.yaml")
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := manifests.Load([]string{dir}, manifests.Options{})
	rep := check.Judge(in, check.Options{})
	if len(rep.Errors) != 1 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	var out bytes.Buffer
	if err := check.Write(&out, "sarif", rep, check.WriteOptions{Rules: policies.Default.Rules(), Version: "v1.2.3"}); err != nil {
		t.Fatal(err)
	}
	log := validateSARIF(t, schema, out.Bytes())

	run := log["runs"].([]any)[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	rules := driver["rules"].([]any)
	if len(rules) != len(policies.Default.Rules()) {
		t.Errorf("%d rule descriptors, want one per registered rule (%d)", len(rules), len(policies.Default.Rules()))
	}
	ids := map[string]int{}
	for i, r := range rules {
		r := r.(map[string]any)
		ids[r["id"].(string)] = i
		if r["help"].(map[string]any)["text"] == "" || r["shortDescription"].(map[string]any)["text"] == "" {
			t.Errorf("rule %v has no help text", r["id"])
		}
	}
	results := run["results"].([]any)
	if len(results) != len(rep.Findings) {
		t.Fatalf("%d results for %d findings", len(results), len(rep.Findings))
	}
	levels := map[string]string{"deny": "error", "warn": "warning", "mutate": "note"}
	for i, r := range results {
		r := r.(map[string]any)
		f := rep.Findings[i]
		loc := r["locations"].([]any)[0].(map[string]any)["physicalLocation"].(map[string]any)
		uri := loc["artifactLocation"].(map[string]any)["uri"].(string)
		line := loc["region"].(map[string]any)["startLine"].(float64)
		if r["ruleId"] != f.Rule || int(r["ruleIndex"].(float64)) != ids[f.Rule] || r["level"] != levels[f.Action] ||
			uri != "file://"+filepath.ToSlash(f.File) || int(line) != f.Line {
			t.Errorf("result %d = %v for finding %+v", i, r, f)
		}
	}
	inv := run["invocations"].([]any)[0].(map[string]any)
	if inv["executionSuccessful"] != false || len(inv["toolExecutionNotifications"].([]any)) != 1 {
		t.Errorf("invocation = %v", inv)
	}
	if driver["version"] != "v1.2.3" {
		t.Errorf("driver = %v", driver)
	}
}

// hostile is a name a manifest may carry but a terminal, a CI log or a
// code-scanning view must never interpret: an escape sequence, a line
// break that forges a finding and a workflow command, a bidirectional
// override, a zero-width space, a percent sign; the file name adds an
// invalid byte.
func hostile(i int) string {
	parts := []string{
		"\x1b[2J\x1b[31mred",
		"x\n::error file=forged.yaml,line=1::forged\nfake.yaml:1: ScaledObject a/b: deny [x] y",
		"abc\u202edcba\u2066",
		"zero\u200bwidth\ufeff",
		"replacement\ufffdchar",
		"%0A%25",
		"tab\there\r",
	}
	return parts[i%len(parts)]
}

func hostileReport(t *testing.T) check.Report {
	t.Helper()
	var docs []string
	for i := range 7 {
		name := hostile(i)
		q, _ := json.Marshal(name)
		docs = append(docs, fmt.Sprintf(`{"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": %s, "namespace": %s},
  "spec": {"scaleTargetRef": {"kind": "ModelServing", "name": %s}, "triggers": [{"type": "prometheus",
    "metadata": {"serverAddress": "http://p:9090", "threshold": "1", "query": %s}}]}}`, q, q, q,
			mustJSON(fmt.Sprintf("sum(m{namespace=%q})", name))))
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "we,ird:\nname\u202e\xff.yaml")
	if err := os.WriteFile(file, []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	in := manifests.Load([]string{dir}, manifests.Options{})
	rep := check.Judge(in, check.Options{})
	if len(rep.Findings) < 7 {
		t.Fatalf("findings %d, errors %+v", len(rep.Findings), rep.Errors)
	}
	rep.Errors = append(rep.Errors, check.InputError{File: file, Line: 3, Message: "broken: " + hostile(1)})
	return rep
}

func mustJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// rawUnsafe reports a character that must never reach the output as is.
func rawUnsafe(s string) (rune, bool) {
	for _, r := range s {
		if (unicode.IsControl(r) && r != '\n') || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return r, true
		}
	}
	return 0, false
}

func TestHostileNamesAreEscaped(t *testing.T) {
	rep := hostileReport(t)
	write := func(format string) string {
		var out bytes.Buffer
		if err := check.Write(&out, format, rep, check.WriteOptions{Rules: policies.Default.Rules()}); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}

	text := write("text")
	if r, bad := rawUnsafe(text); bad {
		t.Errorf("text output carries %U raw:\n%s", r, text)
	}
	if lines := strings.Count(text, "\n"); lines != len(rep.Findings)+1 {
		t.Errorf("text output has %d lines for %d findings and a summary: a name broke a line\n%s", lines, len(rep.Findings), text)
	}
	for _, want := range []string{`\x1b[2J`, `\u202e`, `\u200b`, `\xff.yaml`, `\n::error`, `\t`} {
		if !strings.Contains(text, want) {
			t.Errorf("text output does not show %s", want)
		}
	}

	gh := write("github")
	if r, bad := rawUnsafe(gh); bad {
		t.Errorf("github output carries %U raw", r)
	}
	lines := strings.Split(strings.TrimSuffix(gh, "\n"), "\n")
	if len(lines) != len(rep.Findings)+len(rep.Errors)+1 {
		t.Errorf("github output has %d lines for %d findings, %d errors and a summary:\n%s", len(lines), len(rep.Findings), len(rep.Errors), gh)
	}
	for _, l := range lines[:len(lines)-1] {
		cmd, msg, ok := strings.Cut(l[2:], "::")
		if !strings.HasPrefix(l, "::") || !ok || strings.Contains(msg, "\n") {
			t.Errorf("not one workflow command: %q", l)
		}
		if !strings.Contains(cmd, `file=`) || strings.Count(cmd, ",") != 2 || strings.Count(cmd, ":") != 0 {
			t.Errorf("properties not escaped: %q", cmd)
		}
	}
	if !strings.Contains(gh, "%250A%2525") {
		t.Errorf("percent signs not escaped:\n%s", gh)
	}

	sarif := write("sarif")
	var log any
	if err := json.Unmarshal([]byte(sarif), &log); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			if r, bad := rawUnsafe(v); bad {
				t.Errorf("SARIF string carries %U: %q", r, v)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(log)
	validateSARIF(t, sarifSchema(t), []byte(sarif))

	junit := write("junit")
	if r, bad := rawUnsafe(junit); bad {
		t.Errorf("junit output carries %U raw", r)
	}
	if err := xml.Unmarshal([]byte(junit), new(struct{})); err != nil {
		t.Errorf("junit output is not XML: %v", err)
	}
}

func TestSafe(t *testing.T) {
	cases := map[string]string{
		"plain name-1.x":     "plain name-1.x",
		"é中文 emoji 🚀":        "é中文 emoji 🚀",
		"\x1b[31m":           `\x1b[31m`,
		"a\nb\r\tc":          `a\nb\r\tc`,
		"\u202eevil\u202c":   `\u202eevil\u202c`,
		"\u2066\u2067\u2069": `\u2066\u2067\u2069`,
		"\u200b\u200d\ufeff": `\u200b\u200d\ufeff`,
		"\u0085\u2028":       `\u0085\u2028`,
		"\x7f\xff":           `\x7f\xff`,
	}
	for in, want := range cases {
		if got := check.Safe(in); got != want {
			t.Errorf("Safe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJUnit(t *testing.T) {
	rep := judge(t, []string{"testdata/lines.yaml", "testdata/fix/in.yaml"}, "")
	type suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suite    struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Type string `xml:"type,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	for _, tc := range []struct {
		opts          check.WriteOptions
		tests, failed int
	}{
		{check.WriteOptions{}, 5, 2},
		{check.WriteOptions{Quiet: true}, 2, 2},
	} {
		var out bytes.Buffer
		if err := check.Write(&out, "junit", rep, tc.opts); err != nil {
			t.Fatal(err)
		}
		var s suites
		if err := xml.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		if s.Tests != tc.tests || s.Failures != tc.failed || len(s.Suite.Cases) != tc.tests {
			t.Errorf("%+v: %d tests, %d failures:\n%s", tc.opts, s.Tests, s.Failures, out.String())
		}
	}
}

func TestGitHubAnnotation(t *testing.T) {
	rep := judge(t, []string{"testdata/lines.yaml"}, "")
	var out bytes.Buffer
	if err := check.Write(&out, "github", rep, check.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(out.String(), "\n", 2)[0]
	want := "::error file=testdata/lines.yaml,line=33,title=scaleguard promql-unscoped::ScaledObject serving/llm-queue: spec.triggers[1].metadata.query: selector `vllm:num_requests_waiting`"
	if !strings.HasPrefix(first, want) {
		t.Errorf("first line:\n%s\nwant prefix:\n%s", first, want)
	}
	if !strings.HasSuffix(out.String(), "scaleguard: 3 objects: 2 denied, 0 warned, 0 mutated\n") {
		t.Errorf("summary:\n%s", out.String())
	}
}

func TestTextColour(t *testing.T) {
	rep := judge(t, []string{"testdata/lines.yaml"}, "")
	var plain, colour bytes.Buffer
	if err := check.Write(&plain, "text", rep, check.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := check.Write(&colour, "text", rep, check.WriteOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") || !strings.Contains(colour.String(), ": \x1b[31mdeny\x1b[0m [promql-unscoped]") {
		t.Errorf("plain:\n%q\ncolour:\n%q", plain.String(), colour.String())
	}
}
