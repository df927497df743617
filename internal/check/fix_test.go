package check_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/manifests"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// copyInto copies testdata files into a new temporary folder.
func copyInto(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func judge(t *testing.T, paths []string, stdin string) check.Report {
	t.Helper()
	in := manifests.Load(paths, manifests.Options{Stdin: strings.NewReader(stdin)})
	rep := check.Judge(in, check.Options{Now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	if len(rep.Errors) > 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	return rep
}

// lineChanges lists what changed between two texts, line by line: "-old"
// and "+new".
func lineChanges(old, new []byte) []string {
	a, b := difflib.SplitLines(string(old)), difflib.SplitLines(string(new))
	var out []string
	for _, c := range difflib.NewMatcher(a, b).GetOpCodes() {
		if c.Tag == 'e' {
			continue
		}
		for _, l := range a[c.I1:c.I2] {
			out = append(out, "-"+strings.TrimSuffix(l, "\n"))
		}
		for _, l := range b[c.J1:c.J2] {
			out = append(out, "+"+strings.TrimSuffix(l, "\n"))
		}
	}
	return out
}

// The golden fix: a commented multi-document file comes out with only the
// patched lines changed, and a second run changes nothing.
func TestFixKeepsEverythingButThePatchedLines(t *testing.T) {
	for name, crlf := range map[string]bool{"LF": false, "CRLF": true} {
		t.Run(name, func(t *testing.T) {
			dir := copyInto(t, "testdata/fix/in.yaml")
			file := filepath.Join(dir, "in.yaml")
			want, err := os.ReadFile("testdata/fix/in.yaml.want")
			if err != nil {
				t.Fatal(err)
			}
			if crlf {
				raw, _ := os.ReadFile(file)
				if err := os.WriteFile(file, bytes.ReplaceAll(raw, []byte("\n"), []byte("\r\n")), 0o640); err != nil {
					t.Fatal(err)
				}
				want = bytes.ReplaceAll(want, []byte("\n"), []byte("\r\n"))
			}
			rep := judge(t, []string{file}, "")
			fixes, unfixable, errs := check.Fixes(rep)
			if len(errs) > 0 || len(unfixable) > 0 || len(fixes) != 1 {
				t.Fatalf("fixes %d, unfixable %v, errors %v", len(fixes), unfixable, errs)
			}
			fix := fixes[0]
			if len(fix.Reformatted) != 0 {
				t.Errorf("documents at lines %v were re-serialised", fix.Reformatted)
			}
			if !bytes.Equal(fix.New, want) {
				t.Fatalf("fixed file differs from testdata/fix/in.yaml.want:\n%s", fix.New)
			}
			wantChanges := []string{
				"+  annotations:",
				`+    autoscaling.keda.sh/paused: "true"`,
				"-metadata: {name: qwen, namespace: serving}",
				`+metadata: {name: qwen, namespace: serving, annotations: {autoscaling.keda.sh/paused: "true"}}`,
				`+    autoscaling.keda.sh/paused: "true"`,
			}
			got := lineChanges(bytes.ReplaceAll(fix.Old, []byte("\r"), nil), bytes.ReplaceAll(fix.New, []byte("\r"), nil))
			if strings.Join(got, "\n") != strings.Join(wantChanges, "\n") {
				t.Errorf("changed lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
			}
			if err := fix.Write(); err != nil {
				t.Fatal(err)
			}
			if info, _ := os.Stat(file); info.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the file's own 0640", info.Mode().Perm())
			}

			again := judge(t, []string{file}, "")
			fixes, _, errs = check.Fixes(again)
			if len(fixes) != 0 || len(errs) != 0 || again.Summary.Mutated != 0 {
				t.Errorf("a second fix changes %d files (errors %v, %d mutated)", len(fixes), errs, again.Summary.Mutated)
			}
		})
	}
}

func TestFixJSONFileStaysJSON(t *testing.T) {
	dir := copyInto(t, "testdata/fixjson/deployment.yaml", "testdata/fixjson/scaledobject.json")
	rep := judge(t, []string{dir}, "")
	fixes, unfixable, errs := check.Fixes(rep)
	if len(errs) > 0 || len(unfixable) > 0 || len(fixes) != 1 {
		t.Fatalf("fixes %d, unfixable %v, errors %v", len(fixes), unfixable, errs)
	}
	want, _ := os.ReadFile("testdata/fixjson/scaledobject.json.want")
	if filepath.Base(fixes[0].Path) != "scaledobject.json" || !bytes.Equal(fixes[0].New, want) || len(fixes[0].Reformatted) != 0 {
		t.Errorf("%s fixed as:\n%s", fixes[0].Path, fixes[0].New)
	}
}

func TestNotFixableInPlace(t *testing.T) {
	in, err := os.ReadFile("testdata/fix/in.yaml")
	if err != nil {
		t.Fatal(err)
	}
	list := `{"apiVersion": "v1", "kind": "List", "items": [
	  {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "namespace": "x"},
	   "spec": {"template": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"nvidia.com/gpu": 1}}}]}}}},
	  {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "a", "namespace": "x"},
	   "spec": {"scaleTargetRef": {"name": "a"}, "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "60"}}]}}]}`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "list.json"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := judge(t, []string{"-", filepath.Join(dir, "list.json")}, string(in))
	fixes, unfixable, errs := check.Fixes(rep)
	if len(fixes) != 0 || len(errs) != 0 {
		t.Fatalf("fixes %v, errors %v", fixes, errs)
	}
	reasons := map[string]int{}
	for _, u := range unfixable {
		reasons[u.Reason]++
	}
	if reasons["read from standard input"] != 3 || reasons["an item of a List"] != 1 {
		t.Errorf("unfixable: %v", reasons)
	}
}

func TestFixRefusesAFileChangedSinceRead(t *testing.T) {
	dir := copyInto(t, "testdata/fix/in.yaml")
	file := filepath.Join(dir, "in.yaml")
	rep := judge(t, []string{file}, "")
	raw, _ := os.ReadFile(file)
	if err := os.WriteFile(file, bytes.Replace(raw, []byte("maxReplicaCount: 4"), []byte("maxReplicaCount: 5"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, errs := check.Fixes(rep)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "changed since it was read") {
		t.Fatalf("errors = %v", errs)
	}
}
