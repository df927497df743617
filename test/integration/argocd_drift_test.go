package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/internal/keeper"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

// pausedField is the managed-fields path of the pause annotation.
const pausedField = `"f:autoscaling.keda.sh/paused"`

// owners lists the field managers whose managed fields hold the path.
func owners(obj *unstructured.Unstructured, path string) []string {
	var out []string
	for _, mf := range obj.GetManagedFields() {
		if mf.FieldsV1 != nil && strings.Contains(string(mf.FieldsV1.Raw), path) {
			out = append(out, mf.Manager)
		}
	}
	return out
}

func getLive(t *testing.T, c client.Client, like *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(like.GroupVersionKind())
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(like), live); err != nil {
		t.Fatal(err)
	}
	return live
}

// TestArgoCDDiffAfterThePauseIsInjected is what each Argo CD diff mode sees
// once scaleguard has injected the pause into a GPU-tier ScaledObject that
// Git writes without a pause decision (docs/argocd.md, "What Argo CD shows").
func TestArgoCDDiffAfterThePauseIsInjected(t *testing.T) {
	ctx := context.Background()
	var warns []string
	c := newClient(t, &warns)

	t.Run("server-side apply", func(t *testing.T) {
		namespace(t, c, "argo-drift-ssa")
		dep, desired := runbookObjects(t, "argo-drift-ssa")
		createSeen(t, c, dep)
		waitUntilSeen(t, c, desired)
		synced, err := serverSideApply(ctx, c, desired, false)
		if err != nil {
			t.Fatal(err)
		}
		// The webhook's change belongs to no field manager: argocd-controller
		// owns only what Git wrote.
		if synced.GetAnnotations()[gpu.PausedAnnotation] != "true" || len(owners(synced, pausedField)) != 0 {
			t.Fatalf("annotations %v, owners of the pause %v", synced.GetAnnotations(), owners(synced, pausedField))
		}
		// Server-Side Diff: the dry run predicts the annotation kept, and
		// owned by nobody, so Argo CD's removal of webhook changes restores
		// live's value: no diff, with or without IncludeMutationWebhook.
		warns = nil
		predicted, err := serverSideApply(ctx, c, desired, true)
		if err != nil {
			t.Fatal(err)
		}
		if predicted.GetAnnotations()[gpu.PausedAnnotation] != "true" || len(owners(predicted, pausedField)) != 0 || hasWarning(warns, "[gpu-paused-default] mutated") {
			t.Errorf("predicted annotations %v, owners %v, warnings %q", predicted.GetAnnotations(), owners(predicted, pausedField), warns)
		}
		// A second sync changes nothing: apply leaves an unowned field alone.
		again, err := serverSideApply(ctx, c, desired, false)
		if err != nil {
			t.Fatal(err)
		}
		if again.GetResourceVersion() != synced.GetResourceVersion() {
			t.Errorf("the second sync wrote the object: resourceVersion %s -> %s", synced.GetResourceVersion(), again.GetResourceVersion())
		}
	})

	t.Run("client-side apply", func(t *testing.T) {
		namespace(t, c, "argo-drift-csa")
		dep, desired := runbookObjects(t, "argo-drift-csa")
		createSeen(t, c, dep)
		waitUntilSeen(t, c, desired)
		if _, err := clientSideApply(ctx, c, desired); err != nil {
			t.Fatal(err)
		}
		live := getLive(t, c, desired)
		var applied map[string]any
		if err := json.Unmarshal([]byte(live.GetAnnotations()[lastApplied]), &applied); err != nil {
			t.Fatal(err)
		}
		if live.GetAnnotations()[gpu.PausedAnnotation] != "true" || strings.Contains(live.GetAnnotations()[lastApplied], gpu.PausedAnnotation) {
			t.Fatalf("live annotations %v", live.GetAnnotations())
		}
		// The three-way patch from what was applied last: nothing to do,
		// so Argo CD's default diff reads Synced.
		modified, _, err := modifiedConfiguration(desired)
		if err != nil {
			t.Fatal(err)
		}
		patch, err := threeWayPatch(live, modified)
		if err != nil || string(patch) != "{}" {
			t.Errorf("three-way patch %s, %v; want {}", patch, err)
		}
	})

	t.Run("replace", func(t *testing.T) {
		// Replace=true syncs with a PUT, which drops the annotation; the
		// webhook puts it back on that update.
		namespace(t, c, "argo-drift-put")
		dep, desired := runbookObjects(t, "argo-drift-put")
		createSeen(t, c, dep)
		waitUntilSeen(t, c, desired)
		if _, err := plainCreate(ctx, c, desired); err != nil {
			t.Fatal(err)
		}
		warns = nil
		replaced, err := plainUpdate(ctx, c, desired)
		if err != nil {
			t.Fatal(err)
		}
		if replaced.GetAnnotations()[gpu.PausedAnnotation] != "true" ||
			!hasWarning(warns, "[gpu-paused-default] mutated", "on this update, which drops the stored pause decision") {
			t.Errorf("annotations %v, warnings %q", replaced.GetAnnotations(), warns)
		}
	})
}

