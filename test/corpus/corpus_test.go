// Package corpus runs manifests in the shape the ecosystem's projects
// publish them through the same engine as `scaleguard check`, and compares
// the findings with those each file expects.
package corpus_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// minFiles and the clean share are what the corpus must keep.
const minFiles = 30

// now is when the corpus is judged, so that times written in it (an
// un-pause expiry) read the same on every run.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// header is what a corpus file declares in its leading comments.
type header struct {
	follows string
	expect  []string
	none    bool
}

// parseHeader reads the "# follows:" and "# expect:" lines of a file's
// comments.
func parseHeader(raw []byte) (header, error) {
	var h header
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "#") {
			continue
		}
		body := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		switch key, value, _ := strings.Cut(body, ":"); strings.ToLower(key) {
		case "follows":
			h.follows += strings.TrimSpace(value)
		case "expect":
			v := strings.Join(strings.Fields(value), " ")
			if v == "none" {
				h.none = true
				continue
			}
			if len(strings.Fields(v)) != 4 {
				return h, fmt.Errorf("expect line %q: want <action> <rule> <Kind>/<name> <field>", v)
			}
			h.expect = append(h.expect, v)
		}
	}
	switch {
	case h.follows == "":
		return h, fmt.Errorf(`no "# follows:" line citing the project, file and version the manifests reproduce`)
	case h.none && len(h.expect) > 0:
		return h, fmt.Errorf(`"# expect: none" beside expected findings`)
	case !h.none && len(h.expect) == 0:
		return h, fmt.Errorf(`no "# expect:" line (write "# expect: none" for a file without findings)`)
	}
	return h, nil
}

// TestCorpus judges every file of the folder as `scaleguard check -f FILE`
// would, and compares the findings by action, rule ID, object and field.
func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < minFiles {
		t.Errorf("the corpus has %d files, want at least %d", len(files), minFiles)
	}
	engine := policies.NewEngine(policies.Default)
	clean := 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		h, err := parseHeader(raw)
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		denies := false
		for _, e := range h.expect {
			denies = denies || strings.HasPrefix(e, "deny ")
		}
		if !denies {
			clean++
		}
		t.Run(strings.TrimSuffix(file, ".yaml"), func(t *testing.T) {
			objs, err := manifests.Parse(file, bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := check.RunAt(objs, engine, policies.DefaultSettings(), now)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range rep.Findings {
				got = append(got, fmt.Sprintf("%s %s %s/%s %s", f.Action, f.Rule, f.Kind, f.Name, f.Field))
			}
			compare(t, got, h.expect, rep.Findings)
		})
	}
	if clean*2 < len(files) {
		t.Errorf("%d of %d corpus files pass without a denial; at least half must", clean, len(files))
	}
}

// compare asserts that got and want hold the same lines, counted.
func compare(t *testing.T, got, want []string, findings []check.Finding) {
	t.Helper()
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	for _, w := range want {
		count[w]--
	}
	var missing, extra []string
	for k, n := range count {
		for ; n > 0; n-- {
			extra = append(extra, k)
		}
		for ; n < 0; n++ {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var b strings.Builder
	for _, m := range missing {
		b.WriteString("  missing:    " + m + "\n")
	}
	for _, e := range extra {
		b.WriteString("  unexpected: " + e + "\n")
	}
	b.WriteString("all findings:\n")
	for _, f := range findings {
		fmt.Fprintf(&b, "  # expect: %s %s %s/%s %s\n      %s\n", f.Action, f.Rule, f.Kind, f.Name, f.Field, f.Message)
	}
	t.Errorf("findings differ from the expected:\n%s", b.String())
}
