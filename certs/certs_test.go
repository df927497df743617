package certs_test

import (
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

	"github.com/scaleguard/scaleguard/certs"
)

func writePair(t *testing.T, dir string, notBefore, notAfter time.Time) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scaleguard-webhook.scaleguard-system.svc"},
		NotBefore: notBefore, NotAfter: notAfter, DNSNames: []string{"scaleguard-webhook.scaleguard-system.svc"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	must(t, os.WriteFile(filepath.Join(dir, certs.CertName), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, certs.KeyName), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return key
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestCheckDir(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

	good := t.TempDir()
	writePair(t, good, now.Add(-time.Hour), now.Add(time.Hour))
	if leaf, err := certs.CheckDir(good, now); err != nil || leaf.Subject.CommonName != "scaleguard-webhook.scaleguard-system.svc" {
		t.Fatalf("good pair: %v", err)
	}

	expired := t.TempDir()
	writePair(t, expired, now.Add(-2*time.Hour), now.Add(-time.Hour))

	mismatch := t.TempDir()
	writePair(t, mismatch, now.Add(-time.Hour), now.Add(time.Hour))
	other := t.TempDir()
	writePair(t, other, now.Add(-time.Hour), now.Add(time.Hour))
	key, _ := os.ReadFile(filepath.Join(other, certs.KeyName))
	must(t, os.WriteFile(filepath.Join(mismatch, certs.KeyName), key, 0o600))

	empty := t.TempDir()

	for name, tc := range map[string]struct{ dir, want string }{
		"no dir":                     {"", "no certificate directory"},
		"empty dir":                  {empty, "tls.crt: no such file or directory"},
		"expired":                    {expired, "expired at"},
		"key of another certificate": {mismatch, "private key does not match public key"},
	} {
		if _, err := certs.CheckDir(tc.dir, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}
