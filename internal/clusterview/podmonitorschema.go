package clusterview

import (
	"context"
	"fmt"
	"sync/atomic"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// Only the PodMonitor CRD is watched, by a field selector on its name.
//
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,resourceNames=podmonitors.monitoring.coreos.com,verbs=list;watch

// PodMonitorCRD is the name of prometheus-operator's PodMonitor CRD.
const PodMonitorCRD = "podmonitors.monitoring.coreos.com"

// podMonitorSchema follows the PodMonitor CRD through a watch of that one
// object, so that PodMonitorPortNumber never reads the API server on the
// request path and changes when prometheus-operator is upgraded.
type podMonitorSchema struct {
	cache      cache.Cache
	portNumber atomic.Bool
}

// WatchPodMonitorSchema makes the view follow the installed PodMonitor CRD:
// whether its v1 schema has podMetricsEndpoints[].portNumber. The watch
// is an informer of its own, limited by a field selector to that CRD (the
// cluster's other CRDs, some of them megabytes of schema, are never read)
// and trimmed to the one property; add registers it with the manager
// (manager.Add), and WaitForSync waits for it. Call it before the manager
// starts.
func (v *Cache) WatchPodMonitorSchema(ctx context.Context, cfg *rest.Config, add func(manager.Runnable) error) error {
	scheme := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(scheme); err != nil {
		return err
	}
	c, err := cache.New(cfg, cache.Options{
		Scheme: scheme,
		ByObject: map[client.Object]cache.ByObject{
			&apiextensionsv1.CustomResourceDefinition{}: {Field: fields.OneTermEqualSelector("metadata.name", PodMonitorCRD)},
		},
		DefaultTransform: trimPodMonitorCRD,
	})
	if err != nil {
		return fmt.Errorf("watching the PodMonitor CRD: %w", err)
	}
	inf, err := c.GetInformer(ctx, &apiextensionsv1.CustomResourceDefinition{}, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("watching the PodMonitor CRD: %w", err)
	}
	s := &podMonitorSchema{cache: c}
	observe := func(o any) {
		if crd, ok := o.(*apiextensionsv1.CustomResourceDefinition); ok && crd.Name == PodMonitorCRD {
			s.portNumber.Store(HasPortNumber(crd))
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    observe,
		UpdateFunc: func(_, o any) { observe(o) },
		DeleteFunc: func(any) { s.portNumber.Store(false) },
	}); err != nil {
		return fmt.Errorf("watching the PodMonitor CRD: %w", err)
	}
	if err := add(c); err != nil {
		return err
	}
	v.podMonitorSchema = s
	return nil
}

// HasPortNumber reports whether a PodMonitor CRD's served v1 schema has
// spec.podMetricsEndpoints[].portNumber.
func HasPortNumber(crd *apiextensionsv1.CustomResourceDefinition) bool {
	for _, ver := range crd.Spec.Versions {
		if ver.Name != "v1" || !ver.Served || ver.Schema == nil || ver.Schema.OpenAPIV3Schema == nil {
			continue
		}
		spec, ok := ver.Schema.OpenAPIV3Schema.Properties["spec"]
		if !ok {
			return false
		}
		eps, ok := spec.Properties["podMetricsEndpoints"]
		if !ok || eps.Items == nil || eps.Items.Schema == nil {
			return false
		}
		_, ok = eps.Items.Schema.Properties["portNumber"]
		return ok
	}
	return false
}

// trimPodMonitorCRD keeps of the CRD only its name, its versions' names and
// served flags and, of each schema, the one property HasPortNumber reads.
func trimPodMonitorCRD(in any) (any, error) {
	crd, ok := in.(*apiextensionsv1.CustomResourceDefinition)
	if !ok {
		return in, nil
	}
	out := &apiextensionsv1.CustomResourceDefinition{}
	out.Name, out.ResourceVersion = crd.Name, crd.ResourceVersion
	for _, ver := range crd.Spec.Versions {
		kept := apiextensionsv1.CustomResourceDefinitionVersion{Name: ver.Name, Served: ver.Served}
		if ver.Name == "v1" && HasPortNumber(&apiextensionsv1.CustomResourceDefinition{Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{ver},
		}}) {
			kept.Schema = &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
				Properties: map[string]apiextensionsv1.JSONSchemaProps{"spec": {
					Properties: map[string]apiextensionsv1.JSONSchemaProps{"podMetricsEndpoints": {
						Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{
							Properties: map[string]apiextensionsv1.JSONSchemaProps{"portNumber": {Type: "integer"}},
						}},
					}},
				}},
			}}
		}
		out.Spec.Versions = append(out.Spec.Versions, kept)
	}
	return out, nil
}
