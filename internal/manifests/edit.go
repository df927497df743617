package manifests

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	jsonpatch "gomodules.xyz/jsonpatch/v2"
	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// Edit applies JSON patch operations (add, replace, remove, as the
// mutating webhook sends them) to the text of one YAML or JSON document,
// changing only the lines the operations touch: comments, key order,
// quoting, blank lines and indentation elsewhere stay as written.
//
// The document is edited as a tree with kyaml (YAML) or json-patch (JSON,
// which keeps key order), both serialised in the document's own
// indentation; the lines that serialisation changes are then carried onto
// the original text, anchored on the lines that are the same in both.
// When a changed line has no such anchor (the document is formatted in a
// way the serialiser does not reproduce at that spot), the document is
// returned as serialised, with reformatted set: comments, order and
// quoting are kept, whitespace is not.
func Edit(text []byte, isJSON bool, ops []jsonpatch.Operation) (out []byte, reformatted bool, err error) {
	if len(ops) == 0 {
		return text, false, nil
	}
	want, err := patchedJSON(text, ops)
	if err != nil {
		return nil, false, err
	}
	// Serialisations to try, the document's own style first: a file may
	// mix indentations, and the one that anchors the change wins.
	styles := []yamlStyle{{}}
	if !isJSON {
		styles = yamlStyles(text)
	}
	var fallback []byte
	for _, st := range styles {
		var r0, r1 []byte
		if isJSON {
			r0, r1, err = reserialiseJSON(text, ops)
		} else {
			r0, r1, err = reserialiseYAML(text, ops, st)
		}
		if err != nil {
			return nil, false, err
		}
		if merged, ok := carryOver(text, r0, r1); ok && sameJSON(merged, want) {
			return merged, false, nil
		}
		if fallback == nil {
			fallback = r1
		}
	}
	if !sameJSON(fallback, want) {
		return nil, false, errors.New("the edited document does not read back as the patched object")
	}
	return fallback, true, nil
}

// yamlStyle is an indentation step and sequence style to serialise with.
type yamlStyle struct {
	indent int
	wide   bool
}

// yamlStyles are the document's own style (as far as its first nested
// mapping and its sequences tell) and the common others.
func yamlStyles(text []byte) []yamlStyle {
	own := yamlStyle{indent: 2}
	var doc yaml.Node
	if yaml.Unmarshal(text, &doc) == nil && doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		own.indent = mappingIndent(doc.Content[0])
	}
	own.wide = yaml.DeriveSeqIndentStyle(string(text)) == string(yaml.WideSequenceStyle)
	out := []yamlStyle{own}
	for _, indent := range []int{2, 4} {
		for _, wide := range []bool{false, true} {
			if st := (yamlStyle{indent, wide}); st != own {
				out = append(out, st)
			}
		}
	}
	return out
}

// patchedJSON is the document as JSON with the patch applied: what the
// edited text must read back as.
func patchedJSON(text []byte, ops []jsonpatch.Operation) ([]byte, error) {
	j, err := sigsyaml.YAMLToJSON(text)
	if err != nil {
		return nil, err
	}
	return applyJSONPatch(j, ops)
}

func applyJSONPatch(doc []byte, ops []jsonpatch.Operation) ([]byte, error) {
	raw, err := json.Marshal(ops)
	if err != nil {
		return nil, err
	}
	p, err := jsonpatchapply.DecodePatch(raw)
	if err != nil {
		return nil, err
	}
	return p.Apply(doc)
}

