package install

import (
	"context"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/charts"
	"github.com/scaleguard/scaleguard/webhooks"
)

// TestChartIsAcceptedByTheAPIServer renders the Helm chart as `helm
// install` would and applies every object it renders to the real API
// server as a server-side dry run: the API server's own validation (the
// webhook configurations' CEL matchConditions compiled, the Deployment's
// and the PodDisruptionBudget's schemas, RBAC, the default
// ScaleGuardPolicy against its CRD's schema and CEL rules) accepts each,
// for the defaults and for the values that change what is rendered. A dry
// run leaves nothing behind, so no webhook configuration points at a
// Service that does not run here.
func TestChartIsAcceptedByTheAPIServer(t *testing.T) {
	c := adminClient(t)
	ctx := context.Background()
	ensureNamespace(t, c, scaleguardNamespace, nil)
	// Configurations an earlier test installed (each test installs its
	// own) would merge into the dry run and call a serve that has stopped.
	for _, o := range []client.Object{
		&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: webhooks.MutatingConfigurationName}},
		&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: webhooks.ValidatingConfigurationName}},
	} {
		if err := c.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
	}
	for name, values := range map[string]map[string]any{
		"defaults":            nil,
		"one replica":         {"replicas": 1},
		"all fail open":       {"webhooks": map[string]any{"allFailOpen": true}},
		"default policy":      {"defaultPolicy": map[string]any{"enabled": true}},
		"excluded namespaces": {"excludedNamespaces": []any{"kube-system", "gpu-batch"}},
	} {
		t.Run(name, func(t *testing.T) {
			objs, err := charts.Render(filepath.Join(env.Root, "charts", "scaleguard"), scaleguardNamespace, values)
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) == 0 {
				t.Fatal("the chart rendered nothing")
			}
			kinds := map[string]bool{}
			for _, o := range objs {
				kinds[o.GetKind()] = true
				if err := c.Patch(ctx, o, client.Apply, client.DryRunAll, client.FieldOwner("helm"), client.ForceOwnership); err != nil {
					t.Errorf("%s %s/%s refused by the API server: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
				}
			}
			for _, k := range []string{"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"} {
				if !kinds[k] {
					t.Errorf("the chart rendered no %s", k)
				}
			}
			if values != nil && values["defaultPolicy"] != nil && !kinds["ScaleGuardPolicy"] {
				t.Error("defaultPolicy.enabled rendered no ScaleGuardPolicy")
			}
		})
	}
}
