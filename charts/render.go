package charts

import (
	"fmt"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scaleguard/scaleguard/internal/manifests"
)

// Render renders the chart in dir as `helm install` would for a release
// named scaleguard in namespace, with values over the chart's defaults, and
// returns its objects in the order of their template files. The CRDs of
// the chart's crds/ folder are not templates: helm installs them first,
// and Render leaves them out.
func Render(dir, namespace string, values map[string]any) ([]*unstructured.Unstructured, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, err
	}
	vals, err := chartutil.ToRenderValues(ch, values, chartutil.ReleaseOptions{Name: "scaleguard", Namespace: namespace, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(ch, vals)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, ".yaml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []*unstructured.Unstructured
	for _, n := range names {
		// The same reader check uses: documents split on "---", each a
		// Kubernetes object or a List.
		objs, err := manifests.Parse(n, strings.NewReader(files[n]))
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(o.JSON); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", n, o.Line, err)
			}
			out = append(out, u)
		}
	}
	return out, nil
}
