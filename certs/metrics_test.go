package certs_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scaleguard/scaleguard/certs"
)

func TestExpiryCollectorFollowsTheFile(t *testing.T) {
	dir := t.TempDir()
	c := certs.ExpiryCollector(dir)
	if n := testutil.CollectAndCount(c, "scaleguard_certificate_expiration_timestamp_seconds"); n != 0 {
		t.Fatalf("%d samples without a certificate, want none", n)
	}
	now := time.Now().Truncate(time.Second)
	// A rotated certificate shows at the next scrape.
	for _, notAfter := range []time.Time{now.Add(90 * 24 * time.Hour), now.Add(3 * 24 * time.Hour)} {
		writePair(t, dir, now.Add(-time.Hour), notAfter)
		if got := testutil.ToFloat64(c); got != float64(notAfter.Unix()) {
			t.Errorf("expiry %v, want %v", got, notAfter.Unix())
		}
	}
	if err := os.WriteFile(filepath.Join(dir, certs.CertName), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Errorf("%d samples from an unreadable certificate, want none", n)
	}
}
