package install

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/internal/server"
)

// emptySecret (re)creates the Secret the self-managed certificate lives
// in, empty, as the install ships it.
func emptySecret(t *testing.T, c client.Client) {
	t.Helper()
	ctx := context.Background()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: server.DefaultSecret, Namespace: scaleguardNamespace}}
	if err := c.Delete(ctx, s.DeepCopy()); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	if err := c.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
}

// servedCertificates records the distinct certificates each replica serves.
type servedCertificates struct {
	mu   sync.Mutex
	seen map[string]map[[32]byte]bool
}

func (s *servedCertificates) watch(ctx context.Context, name string, port int) {
	for ctx.Err() == nil {
		conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // recording, not trusting
		if err == nil {
			leaf := conn.ConnectionState().PeerCertificates[0]
			conn.Close()
			s.mu.Lock()
			if s.seen[name] == nil {
				s.seen[name] = map[[32]byte]bool{}
			}
			s.seen[name][sha256.Sum256(leaf.Raw)] = true
			s.mu.Unlock()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *servedCertificates) count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen[name])
}

// TestSelfManagedCertificateRotatesUnderLoad runs two replicas with the
// certificate they manage themselves, behind a balancer that sends
// connections to ready replicas only, with serving certificates that live
// 40 s and are renewed 30 s before they expire, so that one is renewed
// every ten seconds or so. Admission requests through the real API server
// flow all along: none is lost (none refused because a webhook could not
// be called, no mutation skipped), and each replica serves several
// certificates in turn without restarting. Before any request, the elected
// replica created the CA and the certificate in the empty Secret and
// injected the CA into both webhook configurations.
func TestSelfManagedCertificateRotatesUnderLoad(t *testing.T) {
	c := adminClient(t)
	ensureNamespace(t, c, scaleguardNamespace, nil)
	ensureNamespace(t, c, "rotation", nil)
	emptySecret(t, c)
	lb := newBalancer(t)
	installConfigurations(t, fmt.Sprintf("https://localhost:%d", lb.port()), nil)

	opts := func() server.Options {
		return server.Options{
			CertDir:          t.TempDir(),
			LeaderElection:   true,
			LeaderElectionID: "scaleguard-rotation",
			InstallOptions: server.InstallOptions{
				Certificates:  certs.SelfManagedMode,
				Rotation:      certs.Rotation{CertValidity: 40 * time.Second, RenewBefore: 30 * time.Second, CheckEvery: 2 * time.Second},
				ExtraDNSNames: []string{"localhost"},
			},
		}
	}
	a, b := startReplica(t, env.Config, opts()), startReplica(t, env.Config, opts())
	lb.add("a", a)
	lb.add("b", b)
	a.waitReady(t, 90*time.Second)
	b.waitReady(t, 90*time.Second)

	// The CA in the Secret is the caBundle of every webhook.
	sec := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: scaleguardNamespace, Name: server.DefaultSecret}, sec); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ca.crt", "ca.key", "tls.crt", "tls.key"} {
		if len(sec.Data[k]) == 0 {
			t.Fatalf("the Secret has no %s", k)
		}
	}
	val := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := c.Get(context.Background(), client.ObjectKey{Name: "scaleguard-validating"}, val); err != nil {
		t.Fatal(err)
	}
	for _, w := range val.Webhooks {
		if !bytes.Equal(w.ClientConfig.CABundle, sec.Data["ca.crt"]) {
			t.Fatalf("%s: caBundle is not the Secret's CA", w.Name)
		}
	}

	served := &servedCertificates{seen: map[string]map[[32]byte]bool{}}
	ctx, cancel := context.WithTimeout(context.Background(), 35*time.Second)
	defer cancel()
	go served.watch(ctx, "a", a.port)
	go served.watch(ctx, "b", b.port)
	openBefore := failOpen(t)
	ok, failed := load(ctx, 4, dryRunScaledObject(t, c, "rotation"))
	lost := failOpen(t) - openBefore

	t.Logf("%d requests admitted, %d failed, %v mutations skipped; certificates served: a %d, b %d", ok, len(failed), lost, served.count("a"), served.count("b"))
	for i, err := range failed {
		if i < 5 {
			t.Errorf("request failed: %v", err)
		}
	}
	if len(failed) > 0 || lost > 0 {
		t.Fatalf("%d requests failed and %v mutations were skipped during rotation", len(failed), lost)
	}
	if ok < 100 {
		t.Errorf("only %d requests in 35 s: the load did not load", ok)
	}
	for _, r := range []string{"a", "b"} {
		if n := served.count(r); n < 2 {
			t.Errorf("replica %s served %d certificate(s) in 35 s; want a renewal reloaded", r, n)
		}
	}
	select {
	case <-a.finished:
		t.Errorf("replica a stopped: %v", a.err)
	case <-b.finished:
		t.Errorf("replica b stopped: %v", b.err)
	default:
	}
}
