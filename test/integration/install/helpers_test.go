package install

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/controlplane"
	"github.com/scaleguard/scaleguard/internal/server"
)

// scaleguardNamespace holds the Lease and the certificate's Secret.
const scaleguardNamespace = "scaleguard-system"

func adminClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Config, client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ensureNamespace creates a namespace with labels, or leaves it be.
func ensureNamespace(t *testing.T, c client.Client, name string, labels map[string]string) {
	t.Helper()
	err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// installConfigurations installs the shipped webhook configurations
// (config/webhook/manifests.yaml), each webhook calling base+its path
// instead of the Service, with caBundle (none: the self-managed
// certificate injects its own). It replaces earlier ones.
func installConfigurations(t *testing.T, base string, caBundle []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(env.Root, "config", "webhook", "manifests.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(raw), "\n---\n")
	mut := &admissionregistrationv1.MutatingWebhookConfiguration{}
	val := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := yaml.UnmarshalStrict([]byte(docs[0]), mut); err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), val); err != nil {
		t.Fatal(err)
	}
	url := func(cc *admissionregistrationv1.WebhookClientConfig) {
		u := base + *cc.Service.Path
		cc.Service, cc.URL, cc.CABundle = nil, &u, caBundle
	}
	for i := range mut.Webhooks {
		url(&mut.Webhooks[i].ClientConfig)
	}
	for i := range val.Webhooks {
		url(&val.Webhooks[i].ClientConfig)
	}
	c := adminClient(t)
	ctx := context.Background()
	for _, obj := range []client.Object{mut, val} {
		if err := c.Delete(ctx, obj.DeepCopyObject().(client.Object)); err != nil && !apierrors.IsNotFound(err) {
			t.Fatal(err)
		}
		if err := c.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
}

// authority is a test CA.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newAuthority(t *testing.T) authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return authority{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue writes into dir a serving certificate for 127.0.0.1 and
// localhost, valid from notBefore to notAfter.
func (ca authority) issue(t *testing.T, dir string, notBefore, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore: notBefore, NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tls.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replica is one running serve.
type replica struct {
	srv      *server.Server
	port     int
	probe    string
	metrics  string
	finished chan struct{}
	err      error
	cancel   context.CancelFunc
}

// startReplica runs serve with o (its port, probe and metrics addresses
// chosen here when unset) until the test ends, or stop.
func startReplica(t *testing.T, cfg *rest.Config, o server.Options) *replica {
	t.Helper()
	r := &replica{finished: make(chan struct{})}
	if o.Port == 0 {
		o.Host, o.Port = "127.0.0.1", freePort(t)
	}
	r.port = o.Port
	if o.ProbeAddr == "" {
		o.ProbeAddr = loopback(t)
	}
	r.probe = o.ProbeAddr
	if o.MetricsAddr == "" {
		o.MetricsAddr = "0"
	}
	r.metrics = o.MetricsAddr
	if o.LeaderElectionNamespace == "" {
		o.LeaderElectionNamespace = scaleguardNamespace
	}
	if o.Namespace == "" {
		o.Namespace = scaleguardNamespace
	}
	o.SkipControllerNameValidation = true // several serves in this process
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	var err error
	if r.srv, err = server.New(ctx, cfg, o, ctrl.Log.WithName("serve")); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { r.err = r.srv.Manager.Start(ctx); close(r.finished) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the replica and waits for it.
func (r *replica) stop(t *testing.T) {
	r.cancel()
	select {
	case <-r.finished:
		if r.err != nil {
			t.Errorf("serve ended with %v", r.err)
		}
	case <-time.After(60 * time.Second):
		t.Error("serve did not stop within 60s")
	}
}

// waitReady waits for the replica's /readyz.
func (r *replica) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	if err := controlplane.WaitReady(context.Background(), "http://"+r.probe+"/readyz", timeout, r.finished); err != nil {
		t.Fatalf("not ready: %v (%s)", err, r.readiness("certificate"))
	}
}

// readiness is what /readyz/<check> answers.
func (r *replica) readiness(check string) string {
	resp, err := http.Get("http://" + r.probe + "/readyz/" + check)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + ": " + strings.TrimSpace(string(b))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func loopback(t *testing.T) string {
	t.Helper()
	a, err := controlplane.LoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %s: %s", timeout, what)
}

// fromYAML decodes one object.
func fromYAML(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// webhookUnreachable reports whether err is the API server refusing a
// write because it could not call a scaleguard webhook.
func webhookUnreachable(err error) bool {
	var status apierrors.APIStatus
	return err != nil && errors.As(err, &status) && strings.Contains(err.Error(), "failed calling webhook")
}
