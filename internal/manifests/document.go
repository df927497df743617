package manifests

import (
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Document is one YAML or JSON document of a file, as written.
type Document struct {
	// Source is the file it was read from ("-" for standard input).
	Source string
	// Line and EndLine are the lines it spans in Source: [Line, EndLine).
	Line, EndLine int
	// Text is its text, lines ending in "\n".
	Text []byte

	once    sync.Once
	tree    *yaml.RNode
	treeErr error
}

// Tree parses the document with kyaml, once, keeping positions, comments
// and styles.
func (d *Document) Tree() (*yaml.RNode, error) {
	d.once.Do(func() {
		d.tree, d.treeErr = yaml.Parse(string(d.Text))
	})
	return d.tree, d.treeErr
}

// FieldLine is the line in its source file of the field at path (a
// field path as findings carry it: spec.triggers[0].metadata.query,
// metadata.annotations[autoscaling.keda.sh/paused]). A field that is not
// written gives the line of its closest written parent; an empty path, or
// an object whose document cannot be located, gives the object's first
// line.
func (o Object) FieldLine(path string) int {
	if o.Doc == nil {
		return o.Line
	}
	root, err := o.Doc.Tree()
	if err != nil || root == nil {
		return o.Line
	}
	node := root.YNode()
	if o.InList {
		items, _ := child(node, "items")
		if items == nil || items.Kind != yaml.SequenceNode || o.Item >= len(items.Content) {
			return o.Line
		}
		node = items.Content[o.Item]
	}
	line := node.Line
	for _, step := range splitFieldPath(path) {
		next, at := child(node, step)
		if next == nil {
			break
		}
		node, line = next, at
	}
	if line < 1 {
		return o.Line
	}
	return o.Doc.Line + line - 1
}

// child is the value of key step in a mapping, or the element at index
// step in a sequence, with the line to show for it: a mapping entry is
// shown on its key (a block value starts on the line after it).
func child(n *yaml.Node, step string) (*yaml.Node, int) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == step {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		i, err := strconv.Atoi(step)
		if err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i].Line
		}
	}
	return nil, 0
}

// splitFieldPath splits a field.Path string into its steps:
// "a.b[0].c[x.y]" is a, b, 0, c, x.y.
func splitFieldPath(p string) []string {
	var out []string
	for p != "" {
		switch p[0] {
		case '.':
			p = p[1:]
		case '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return append(out, p[1:])
			}
			out = append(out, p[1:end])
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				return append(out, p)
			}
			out = append(out, p[:end])
			p = p[end:]
		}
	}
	return out
}
