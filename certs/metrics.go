package certs

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
)

var expiryDesc = prometheus.NewDesc("scaleguard_certificate_expiration_timestamp_seconds",
	"When the webhook's serving certificate (tls.crt in --cert-dir, the file the server reloads) expires, in seconds since the epoch.",
	nil, nil)

// ExpiryCollector reports the expiry of the serving certificate in dir,
// read at each scrape so that a rotated certificate shows at once. A
// certificate that cannot be read reports nothing (the server itself says
// why, and refuses to start without one).
func ExpiryCollector(dir string) prometheus.Collector { return expiryCollector{dir} }

type expiryCollector struct{ dir string }

func (c expiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- expiryDesc }

func (c expiryCollector) Collect(ch chan<- prometheus.Metric) {
	b, err := os.ReadFile(filepath.Join(c.dir, CertName))
	if err != nil {
		return
	}
	// The leaf is the first certificate of the file.
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, float64(leaf.NotAfter.Unix()))
}
