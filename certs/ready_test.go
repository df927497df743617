package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// authority is a CA that issues serving certificates.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newAuthority(t *testing.T, name string) authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-24 * time.Hour), NotAfter: now.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return authority{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes a serving certificate of ca, valid from notBefore to
// notAfter, into dir.
func (ca authority) issue(t *testing.T, dir string, notBefore, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "scaleguard-webhook.scaleguard-system.svc"},
		DNSNames: []string{"scaleguard-webhook.scaleguard-system.svc"}, NotBefore: notBefore, NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	if _, err := writeIfChanged(dir, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})); err != nil {
		t.Fatal(err)
	}
}

func configurations(mutBundle, valBundle []byte) []client.Object {
	return []client.Object{
		&admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "scaleguard-mutating"},
			Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "scaledobject.mutate.scaleguard.io", ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: mutBundle}}}},
		&admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "scaleguard-validating"},
			Webhooks: []admissionregistrationv1.ValidatingWebhook{
				{Name: "scaledobject.validate.scaleguard.io", ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: valBundle}},
				{Name: "horizontalpodautoscaler.validate.scaleguard.io", ClientConfig: admissionregistrationv1.WebhookClientConfig{CABundle: valBundle}},
			}},
	}
}

// TestReadinessSaysWhy: a replica is ready only with a valid certificate
// that every webhook's caBundle trusts, and otherwise says what is wrong.
func TestReadinessSaysWhy(t *testing.T) {
	ca, other := newAuthority(t, "scaleguard-ca"), newAuthority(t, "someone-else")
	both := append(append([]byte{}, other.pem...), ca.pem...)
	valid := func(t *testing.T, dir string) { ca.issue(t, dir, now.Add(-time.Hour), now.Add(time.Hour)) }
	for name, c := range map[string]struct {
		mode    Mode
		cert    func(t *testing.T, dir string)
		objects []client.Object
		want    string
	}{
		"valid and trusted":                  {cert: valid, objects: configurations(ca.pem, ca.pem)},
		"trusted by one CA of a bundle":      {cert: valid, objects: configurations(both, ca.pem)},
		"no certificate":                     {objects: configurations(ca.pem, ca.pem), want: "tls.crt: no such file or directory"},
		"no certificate yet, self-managed":   {mode: SelfManagedMode, objects: configurations(ca.pem, ca.pem), want: "the elected replica writes one into the Secret scaleguard-system/scaleguard-webhook-tls"},
		"no certificate yet, cert-manager":   {mode: CertManagerMode, objects: configurations(ca.pem, ca.pem), want: "cert-manager issues it into the Secret scaleguard-system/scaleguard-webhook-tls"},
		"expired":                            {cert: func(t *testing.T, dir string) { ca.issue(t, dir, now.Add(-2*time.Hour), now.Add(-time.Hour)) }, objects: configurations(ca.pem, ca.pem), want: "expired at 2026-11-26T11:00:00Z"},
		"not yet valid":                      {cert: func(t *testing.T, dir string) { ca.issue(t, dir, now.Add(time.Hour), now.Add(2*time.Hour)) }, objects: configurations(ca.pem, ca.pem), want: "is not valid before"},
		"CA not injected":                    {cert: valid, objects: configurations(ca.pem, nil), want: "ValidatingWebhookConfiguration scaleguard-validating, webhook scaledobject.validate.scaleguard.io: caBundle is empty: the CA has not been injected yet"},
		"another CA":                         {cert: valid, objects: configurations(other.pem, ca.pem), want: `MutatingWebhookConfiguration scaleguard-mutating, webhook scaledobject.mutate.scaleguard.io: caBundle does not trust the serving certificate (issued by "scaleguard-ca")`},
		"no webhook configuration":           {cert: valid, want: "MutatingWebhookConfiguration scaleguard-mutating not found: the API server calls no scaleguard webhook"},
		"a bundle that holds no certificate": {cert: valid, objects: configurations([]byte("not PEM"), ca.pem), want: "caBundle holds no certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if c.cert != nil {
				c.cert(t, dir)
			}
			mode := c.mode
			if mode == "" {
				mode = FilesMode
			}
			scheme := runtime.NewScheme()
			utilruntime.Must(admissionregistrationv1.AddToScheme(scheme))
			s := &Serving{
				opts: Options{Mode: mode, Dir: dir, Namespace: "scaleguard-system", Secret: "scaleguard-webhook-tls",
					MutatingConfiguration: "scaleguard-mutating", ValidatingConfiguration: "scaleguard-validating"},
				reader: fake.NewClientBuilder().WithScheme(scheme).WithObjects(c.objects...).Build(),
				log:    logr.Discard(),
			}
			err := s.check(context.Background(), now)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("not ready: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

// TestWriteIfChanged replaces both files, and only when they changed.
func TestWriteIfChanged(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	for i, c := range []struct {
		crt, key string
		changed  bool
	}{{"c1", "k1", true}, {"c1", "k1", false}, {"c2", "k1", true}, {"c2", "k2", true}} {
		changed, err := writeIfChanged(dir, []byte(c.crt), []byte(c.key))
		if err != nil || changed != c.changed {
			t.Fatalf("write %d: changed %v err %v, want changed %v", i, changed, err, c.changed)
		}
		crt, _ := os.ReadFile(filepath.Join(dir, CertName))
		key, _ := os.ReadFile(filepath.Join(dir, KeyName))
		if string(crt) != c.crt || string(key) != c.key {
			t.Fatalf("write %d: files hold %q %q", i, crt, key)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestGateStartsTheServerOnceThereIsACertificate: the webhook server
// starts when a certificate and its key are in the directory, not before.
func TestGateStartsTheServerOnceThereIsACertificate(t *testing.T) {
	dir := t.TempDir()
	started := make(chan struct{})
	g := (&Serving{opts: Options{Dir: dir}}).Gate(startRecorder{started: started})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = g.Start(ctx) }()
	select {
	case <-started:
		t.Fatal("started without a certificate")
	case <-time.After(1500 * time.Millisecond):
	}
	newAuthority(t, "ca").issue(t, dir, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("not started once the certificate is there")
	}
}

// startRecorder is a webhook server that records being started.
type startRecorder struct {
	webhook.Server
	started chan struct{}
}

func (s startRecorder) Start(context.Context) error {
	close(s.started)
	return nil
}
