package check

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

// FileFix is the new content of one file.
type FileFix struct {
	Path     string
	Old, New []byte
	// Reformatted lists the first lines of documents that had to be
	// serialised whole (see manifests.Edit).
	Reformatted []int
}

// Unfixable is an object the mutating webhook would change whose change
// cannot be written back, and why.
type Unfixable struct {
	Judged
	Reason string
}

// Fixes plans writing back into the source files what the mutating webhook
// would change, file by file. Objects that came from stdin, a List or a
// kustomize build are Unfixable; a file changed since it was read is an
// error.
func Fixes(rep Report) ([]FileFix, []Unfixable, []error) {
	byFile := map[string][]Judged{}
	var unfixable []Unfixable
	for _, j := range rep.Judged {
		if len(j.Patch) == 0 {
			continue
		}
		if reason := j.Object.NotFixable(); reason != "" {
			unfixable = append(unfixable, Unfixable{j, reason})
			continue
		}
		if j.Converted {
			unfixable = append(unfixable, Unfixable{j, "judged as autoscaling/v2; write the change in " + j.Object.APIVersion() + " by hand"})
			continue
		}
		byFile[j.Object.Doc.Source] = append(byFile[j.Object.Doc.Source], j)
	}
	var files []string
	for f := range byFile {
		files = append(files, f)
	}
	sort.Strings(files)
	var fixes []FileFix
	var errs []error
	for _, f := range files {
		fix, err := fixFile(f, byFile[f])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !bytes.Equal(fix.Old, fix.New) {
			fixes = append(fixes, fix)
		}
	}
	return fixes, unfixable, errs
}

func fixFile(path string, judged []Judged) (FileFix, error) {
	old, err := os.ReadFile(path)
	if err != nil {
		return FileFix{}, fmt.Errorf("%s: %w", path, err)
	}
	crlf := bytes.Contains(old, []byte("\r\n"))
	lines := splitKeep(old)
	sort.Slice(judged, func(a, b int) bool { return judged[a].Object.Doc.Line < judged[b].Object.Doc.Line })
	fix := FileFix{Path: path, Old: old}
	var out bytes.Buffer
	next := 0 // index into lines
	for _, j := range judged {
		d := j.Object.Doc
		from, to := d.Line-1, d.EndLine-1
		if from < next || to > len(lines) {
			return FileFix{}, fmt.Errorf("%s:%d: the file changed since it was read", path, d.Line)
		}
		var current []byte
		for _, l := range lines[from:to] {
			current = append(current, strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")...)
			current = append(current, '\n')
		}
		if !bytes.Equal(current, d.Text) {
			return FileFix{}, fmt.Errorf("%s:%d: the file changed since it was read", path, d.Line)
		}
		text, reformatted, err := manifests.Edit(d.Text, isJSONDocument(path, d.Text), j.Patch)
		if err != nil {
			return FileFix{}, fmt.Errorf("%s:%d: %s %s/%s: cannot write the fix: %w", path, d.Line, j.Object.GVK.Kind, j.Namespace, j.Object.Name, err)
		}
		if reformatted {
			fix.Reformatted = append(fix.Reformatted, d.Line)
		}
		if to > 0 && !strings.HasSuffix(lines[to-1], "\n") {
			text = bytes.TrimSuffix(text, []byte("\n")) // the file had no final newline
		}
		if crlf {
			text = bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n"))
		}
		for _, l := range lines[next:from] {
			out.WriteString(l)
		}
		out.Write(text)
		next = to
	}
	for _, l := range lines[next:] {
		out.WriteString(l)
	}
	fix.New = out.Bytes()
	return fix, nil
}

// isJSONDocument: documents of a .json file, and documents written as one
// JSON object, are edited as JSON.
func isJSONDocument(path string, text []byte) bool {
	if strings.EqualFold(filepath.Ext(path), ".json") {
		return true
	}
	for _, l := range bytes.Split(text, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		return t[0] == '{'
	}
	return false
}

// Write writes the fix into its file, keeping the file's permissions.
func (f FileFix) Write() error {
	info, err := os.Stat(f.Path)
	if err != nil {
		return err
	}
	return os.WriteFile(f.Path, f.New, info.Mode().Perm())
}

// WriteDiff prints the fix as a unified diff that `git apply` and
// `patch -p1` accept. (A file without a final newline is shown with one.)
func (f FileFix) WriteDiff(w io.Writer) error {
	name := filepath.ToSlash(f.Path)
	terminated := func(lines []string) []string {
		if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
			lines[n-1] += "\n"
		}
		return lines
	}
	return difflib.WriteUnifiedDiff(w, difflib.UnifiedDiff{
		A: terminated(splitKeep(f.Old)), B: terminated(splitKeep(f.New)),
		FromFile: "a/" + name, ToFile: "b/" + name, Context: 3,
	})
}

// splitKeep splits text into lines that keep their line ends.
func splitKeep(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, string(b))
			break
		}
		out = append(out, string(b[:i+1]))
		b = b[i+1:]
	}
	return out
}
