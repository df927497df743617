package integration

// The requests Argo CD makes, reproduced with controller-runtime's client.
// Argo CD runs kubectl's apply code in process (gitops-engine,
// pkg/utils/kube/resource_ops.go in argo-cd v3.5, newApplyOptions):
//
//   - server-side apply (sync option ServerSideApply=true): an apply patch
//     with field manager "argocd-controller" and force-conflicts on;
//   - Server-Side Diff (compare option ServerSideDiff=true): the same apply
//     patch with dryRun=All, for objects that already exist (a new object is
//     diffed without calling the API server);
//   - client-side apply (the default): kubectl apply with the same field
//     manager, which creates the object with the
//     kubectl.kubernetes.io/last-applied-configuration annotation, and
//     updates it with a three-way JSON merge patch (the path kubectl takes
//     for a custom resource, whose kind it cannot strategic-merge).

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/jsonmergepatch"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// argoManager is Argo CD's field manager (common.ArgoCDSSAManager), used by
// both its server-side and client-side applies.
const argoManager = "argocd-controller"

// lastApplied is kubectl's client-side apply annotation.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// serverSideApply sends what an Argo CD sync sends with ServerSideApply=true
// (dryRun false), or what its Server-Side Diff sends (dryRun true). The
// object returned is what the API server stored, or would store.
func serverSideApply(ctx context.Context, c client.Client, desired *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	obj := desired.DeepCopy()
	opts := []client.ApplyOption{client.FieldOwner(argoManager), client.ForceOwnership}
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(obj), opts...)
	return obj, err
}

// clientSideApply sends what an Argo CD sync sends by default: kubectl
// apply's create with the last-applied annotation, or its three-way JSON
// merge patch of an object that exists. It returns the object the API
// server stored (the live one when there was nothing to patch).
func clientSideApply(ctx context.Context, c client.Client, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	modified, withAnnotation, err := modifiedConfiguration(desired)
	if err != nil {
		return nil, err
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(desired.GroupVersionKind())
	err = c.Get(ctx, client.ObjectKeyFromObject(desired), live)
	if apierrors.IsNotFound(err) {
		return withAnnotation, c.Create(ctx, withAnnotation, client.FieldOwner(argoManager))
	}
	if err != nil {
		return nil, err
	}
	patch, err := threeWayPatch(live, modified)
	if err != nil {
		return nil, err
	}
	if string(patch) == "{}" {
		return live, nil
	}
	return live, c.Patch(ctx, live, client.RawPatch(types.MergePatchType, patch), client.FieldOwner(argoManager))
}

// threeWayPatch is the JSON merge patch kubectl's client-side apply sends
// to make live what modified (the desired object with its last-applied
// annotation) asks, given what was applied last. Argo CD's default diff of
// a custom resource computes the same patch (gitops-engine
// pkg/diff/diff.go, threeWayMergePatch): "{}" is "Synced".
func threeWayPatch(live *unstructured.Unstructured, modified []byte) ([]byte, error) {
	current, err := json.Marshal(live.Object)
	if err != nil {
		return nil, err
	}
	original := []byte(live.GetAnnotations()[lastApplied])
	patch, err := jsonmergepatch.CreateThreeWayJSONMergePatch(original, modified, current,
		mergepatch.RequireKeyUnchanged("apiVersion"), mergepatch.RequireKeyUnchanged("kind"), mergepatch.RequireMetadataKeyUnchanged("name"))
	if err != nil {
		return nil, fmt.Errorf("three-way merge patch: %w", err)
	}
	return patch, nil
}

// modifiedConfiguration is kubectl's GetModifiedConfiguration: the object
// with the last-applied annotation holding the object without it, both as
// JSON and as an object.
func modifiedConfiguration(desired *unstructured.Unstructured) ([]byte, *unstructured.Unstructured, error) {
	obj := desired.DeepCopy()
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	delete(annotations, lastApplied)
	obj.SetAnnotations(annotations)
	bare, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, nil, err
	}
	annotations[lastApplied] = string(bare)
	obj.SetAnnotations(annotations)
	modified, err := json.Marshal(obj.Object)
	return modified, obj, err
}
