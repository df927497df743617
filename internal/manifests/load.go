package manifests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Options tune Load.
type Options struct {
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Exclude are glob patterns of files and folders to leave out of a
	// folder walk. A pattern with a "/" matches the path relative to the
	// folder given (or the path as given); one without matches the base
	// name at any depth; "**" matches any number of folders.
	Exclude []string
}

// Set is a group of objects judged together, as one apply would send
// them: the manifests read as written form one set, and each rendered
// kustomization forms its own (two overlays of one base are two
// deployments, not one).
type Set struct {
	// Kustomization is the folder the set was rendered from, empty for
	// the manifests read as written.
	Kustomization string
	Objects       []Object
}

// Skip is a file or document left out, and why.
type Skip struct {
	Source string
	// Line is the document's first line, 0 for a whole file or folder.
	Line   int
	Reason string
}

// Result is what Load read.
type Result struct {
	Sets    []Set
	Skipped []Skip
	// Hints say, once each, how to check what was skipped.
	Hints []string
	// Errors are the files and documents that could not be read; the
	// others are read all the same.
	Errors []*Error
}

// Objects is every object of every set.
func (r Result) Objects() []Object {
	var out []Object
	for _, s := range r.Sets {
		out = append(out, s.Objects...)
	}
	return out
}

// ValidateGlob reports whether an --exclude pattern is well-formed.
func ValidateGlob(pattern string) error {
	if !doublestar.ValidatePattern(filepath.ToSlash(pattern)) {
		return fmt.Errorf("bad pattern %q", pattern)
	}
	return nil
}

// Load reads what a repository holds, the way a CI job meets it: files,
// folders (recursively: .yaml, .yml, .json) and "-" for stdin. Unlike Read
// it does not stop at the first problem. Documents that are not Kubernetes
// objects (Helm values, CI configuration) are skipped, a Helm chart's files
// are skipped with a hint, a file with unrendered {{ }} templates is
// skipped, a folder with a kustomization is rendered with kustomize and
// its inputs are not read as objects, and a file that cannot be parsed is
// an error that leaves the other files read.
func Load(paths []string, opts Options) Result {
	l := &loader{opts: opts, roots: map[string]bool{}, hinted: map[string]bool{}}
	plain := Set{}
	for _, p := range paths {
		plain.Objects = append(plain.Objects, l.path(p)...)
	}
	var res Result
	if len(plain.Objects) > 0 {
		res.Sets = append(res.Sets, plain)
	}
	res.Sets = append(res.Sets, l.kustomizations()...)
	res.Skipped, res.Hints, res.Errors = l.skipped, l.hints, l.errs
	return res
}

type loader struct {
	opts    Options
	roots   map[string]bool // kustomization folders found
	skipped []Skip
	hints   []string
	hinted  map[string]bool
	errs    []*Error
}

func (l *loader) skip(source string, line int, reason string) {
	l.skipped = append(l.skipped, Skip{Source: source, Line: line, Reason: reason})
}

func (l *loader) hint(h string) {
	if !l.hinted[h] {
		l.hinted[h] = true
		l.hints = append(l.hints, h)
	}
}

func (l *loader) fail(err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Err: err}
	}
	l.errs = append(l.errs, e)
}

func (l *loader) path(p string) []Object {
	if p == "-" {
		if l.opts.Stdin == nil {
			l.fail(&Error{Source: "-", Err: errors.New("no standard input")})
			return nil
		}
		return l.stream("-", l.opts.Stdin)
	}
	info, err := os.Stat(p)
	if err != nil {
		l.fail(&Error{Source: p, Err: unwrapPathError(err)})
		return nil
	}
	if !info.IsDir() {
		if isKustomizationFile(p) {
			l.roots[filepath.Clean(filepath.Dir(p))] = true
			return nil
		}
		if chart := chartOf(p); chart != "" {
			l.chartFile(chart, p)
			return nil
		}
		return l.file(p)
	}
	return l.walk(p)
}

// walk reads a folder: kustomization folders are noted for rendering and
// their files not read; Helm charts are skipped whole.
func (l *loader) walk(root string) []Object {
	var files []string
	var owners []string // kustomization or chart folders, innermost last
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for len(owners) > 0 && !within(path, owners[len(owners)-1]) {
			owners = owners[:len(owners)-1]
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if pat, ok := l.excluded(root, path); ok {
			l.skip(path, 0, fmt.Sprintf("excluded by --exclude %q", pat))
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			switch {
			case isChart(path) && len(owners) == 0:
				owners = append(owners, path)
			case hasKustomization(path):
				l.roots[filepath.Clean(path)] = true
				owners = append(owners, path)
			}
			return nil
		}
		if !isManifestName(path) {
			return nil
		}
		if len(owners) > 0 {
			if owner := owners[0]; isChart(owner) {
				l.chartFile(owner, path)
			}
			return nil // an input of a kustomization, read when it is rendered
		}
		files = append(files, path)
		return nil
	})
	if err != nil {
		l.fail(&Error{Source: root, Err: unwrapPathError(err)})
	}
	sort.Strings(files)
	var out []Object
	for _, f := range files {
		out = append(out, l.file(f)...)
	}
	return out
}

