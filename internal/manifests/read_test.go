package manifests_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

func TestReadFolderFilesAndLines(t *testing.T) {
	objs, err := manifests.Read([]string{"testdata/tree"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Where()+" "+o.GVK.Kind+" "+o.Name)
	}
	want := []string{
		"testdata/tree/a.yaml:3 Namespace serving",
		"testdata/tree/a.yaml:10 Deployment llm",
		"testdata/tree/nested/b.json:1 Service svc",
		"testdata/tree/nested/b.json:1 ConfigMap cm",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReadStdin(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: x}\n"
	objs, err := manifests.Read([]string{"-"}, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[1].Where() != "-:5" || objs[1].Namespace != "x" {
		t.Fatalf("objs = %+v", objs)
	}
}

func TestReadErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]struct {
		in   string
		want string
	}{
		"bad yaml":        {"apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: X\nmetadata:\n  labels: [x\n", "in.yaml:7: yaml: did not find expected"},
		"no kind":         {"apiVersion: v1\nmetadata: {name: a}\n", "in.yaml:1: not a Kubernetes object: apiVersion and kind are required"},
		"scalar document": {"---\njust a string\n", "in.yaml:2: not a Kubernetes object"},
		"bad apiVersion":  {"apiVersion: a/b/c\nkind: X\n", `in.yaml:1: apiVersion "a/b/c"`},
		"bad list item":   {"apiVersion: v1\nkind: List\nitems:\n- {kind: X}\n", "in.yaml:1: items[0]: not a Kubernetes object"},
		"metadata string": {"apiVersion: v1\nkind: X\nmetadata: ${M}\n", "in.yaml:1: not a Kubernetes object: metadata is a string, not a mapping"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := manifests.Parse("in.yaml", strings.NewReader(tc.in))
			var me *manifests.Error
			if !errors.As(err, &me) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
	if _, err := manifests.Read([]string{"testdata/missing.yaml"}, nil); err == nil || !strings.Contains(err.Error(), "testdata/missing.yaml: no such file or directory") {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestHugeDocumentIsAnErrorNotACrash(t *testing.T) {
	huge := "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: " + strings.Repeat("a", manifests.MaxDocumentBytes+1) + "\n"
	_, err := manifests.Parse("big.yaml", strings.NewReader(huge))
	if err == nil || !strings.Contains(err.Error(), "big.yaml:4: line is longer than") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
	f.Add("---\n---\n{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{}]}")
	f.Add("a: [\n")
	f.Fuzz(func(t *testing.T, in string) {
		objs, err := manifests.Parse("fuzz", strings.NewReader(in))
		if err != nil {
			var me *manifests.Error
			if !errors.As(err, &me) || me.Source != "fuzz" {
				t.Fatalf("error without a place: %v", err)
			}
			return
		}
		for _, o := range objs {
			if o.GVK.Kind == "" || o.Line < 1 {
				t.Fatalf("object without kind or line: %+v", o)
			}
		}
	})
}