// TestArgoCDSelfHealAfterTheUnpauseExpires is Git un-pausing a GPU-tier
// ScaledObject until a time that passes: the keeper re-pauses it, Argo CD
// sees it out of sync, and its self-heal (or a Server-Side Diff) sends Git's
// now expired un-pause again, which scaleguard refuses, so the two never
// loop. A new expiry in Git un-pauses it again.
func TestArgoCDSelfHealAfterTheUnpauseExpires(t *testing.T) {
	for _, mode := range []string{"server-side apply", "client-side apply"} {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			var warns []string
			c := newClient(t, &warns)
			ns := "argo-selfheal-" + strings.ReplaceAll(strings.TrimSuffix(mode, " apply"), "-side", "")
			namespace(t, c, ns)
			dep, so := runbookObjects(t, ns)
			createSeen(t, c, dep)
			waitUntilSeen(t, c, so)
			sync := func(desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
				if mode == "server-side apply" {
					return serverSideApply(ctx, c, desired, false)
				}
				return clientSideApply(ctx, c, desired)
			}
			inGit := func(paused, until string) *unstructured.Unstructured {
				d := so.DeepCopy()
				d.SetAnnotations(map[string]string{gpu.PausedAnnotation: paused, gpu.UnpauseUntilAnnotation: until})
				return d
			}

			// 1. Git un-pauses it until a few seconds from now; the sync is admitted.
			expiry := time.Now().Add(4 * time.Second).Truncate(time.Second).Add(time.Second).UTC().Format(time.RFC3339)
			git := inGit("false", expiry)
			if _, err := sync(git); err != nil {
				t.Fatalf("sync of the un-pause: %v", err)
			}
			repaused := keeper.ActionsTotal.WithLabelValues("repause", keeper.ResultPatched)

			// 2. The keeper re-pauses it when the expiry passes.
			var live *unstructured.Unstructured
			eventually(t, 30*time.Second, "the keeper did not re-pause", func() bool {
				live = getLive(t, c, so)
				return live.GetAnnotations()[gpu.PausedAnnotation] == "true"
			})
			if _, ok := live.GetAnnotations()[gpu.UnpauseUntilAnnotation]; ok {
				t.Fatalf("the keeper kept the expiry: %v", live.GetAnnotations())
			}
			before := testutil.ToFloat64(repaused)

			// 3. Argo CD now finds it out of sync: the three-way patch (or the
			// Server-Side Diff's dry run) would write Git's un-pause back...
			if mode == "client-side apply" {
				modified, _, err := modifiedConfiguration(git)
				if err != nil {
					t.Fatal(err)
				}
				if patch, err := threeWayPatch(live, modified); err != nil || !strings.Contains(string(patch), gpu.UnpauseUntilAnnotation) {
					t.Fatalf("three-way patch %s, %v: Argo CD would see no drift", patch, err)
				}
			} else {
				_, err := serverSideApply(ctx, c, git, true)
				checkExpiredRefusal(t, "Server-Side Diff", err, expiry)
			}
			// ...and self-heal sends it: refused, the object unchanged.
			_, err := sync(git)
			checkExpiredRefusal(t, "self-heal", err, expiry)

			// 4. Nothing moves afterwards: no second re-pause, no write.
			time.Sleep(3 * time.Second)
			if after := getLive(t, c, so); after.GetResourceVersion() != live.GetResourceVersion() {
				t.Errorf("the object was written after the refusal: %v", after.GetAnnotations())
			}
			if got := testutil.ToFloat64(repaused) - before; got != 0 {
				t.Errorf("the keeper re-paused %v more times", got)
			}

			// 5. With ignoreDifferences on the pause and RespectIgnoreDifferences,
			// Argo CD sends live's pause with Git's expiry instead: admitted,
			// paused, and nothing moves either.
			respected := inGit("true", expiry)
			if _, err := sync(respected); err != nil {
				t.Fatalf("sync respecting the ignored pause: %v", err)
			}
			live = getLive(t, c, so)
			time.Sleep(2 * time.Second)
			if after := getLive(t, c, so); after.GetResourceVersion() != live.GetResourceVersion() || after.GetAnnotations()[gpu.PausedAnnotation] != "true" {
				t.Errorf("after the respected sync: %v", after.GetAnnotations())
			}

			// 6. A new expiry in Git un-pauses it again.
			fresh := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			if _, err := sync(inGit("false", fresh)); err != nil {
				t.Fatalf("sync of a new expiry: %v", err)
			}
			if got := getLive(t, c, so).GetAnnotations(); got[gpu.PausedAnnotation] != "false" || got[gpu.UnpauseUntilAnnotation] != fresh {
				t.Errorf("after a new expiry: %v", got)
			}
		})
	}
}

func checkExpiredRefusal(t *testing.T, what string, err error, expiry string) {
	t.Helper()
	for _, f := range []string{
		"metadata.annotations[scaleguard.io/unpause-until]: Forbidden: [gpu-unpaused] " + expiry + " has already passed",
		`write autoscaling.keda.sh/paused: "true", or a new expiry`,
	} {
		if err == nil || !strings.Contains(err.Error(), f) {
			t.Errorf("%s: %v; want a refusal containing %s", what, err, f)
		}
	}
}