func (l *loader) excluded(root, path string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == "." {
		return "", false
	}
	rel, full, base := filepath.ToSlash(rel), filepath.ToSlash(path), filepath.Base(path)
	for _, pat := range l.opts.Exclude {
		p := filepath.ToSlash(pat)
		if strings.Contains(p, "/") {
			if doublestar.MatchUnvalidated(strings.TrimPrefix(p, "./"), rel) || doublestar.MatchUnvalidated(p, full) {
				return pat, true
			}
		} else if doublestar.MatchUnvalidated(p, base) {
			return pat, true
		}
	}
	return "", false
}

func (l *loader) chartFile(chart, path string) {
	reason := fmt.Sprintf("part of the Helm chart %s", chart)
	if within(path, filepath.Join(chart, "templates")) {
		reason = fmt.Sprintf("a template of the Helm chart %s", chart)
	}
	l.skip(path, 0, reason)
	l.hint(fmt.Sprintf("%s is a Helm chart: its templates are judged once rendered, e.g. helm template %s | scaleguard check -f -", chart, chart))
}

func (l *loader) file(p string) []Object {
	raw, err := os.ReadFile(p)
	if err != nil {
		l.fail(&Error{Source: p, Err: unwrapPathError(err)})
		return nil
	}
	return l.stream(p, bytes.NewReader(raw))
}

// stream reads the documents of one file or stdin leniently.
func (l *loader) stream(source string, r io.Reader) []Object {
	raw, err := io.ReadAll(r)
	if err != nil {
		l.fail(&Error{Source: source, Err: err})
		return nil
	}
	docs, err := splitDocuments(source, bytes.NewReader(raw))
	if err != nil {
		l.fail(err)
		return nil
	}
	var out []Object
	var skips []Skip
	var errs []*Error
	documents := 0
	for _, d := range docs {
		j, err := d.toJSON()
		if err == nil && j == nil {
			continue
		}
		documents++
		if err == nil && !looksLikeObject(j) {
			skips = append(skips, Skip{Source: source, Line: d.Line, Reason: "not a Kubernetes object"})
			continue
		}
		if err != nil && !mentionsKind(d.Text) {
			// Not YAML at all (a JSON file with comments, a script), and
			// nothing in it says it is meant as a Kubernetes object.
			skips = append(skips, Skip{Source: source, Line: d.Line, Reason: "does not parse, and names no apiVersion and kind"})
			continue
		}
		if err == nil {
			var objs []Object
			if objs, err = decodeObject(d, d.Line, j, -1); err == nil {
				out = append(out, objs...)
				continue
			}
		}
		var e *Error
		errors.As(err, &e)
		errs = append(errs, e)
	}
	if len(errs) > 0 && source != "-" && (bytes.Contains(raw, []byte("{{")) || bytes.Contains(raw, []byte("${"))) {
		l.skip(source, 0, "a template ({{ }} or ${ } placeholders) that does not read as manifests")
		l.hint("templated files are judged once rendered: pipe the rendered output into scaleguard check -f -")
		return nil
	}
	for _, e := range errs {
		l.fail(e)
	}
	if len(skips) == documents && documents > 0 {
		l.skip(source, 0, "not a Kubernetes manifest")
		return nil
	}
	l.skipped = append(l.skipped, skips...)
	return out
}

// mentionsKind reports whether a document that does not parse still
// looks meant as a Kubernetes object: it has apiVersion and kind keys.
func mentionsKind(text []byte) bool {
	return bytes.Contains(text, []byte("apiVersion")) && bytes.Contains(text, []byte("kind"))
}

// looksLikeObject tells a Kubernetes object (or a broken one: a kind or
// apiVersion beside metadata, which Parse reports) from any other YAML: a
// Helm values file, a CI configuration, a Chart.yaml.
func looksLikeObject(j []byte) bool {
	var head map[string]json.RawMessage
	if json.Unmarshal(j, &head) != nil {
		return false
	}
	isString := func(k string) bool {
		var s string
		return json.Unmarshal(head[k], &s) == nil && s != ""
	}
	apiVersion, kind := isString("apiVersion"), isString("kind")
	_, metadata := head["metadata"]
	return (apiVersion && kind) || ((apiVersion || kind) && metadata)
}

func isManifestName(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func isChart(dir string) bool {
	info, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && !info.IsDir()
}

// chartOf is the Helm chart folder a file belongs to, if any.
func chartOf(file string) string {
	dir := filepath.Dir(filepath.Clean(file))
	for {
		if isChart(dir) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func isKustomizationFile(p string) bool {
	return slices.Contains(kustomizationFileNames(), filepath.Base(p))
}

func hasKustomization(dir string) bool {
	for _, n := range kustomizationFileNames() {
		if info, err := os.Stat(filepath.Join(dir, n)); err == nil && !info.IsDir() {
			return true
		}
	}
	return false
}