func sameJSON(text, want []byte) bool {
	j, err := sigsyaml.YAMLToJSON(text)
	if err != nil {
		return false
	}
	var a, b any
	if json.Unmarshal(j, &a) != nil || json.Unmarshal(want, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// reserialiseJSON indents the original and the patched document the way
// the original is indented. The patch is applied to the original text,
// whose key order json-patch keeps.
func reserialiseJSON(text []byte, ops []jsonpatch.Operation) ([]byte, []byte, error) {
	patched, err := applyJSONPatch(text, ops)
	if err != nil {
		return nil, nil, err
	}
	indent := jsonIndent(text)
	r0, err := indentJSON(text, indent)
	if err != nil {
		return nil, nil, err
	}
	r1, err := indentJSON(patched, indent)
	return r0, r1, err
}

func indentJSON(doc []byte, indent string) ([]byte, error) {
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		return nil, err
	}
	if err := json.Indent(&out, compact.Bytes(), "", indent); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// jsonIndent is the leading whitespace of the first indented line, two
// spaces when there is none.
func jsonIndent(text []byte) string {
	for _, line := range bytes.Split(text, []byte("\n"))[1:] {
		trimmed := bytes.TrimLeft(line, " \t")
		if len(trimmed) > 0 && len(trimmed) < len(line) {
			return string(line[:len(line)-len(trimmed)])
		}
	}
	return "  "
}

// reserialiseYAML serialises the document with kyaml before and after the
// operations, in the document's indentation and sequence style.
func reserialiseYAML(text []byte, ops []jsonpatch.Operation, st yamlStyle) ([]byte, []byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(text, &doc); err != nil {
		return nil, nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, nil, errors.New("not a single YAML document")
	}
	r0, err := encodeYAML(&doc, st.indent, st.wide)
	if err != nil {
		return nil, nil, err
	}
	for _, op := range ops {
		if err := applyOp(doc.Content[0], op); err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", op.Operation, op.Path, err)
		}
	}
	r1, err := encodeYAML(&doc, st.indent, st.wide)
	return r0, r1, err
}

func encodeYAML(doc *yaml.Node, indent int, wide bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(indent)
	if wide {
		enc.DefaultSeqIndent()
	}
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mappingIndent is the indentation step of the first block mapping nested
// in a block mapping, 2 when there is none.
func mappingIndent(n *yaml.Node) int {
	if n.Kind != yaml.MappingNode || n.Style&yaml.FlowStyle != 0 {
		return 2
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind == yaml.MappingNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 {
			if step := v.Content[0].Column - k.Column; step > 0 && step <= 8 {
				return step
			}
		}
	}
	return 2
}

// applyOp applies one JSON patch operation to a YAML tree, in place,
// keeping the comments and style of what it does not replace.
func applyOp(root *yaml.Node, op jsonpatch.Operation) error {
	tokens, err := pointer(op.Path)
	if err != nil {
		return err
	}
	if len(tokens) == 0 {
		return errors.New("replacing the whole document is not supported")
	}
	parent := root
	for _, t := range tokens[:len(tokens)-1] {
		if parent, err = step(parent, t); err != nil {
			return err
		}
	}
	last := tokens[len(tokens)-1]
	switch op.Operation {
	case "add", "replace":
		value, err := toNode(op.Value)
		if err != nil {
			return err
		}
		return put(parent, last, value, op.Operation == "add")
	case "remove":
		return remove(parent, last)
	}
	return fmt.Errorf("operation %q is not supported", op.Operation)
}

// pointer splits a JSON pointer (RFC 6901) into its unescaped tokens.
func pointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("bad JSON pointer %q", p)
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

func step(n *yaml.Node, token string) (*yaml.Node, error) {
	switch n.Kind {
	case yaml.MappingNode:
		if i := keyIndex(n, token); i >= 0 {
			v := n.Content[i+1]
			if v.Kind == yaml.AliasNode || v.Anchor != "" {
				return nil, fmt.Errorf("%q is a YAML alias or anchor, shared with other fields", token)
			}
			return v, nil
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(token); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], nil
		}
	}
	return nil, fmt.Errorf("no field %q", token)
}

func keyIndex(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return i
		}
	}
	return -1
}

func put(parent *yaml.Node, token string, value *yaml.Node, add bool) error {
	switch parent.Kind {
	case yaml.MappingNode:
		if i := keyIndex(parent, token); i >= 0 {
			replaceValue(parent.Content[i+1], value)
			return nil
		}
		if !add {
			return fmt.Errorf("no field %q to replace", token)
		}
		if len(parent.Content) == 0 {
			parent.Style &^= yaml.FlowStyle // an empty {} becomes a block
		}
		key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: token}
		parent.Content = append(parent.Content, key, value)
		return nil
	case yaml.SequenceNode:
		if token == "-" && add {
			parent.Content = append(parent.Content, value)
			return nil
		}
		i, err := strconv.Atoi(token)
		if err != nil || i < 0 || i > len(parent.Content) || (!add && i == len(parent.Content)) {
			return fmt.Errorf("no element %q", token)
		}
		if !add {
			replaceValue(parent.Content[i], value)
			return nil
		}
		parent.Content = append(parent.Content[:i], append([]*yaml.Node{value}, parent.Content[i:]...)...)
		return nil
	}
	return fmt.Errorf("%q: the parent is not a mapping or a sequence", token)
}

// replaceValue puts value in old's place, keeping old's comments, and its
// quoting when both are strings.
func replaceValue(old, value *yaml.Node) {
	style := old.Style
	head, line, foot := old.HeadComment, old.LineComment, old.FootComment
	wasString := old.Kind == yaml.ScalarNode && old.ShortTag() == "!!str"
	*old = *value
	old.HeadComment, old.LineComment, old.FootComment = head, line, foot
	if wasString && value.Kind == yaml.ScalarNode && value.Tag == "!!str" &&
		style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		old.Style = style
	}
}

func remove(parent *yaml.Node, token string) error {
	switch parent.Kind {
	case yaml.MappingNode:
		if i := keyIndex(parent, token); i >= 0 {
			parent.Content = append(parent.Content[:i], parent.Content[i+2:]...)
			return nil
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(token); err == nil && i >= 0 && i < len(parent.Content) {
			parent.Content = append(parent.Content[:i], parent.Content[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no field %q to remove", token)
}

// toNode builds a block-style YAML node from a JSON value. Strings that a
// YAML 1.1 reader (kubectl's) would take for another type are quoted.
func toNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}, nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(int64(v), 10)}, nil
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(v, 'g', -1, 64)}, nil
	case json.Number:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: v.String()}, nil
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}
		if yaml.IsYaml1_1NonString(n) {
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range v {
			c, err := toNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range keys {
			c, err := toNode(v[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, c)
		}
		return n, nil
	}
	// Values built in Go rather than decoded from JSON go through JSON,
	// which yields only the types above.
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, err
	}
	return toNode(generic)
}
