package install

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/internal/server"
)

// TestReplicaWithoutAValidCertificateIsNotReadyAndSaysWhy starts a replica
// whose certificate directory is empty, then holds an expired certificate,
// then a valid one: it stays up throughout, is not ready while the API
// server could not trust what it serves (its calls fail then, as the
// client sees), says why on /readyz/certificate, and is ready once the
// certificate is valid, without a restart.
func TestReplicaWithoutAValidCertificateIsNotReadyAndSaysWhy(t *testing.T) {
	c := adminClient(t)
	ensureNamespace(t, c, scaleguardNamespace, nil)
	ensureNamespace(t, c, "readiness", nil)
	ca := newAuthority(t)
	port := freePort(t)
	installConfigurations(t, fmt.Sprintf("https://127.0.0.1:%d", port), ca.pem)
	dir := t.TempDir()
	r := startReplica(t, env.Config, server.Options{
		CertDir: dir, Host: "127.0.0.1", Port: port,
		InstallOptions: server.InstallOptions{Certificates: certs.FilesMode},
	})
	write := dryRunScaledObject(t, c, "readiness")

	notReady := func(want string) {
		t.Helper()
		var got string
		eventually(t, 30*time.Second, "readiness says "+want, func() bool {
			got = r.readiness("certificate")
			return strings.Contains(got, want)
		})
		if !strings.HasPrefix(got, "500") {
			t.Errorf("/readyz/certificate: %s", got)
		}
		if s := r.readiness(""); !strings.HasPrefix(s, "500") {
			t.Errorf("/readyz: %s", s)
		}
	}

	// Missing: the webhook server waits for a certificate, the process runs.
	notReady("no such file or directory")
	if err := write(0, 0); !webhookUnreachable(err) {
		t.Errorf("a write with no certificate served: %v, want the API server's webhook error", err)
	}

	// Expired: served (the server starts), not trusted by the API server.
	ca.issue(t, dir, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	notReady("the serving certificate expired at")
	if err := write(0, 1); !webhookUnreachable(err) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("a write while the certificate served is expired: %v, want the API server's x509 error", err)
	}

	// Valid: ready, and writes are judged.
	ca.issue(t, dir, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	r.waitReady(t, 30*time.Second)
	eventually(t, 10*time.Second, "a write judged once ready", func() bool { return write(0, 2) == nil })
	select {
	case <-r.finished:
		t.Fatalf("the replica exited: %v", r.err)
	default:
	}
}
