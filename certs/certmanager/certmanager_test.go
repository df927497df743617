package certmanager_test

import (
	"context"
	"strings"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/scaleguard/scaleguard/certs/certmanager"
)

func TestReadySaysWhyNot(t *testing.T) {
	key := types.NamespacedName{Namespace: "scaleguard-system", Name: "scaleguard-webhook"}
	cert := func(generation int64, conds ...cmapi.CertificateCondition) *cmapi.Certificate {
		return &cmapi.Certificate{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, Generation: generation},
			Status: cmapi.CertificateStatus{Conditions: conds}}
	}
	for name, c := range map[string]struct {
		obj  client.Object
		want string
	}{
		"ready": {obj: cert(1, cmapi.CertificateCondition{Type: cmapi.CertificateConditionReady, Status: cmmeta.ConditionTrue, ObservedGeneration: 1})},
		"issuing": {obj: cert(1,
			cmapi.CertificateCondition{Type: cmapi.CertificateConditionIssuing, Status: cmmeta.ConditionTrue},
			cmapi.CertificateCondition{Type: cmapi.CertificateConditionReady, Status: cmmeta.ConditionFalse, Reason: "DoesNotExist", Message: "Issuing certificate as Secret does not exist"}),
			want: "cert-manager Certificate scaleguard-system/scaleguard-webhook is not Ready: DoesNotExist: Issuing certificate as Secret does not exist"},
		"ready for an older spec": {obj: cert(2, cmapi.CertificateCondition{Type: cmapi.CertificateConditionReady, Status: cmmeta.ConditionTrue, ObservedGeneration: 1}),
			want: "changed and cert-manager has not acted on the change yet"},
		"no condition": {obj: cert(1), want: "has no Ready condition yet: is cert-manager running?"},
		"missing":      {want: "cert-manager Certificate scaleguard-system/scaleguard-webhook not found"},
	} {
		t.Run(name, func(t *testing.T) {
			scheme := runtime.NewScheme()
			if err := certmanager.AddToScheme(scheme); err != nil {
				t.Fatal(err)
			}
			b := fake.NewClientBuilder().WithScheme(scheme)
			if c.obj != nil {
				b = b.WithObjects(c.obj)
			}
			err := certmanager.Ready(context.Background(), b.Build(), key)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("not ready: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}
