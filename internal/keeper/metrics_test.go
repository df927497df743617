package keeper_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/keeper"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

func TestActionsAreCounted(t *testing.T) {
	scaledObjects := schema.GroupResource{Group: "keda.sh", Resource: "scaledobjects"}
	expired := map[string]string{gpu.PausedAnnotation: "false", gpu.UnpauseUntilAnnotation: "2026-03-01T11:59:59Z"}
	for name, c := range map[string]struct {
		annotations    map[string]string
		patchErr       error
		action, result string
	}{
		"target appeared: paused":   {nil, nil, "pause", keeper.ResultPatched},
		"expired: re-paused":        {expired, nil, "repause", keeper.ResultPatched},
		"changed meanwhile":         {expired, apierrors.NewConflict(scaledObjects, "llm", errors.New("changed")), "repause", keeper.ResultConflict},
		"refused by the API server": {nil, apierrors.NewForbidden(scaledObjects, "llm", errors.New("no")), "pause", keeper.ResultFailed},
	} {
		t.Run(name, func(t *testing.T) {
			objs := []client.Object{scaledObject(t0, c.annotations), gpuDeployment(t0.Add(time.Second), "1")}
			b := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(objs...)
			if c.patchErr != nil {
				b = b.WithInterceptorFuncs(interceptor.Funcs{Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
					return c.patchErr
				}})
			}
			k := &keeper.Keeper{Client: b.Build(), View: clusterview.NewManifests(objs...), Recorder: events.NewFakeRecorder(10), Log: log.Log,
				Settings: policies.DefaultSettings, Now: func() time.Time { return t0 }}
			counter := keeper.ActionsTotal.WithLabelValues(c.action, c.result)
			before := testutil.ToFloat64(counter)
			_, _ = k.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "serving", Name: "llm"}})
			if got := testutil.ToFloat64(counter) - before; got != 1 {
				t.Errorf("scaleguard_keeper_actions_total{action=%q,result=%q} grew by %v, want 1", c.action, c.result, got)
			}
		})
	}
}
