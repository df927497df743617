// Package manifests reads Kubernetes manifests from files, folders and
// standard input: multi-document YAML, JSON objects and Lists. Every object
// remembers where it came from, so errors and findings point at a file and
// a line.
package manifests

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// MaxDocumentBytes bounds one YAML or JSON document; the API server refuses
// objects past about 3 MiB anyway.
const MaxDocumentBytes = 8 << 20

// Object is one manifest.
type Object struct {
	// Source is the file it was read from ("-" for standard input).
	Source string
	// Line is the first line of its document in Source.
	Line int
	// GVK is its apiVersion and kind.
	GVK schema.GroupVersionKind
	// Namespace and Name are its metadata, as written.
	Namespace, Name string
	// JSON is the object as JSON.
	JSON []byte

	// Doc is the document the object was read from (for an object rendered
	// by kustomize, the document of the file it came from, when known).
	Doc *Document
	// InList is set for an item of a List document; Item is its index.
	InList bool
	Item   int
	// Via is the kustomization directory that rendered the object, empty
	// for an object read as written.
	Via string
}

// Where renders Source:Line.
func (o Object) Where() string { return fmt.Sprintf("%s:%d", o.Source, o.Line) }

// APIVersion is the object's apiVersion as written.
func (o Object) APIVersion() string { return o.GVK.GroupVersion().String() }

// NotFixable says why a change to the object cannot be written back into
// its source file, or "" when it can.
func (o Object) NotFixable() string {
	switch {
	case o.Via != "":
		return fmt.Sprintf("rendered by the kustomization in %s: change its source or add a patch", o.Via)
	case o.Source == "-":
		return "read from standard input"
	case o.InList:
		return "an item of a List"
	case o.Doc == nil:
		return "not read from a file"
	}
	return ""
}

// Error is a read error with its place.
type Error struct {
	Source string
	Line   int
	Err    error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Source, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Read reads every path: a file, a folder (walked recursively for .yaml,
// .yml and .json files, in lexical order) or "-" for stdin.
func Read(paths []string, stdin io.Reader) ([]Object, error) {
	var out []Object
	for _, p := range paths {
		objs, err := readPath(p, stdin)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func readPath(p string, stdin io.Reader) ([]Object, error) {
	if p == "-" {
		if stdin == nil {
			return nil, &Error{Source: "-", Err: errors.New("no standard input")}
		}
		return Parse("-", stdin)
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, &Error{Source: p, Err: unwrapPathError(err)}
	}
	if !info.IsDir() {
		return readFile(p)
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, &Error{Source: p, Err: unwrapPathError(err)}
	}
	sort.Strings(files)
	var out []Object
	for _, f := range files {
		objs, err := readFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

func readFile(p string) ([]Object, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, &Error{Source: p, Err: unwrapPathError(err)}
	}
	defer f.Close()
	return Parse(p, f)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse reads the documents of one stream. Every document must be a
// Kubernetes object (or a List of them).
func Parse(source string, r io.Reader) ([]Object, error) {
	docs, err := splitDocuments(source, r)
	if err != nil {
		return nil, err
	}
	var out []Object
	for _, d := range docs {
		objs, err := decodeDocument(d)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
	return out, nil
}

// splitDocuments splits a YAML stream on "---" separator lines, keeping the
// lines each document spans.
func splitDocuments(source string, r io.Reader) ([]*Document, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), MaxDocumentBytes)
	var docs []*Document
	cur := &Document{Source: source, Line: 1}
	lineNo := 0
	flush := func(end int) {
		cur.EndLine = end
		if len(bytes.TrimSpace(cur.Text)) > 0 {
			docs = append(docs, cur)
		}
	}
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if isSeparator(line) {
			flush(lineNo)
			cur = &Document{Source: source, Line: lineNo + 1}
			continue
		}
		if len(cur.Text)+len(line) > MaxDocumentBytes {
			return nil, &Error{Source: source, Line: cur.Line, Err: fmt.Errorf("document is larger than %d bytes", MaxDocumentBytes)}
		}
		cur.Text = append(cur.Text, line...)
		cur.Text = append(cur.Text, '\n')
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &Error{Source: source, Line: lineNo + 1, Err: fmt.Errorf("line is longer than %d bytes", MaxDocumentBytes)}
		}
		return nil, &Error{Source: source, Line: lineNo, Err: err}
	}
	flush(lineNo + 1)
	return docs, nil
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := bytes.TrimSpace(line[3:])
	return len(rest) == 0 || rest[0] == '#'
}

func decodeDocument(d *Document) ([]Object, error) {
	j, err := d.toJSON()
	if err != nil || j == nil {
		return nil, err
	}
	return decodeObject(d, d.Line, j, -1)
}

// toJSON converts the document to JSON; nil for a document of comments
// only or null.
func (d *Document) toJSON() ([]byte, error) {
	if isOnlyComments(d.Text) {
		return nil, nil
	}
	j, err := yaml.YAMLToJSON(d.Text)
	if err != nil {
		return nil, &Error{Source: d.Source, Line: d.Line + yamlErrorLine(err), Err: cleanYAMLError(err)}
	}
	if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
		return nil, nil
	}
	return j, nil
}

func decodeObject(d *Document, line int, j []byte, item int) ([]Object, error) {
	source := d.Source
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(j, &head); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			err = fmt.Errorf("%s is a %s, not %s", te.Field, te.Value, jsonKind(te.Type))
		}
		return nil, &Error{Source: source, Line: line, Err: fmt.Errorf("not a Kubernetes object: %v", err)}
	}
	if head.Kind == "" || head.APIVersion == "" {
		return nil, &Error{Source: source, Line: line, Err: errors.New("not a Kubernetes object: apiVersion and kind are required")}
	}
	gv, err := schema.ParseGroupVersion(head.APIVersion)
	if err != nil {
		return nil, &Error{Source: source, Line: line, Err: fmt.Errorf("apiVersion %q: %v", head.APIVersion, err)}
	}
	if strings.HasSuffix(head.Kind, "List") && head.Items != nil {
		var out []Object
		for i, raw := range head.Items {
			objs, err := decodeObject(d, line, raw, i)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					e.Err = fmt.Errorf("items[%d]: %w", i, e.Err)
				}
				return nil, err
			}
			out = append(out, objs...)
		}
		return out, nil
	}
	return []Object{{
		Source:    source,
		Line:      line,
		GVK:       gv.WithKind(head.Kind),
		Namespace: head.Metadata.Namespace,
		Name:      head.Metadata.Name,
		JSON:      j,
		Doc:       d,
		InList:    item >= 0,
		Item:      max(item, 0),
	}}, nil
}

// jsonKind names what a Go type decodes from: "a mapping", "a list", "a
// string".
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "a " + t.Kind().String()
}

func isOnlyComments(b []byte) bool {
	for _, l := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// yamlErrorLine extracts the document-relative line of a YAML error
// ("yaml: line 3: ..."), as an offset from the document's first line.
func yamlErrorLine(err error) int {
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	rest := msg[i+len("line "):]
	j := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if j <= 0 {
		return 0
	}
	n, convErr := strconv.Atoi(rest[:j])
	if convErr != nil || n < 1 {
		return 0
	}
	return n - 1
}

// cleanYAMLError drops the converter's prefix and the document-relative
// line, which the caller replaces with the line in the file.
func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	if rest, ok := strings.CutPrefix(msg, "yaml: line "); ok {
		if i := strings.Index(rest, ": "); i > 0 {
			msg = "yaml: " + rest[i+2:]
		}
	}
	return errors.New(msg)
}
