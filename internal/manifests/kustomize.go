package manifests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// originAnnotation is where kustomize records the file a resource came
// from when the kustomization asks for buildMetadata: [originAnnotations].
const originAnnotation = "config.kubernetes.io/origin"

func kustomizationFileNames() []string { return konfig.RecognizedKustomizationFileNames() }

// kustomizations renders every kustomization folder found that no other
// one found includes (an overlay's base is judged through the overlay, in
// the overlay's namespace), each as its own set.
func (l *loader) kustomizations() []Set {
	var dirs []string
	for d := range l.roots {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	parsed := map[string]*types.Kustomization{}
	included := map[string]bool{}
	for _, dir := range dirs {
		k, file, err := readKustomization(dir)
		if err != nil {
			l.fail(&Error{Source: file, Err: err})
			continue
		}
		parsed[dir] = k
		for _, ref := range slices.Concat(k.Resources, k.Components) {
			if strings.Contains(ref, "://") {
				continue
			}
			included[absPath(filepath.Join(dir, ref))] = true
		}
	}
	var sets []Set
	for _, dir := range dirs {
		k := parsed[dir]
		switch {
		case k == nil || included[absPath(dir)]:
			continue
		case k.Kind == types.ComponentKind:
			l.skip(dir, 0, "a kustomize Component, judged through the kustomizations that include it")
			continue
		case len(k.HelmCharts) > 0 || k.HelmGlobals != nil:
			l.skip(dir, 0, "a kustomization that inflates Helm charts")
			l.hint(fmt.Sprintf("%s inflates Helm charts: judge it with kustomize build --enable-helm %s | scaleguard check -f -", dir, dir))
			continue
		}
		objs, err := renderKustomization(dir)
		if err != nil {
			l.fail(err)
			continue
		}
		sets = append(sets, Set{Kustomization: dir, Objects: objs})
	}
	return sets
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return filepath.Clean(p)
}

func readKustomization(dir string) (*types.Kustomization, string, error) {
	for _, name := range kustomizationFileNames() {
		file := filepath.Join(dir, name)
		raw, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, file, unwrapPathError(err)
		}
		var k types.Kustomization
		if err := k.Unmarshal(raw); err != nil {
			return nil, file, fmt.Errorf("reading the kustomization: %w", err)
		}
		k.FixKustomization()
		return &k, file, nil
	}
	return nil, dir, errors.New("no kustomization file")
}

// renderKustomization runs kustomize's own build on dir, with its
// defaults (no plugins, files only from within each kustomization's
// folder), and maps every object back to the file and document it came
// from when kustomize can tell.
func renderKustomization(dir string) ([]Object, error) {
	top, err := filepath.Abs(dir)
	if err == nil {
		top, err = filepath.EvalSymlinks(top)
	}
	if err != nil {
		return nil, &Error{Source: dir, Err: unwrapPathError(err)}
	}
	fsys := &originTracking{FileSystem: filesys.MakeFsOnDisk(), top: top}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, dir)
	if err != nil {
		return nil, &Error{Source: dir, Err: fmt.Errorf("kustomize build: %v", err)}
	}
	files := map[string][]*Document{}
	var out []Object
	for _, r := range m.Resources() {
		origin, _ := r.GetOrigin()
		if fsys.injected {
			if err := r.RNode.PipeE(yaml.ClearAnnotation(originAnnotation)); err != nil {
				return nil, &Error{Source: dir, Err: err}
			}
			if len(r.GetAnnotations()) == 0 {
				_ = r.RNode.PipeE(yaml.Lookup(yaml.MetadataField), yaml.Clear(yaml.AnnotationsField))
			}
		}
		j, err := r.MarshalJSON()
		if err != nil {
			return nil, &Error{Source: dir, Err: fmt.Errorf("kustomize output: %v", err)}
		}
		gvk := r.GetGvk()
		objs, err := decodeObject(&Document{Source: dir}, 0, j, -1)
		if err != nil {
			return nil, &Error{Source: dir, Err: fmt.Errorf("kustomize output %s %s: %v", gvk.Kind, r.GetName(), err)}
		}
		for _, o := range objs {
			o.Via = dir
			o.Source, o.Line, o.Doc = locate(dir, origin, r, files)
			out = append(out, o)
		}
	}
	return out, nil
}

// locate finds the file and document a rendered resource came from: the
// origin's file, and in it the document of the same kind whose name the
// rendered name contains (a namePrefix or nameSuffix only adds to it).
// Without an origin, the kustomization file itself.
func locate(dir string, origin *resource.Origin, r *resource.Resource, cache map[string][]*Document) (string, int, *Document) {
	kfile := dir
	for _, n := range kustomizationFileNames() {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			kfile = filepath.Join(dir, n)
			break
		}
	}
	if origin == nil || origin.Path == "" || origin.Repo != "" {
		return kfile, 1, nil
	}
	file := filepath.Join(dir, filepath.FromSlash(origin.Path))
	docs, ok := cache[file]
	if !ok {
		if f, err := os.Open(file); err == nil {
			docs, _ = splitDocuments(file, f)
			f.Close()
		}
		cache[file] = docs
	}
	var best *Document
	bestLen := -1
	for _, d := range docs {
		j, err := d.toJSON()
		if err != nil || j == nil {
			continue
		}
		objs, err := decodeObject(d, d.Line, j, -1)
		if err != nil || len(objs) != 1 || objs[0].GVK.Kind != r.GetKind() {
			continue
		}
		if name := objs[0].Name; strings.Contains(r.GetName(), name) && len(name) > bestLen {
			best, bestLen = d, len(name)
		}
	}
	if best == nil {
		return file, 1, nil
	}
	return file, best.Line, best
}

// originTracking serves the files of the disk, except that the top
// kustomization asks kustomize to record each resource's origin.
type originTracking struct {
	filesys.FileSystem
	top      string
	injected bool
}

func (f *originTracking) ReadFile(path string) ([]byte, error) {
	raw, err := f.FileSystem.ReadFile(path)
	if err != nil || filepath.Dir(path) != f.top || !slices.Contains(kustomizationFileNames(), filepath.Base(path)) {
		return raw, err
	}
	var k types.Kustomization
	node, perr := yaml.Parse(string(raw))
	if perr != nil || node.YNode().Kind != yaml.MappingNode || k.Unmarshal(raw) != nil {
		return raw, nil // kustomize reports what is wrong with it
	}
	if slices.Contains(k.BuildMetadata, types.OriginAnnotations) {
		return raw, nil
	}
	meta := append(k.BuildMetadata, types.OriginAnnotations)
	if perr := node.PipeE(yaml.SetField("buildMetadata", yaml.NewListRNode(meta...))); perr != nil {
		return raw, nil
	}
	s, perr := node.String()
	if perr != nil {
		return raw, nil
	}
	f.injected = true
	return []byte(s), nil
}
