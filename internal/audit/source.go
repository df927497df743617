package audit

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
)

// CacheSource lists guarded objects from serve's informer cache, without
// copying them.
type CacheSource struct {
	Reader client.Reader
	// Served reports whether the cache watches a kind (it follows kinds
	// whose CRD is installed while serve runs).
	Served func(schema.GroupVersionKind) bool
}

// List implements Source.
func (s CacheSource) List(ctx context.Context, kind apis.Kind) ([]client.Object, error) {
	if !s.Served(kind.GVK) {
		return nil, nil
	}
	list, err := newList(kind.GVK)
	if err != nil {
		return nil, err
	}
	if err := s.Reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	return items(list)
}

func newList(gvk schema.GroupVersionKind) (client.ObjectList, error) {
	if apis.IsUnstructured(gvk) {
		return apis.NewUnstructuredList(gvk), nil
	}
	o, err := apis.Scheme.New(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err != nil {
		return nil, err
	}
	list, ok := o.(client.ObjectList)
	if !ok {
		return nil, fmt.Errorf("%s is not a list", gvk.Kind+"List")
	}
	return list, nil
}

func items(list client.ObjectList) ([]client.Object, error) {
	objs, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	out := make([]client.Object, 0, len(objs))
	for _, o := range objs {
		if co, ok := o.(client.Object); ok {
			out = append(out, co)
		}
	}
	return out, nil
}

// Snapshot is a one-time read of what the audit needs from a live
// cluster, for `scaleguard audit`: every kind the serve view watches,
// listed once. It serves as both the Source and, through View, the
// ClusterView.
type Snapshot struct {
	View    *clusterview.Manifests
	guarded map[schema.GroupVersionKind][]client.Object
	// Notes say what could not be read (a kind not served is not a note).
	Notes []string
}

// TakeSnapshot lists every watched kind from the API server. With a
// namespace, a kind the caller may not list cluster-wide is listed in that
// namespace (and the Namespace itself read by name). A guarded kind that
// cannot be read at all is an error; a kind read only for context is a
// note.
func TakeSnapshot(ctx context.Context, c client.Reader, mapper meta.RESTMapper, namespace string) (*Snapshot, error) {
	s := &Snapshot{View: clusterview.NewManifests(), guarded: map[schema.GroupVersionKind][]client.Object{}}
	for _, proto := range clusterview.Watched {
		gvks, _, err := apis.Scheme.ObjectKinds(proto)
		if err != nil {
			return nil, err
		}
		gvk := gvks[0]
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("discovering %s: %w", gvk.Kind, err)
		}
		objs, err := s.list(ctx, c, gvk, mapping.Scope.Name() == meta.RESTScopeNameNamespace, namespace)
		if err != nil {
			if apis.IsGuarded(gvk) {
				return nil, fmt.Errorf("listing %s: %w", mapping.Resource.Resource, err)
			}
			s.Notes = append(s.Notes, fmt.Sprintf("%s not read (%v); rules that look at them judge as if there were none", mapping.Resource.Resource, reason(err)))
			continue
		}
		for _, o := range objs {
			s.View.Add(o)
		}
		if apis.IsGuarded(gvk) {
			s.guarded[gvk] = objs
		}
	}
	return s, nil
}

func (s *Snapshot) list(ctx context.Context, c client.Reader, gvk schema.GroupVersionKind, namespaced bool, namespace string) ([]client.Object, error) {
	list, err := newList(gvk)
	if err != nil {
		return nil, err
	}
	err = c.List(ctx, list)
	if apierrors.IsForbidden(err) && namespace != "" {
		switch {
		case namespaced:
			err = c.List(ctx, list, client.InNamespace(namespace))
		case gvk.Kind == "Namespace" && gvk.Group == "":
			obj, nerr := apis.Scheme.New(gvk)
			if nerr != nil {
				return nil, nerr
			}
			cobj := obj.(client.Object)
			if err := c.Get(ctx, client.ObjectKey{Name: namespace}, cobj); err != nil {
				return nil, err
			}
			return []client.Object{cobj}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return items(list)
}

func reason(err error) string {
	if apierrors.IsForbidden(err) {
		return "forbidden to this user"
	}
	return err.Error()
}

// List implements Source.
func (s *Snapshot) List(_ context.Context, kind apis.Kind) ([]client.Object, error) {
	return s.guarded[kind.GVK], nil
}
