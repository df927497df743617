package manifests

import (
	"bytes"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// carryOver applies the line changes from r0 to r1 (two serialisations of
// a document, before and after an edit) onto orig, the document as
// written. Each changed run of lines must be anchored in orig: the lines it
// replaces, or for an insertion a neighbour, must be lines that orig and
// r0 have in common, matched in order (lines that differ only in the
// spacing inside them, such as before a comment, count as the same; a
// replaced line takes the serialiser's spacing). It reports false when a
// change has no such anchor.
func carryOver(orig, r0, r1 []byte) ([]byte, bool) {
	o, a, b := splitLines(orig), splitLines(r0), splitLines(r1)
	// at[i] is the line of orig that line i of r0 is, or -1.
	at := make([]int, len(a))
	for i := range at {
		at[i] = -1
	}
	for _, m := range difflib.NewMatcherWithJunk(spacingKeys(a), spacingKeys(o), false, nil).GetMatchingBlocks() {
		for k := 0; k < m.Size; k++ {
			at[m.A+k] = m.B + k
		}
	}
	type edit struct {
		from, to int // orig lines [from, to) are replaced
		lines    []string
	}
	var edits []edit
	for _, c := range difflib.NewMatcherWithJunk(a, b, false, nil).GetOpCodes() {
		if c.Tag == 'e' {
			continue
		}
		repl := b[c.J1:c.J2]
		if c.I1 < c.I2 {
			from := at[c.I1]
			for i := c.I1; i < c.I2; i++ {
				if at[i] < 0 || at[i] != from+(i-c.I1) {
					return nil, false
				}
			}
			edits = append(edits, edit{from, from + c.I2 - c.I1, repl})
			continue
		}
		switch {
		case c.I1 > 0 && at[c.I1-1] >= 0:
			pos := at[c.I1-1] + 1
			edits = append(edits, edit{pos, pos, repl})
		case c.I1 < len(a) && at[c.I1] >= 0:
			pos := at[c.I1]
			edits = append(edits, edit{pos, pos, repl})
		default:
			return nil, false
		}
	}
	var out bytes.Buffer
	next := 0
	for _, e := range edits {
		if e.from < next {
			return nil, false
		}
		for _, l := range o[next:e.from] {
			out.WriteString(l)
		}
		for _, l := range e.lines {
			out.WriteString(l)
		}
		next = e.to
	}
	for _, l := range o[next:] {
		out.WriteString(l)
	}
	return out.Bytes(), true
}

// spacingKeys are the lines with their indentation kept and every other
// run of blanks made one space.
func spacingKeys(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		body := strings.TrimLeft(l, " \t")
		out[i] = l[:len(l)-len(body)] + strings.Join(strings.Fields(body), " ")
	}
	return out
}

// splitLines splits text into lines that keep their "\n".
func splitLines(text []byte) []string {
	var out []string
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			out = append(out, string(text))
			break
		}
		out = append(out, string(text[:i+1]))
		text = text[i+1:]
	}
	return out
}
