package check

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Safe renders a string from a manifest (a name, a namespace, a value
// quoted in a message, a file name) for a terminal, a CI log or a
// code-scanning view: control characters, invalid UTF-8, and Unicode
// format characters (the bidirectional overrides and isolates that can
// make text read differently from what it is, zero-width characters) and
// line separators are written as escapes (\n, \x1b, \u202e). A hostile
// name then cannot move the cursor, recolour the terminal, start a new
// line that forges a finding or a workflow command, or hide text.
func Safe(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if unsafeRune(r) {
			return true
		}
	}
	return false
}

// unsafeRune: C0 and C1 controls and DEL, format characters (Cf: the
// bidirectional marks, embeddings, overrides and isolates, zero-width
// spaces and joiners, the byte-order mark), and the line and paragraph
// separators.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
