// Package certs checks and serves the webhook's TLS material.
//
// The webhook server reads tls.crt and tls.key from a directory and reloads
// them when they change (cert-manager and the kubelet rotate them in
// place). CheckDir tells an operator, before the server starts, what is
// wrong with that directory in words they can act on.
package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// File names in the certificate directory, as cert-manager and
// controller-runtime write and read them.
const (
	CertName = "tls.crt"
	KeyName  = "tls.key"
)

// CheckDir verifies that dir holds a readable serving certificate and key
// that belong together and that the certificate is valid at now. It returns
// the leaf certificate.
func CheckDir(dir string, now time.Time) (*x509.Certificate, error) {
	leaf, err := loadPair(dir)
	if err != nil {
		return nil, err
	}
	certPath := filepath.Join(dir, CertName)
	if now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("serving certificate %s is not valid before %s", certPath, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("serving certificate %s expired at %s", certPath, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return leaf, nil
}

// loadPair reads the certificate and key of dir, which must belong
// together, and returns the leaf, whatever its validity.
func loadPair(dir string) (*x509.Certificate, error) {
	if dir == "" {
		return nil, errors.New("no certificate directory given (--cert-dir)")
	}
	certPath, keyPath := filepath.Join(dir, CertName), filepath.Join(dir, KeyName)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("serving certificate: %w (mount a Secret with %s and %s at --cert-dir)", err, CertName, KeyName)
		}
	}
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("serving certificate in %s: %w", dir, err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("serving certificate %s: %w", certPath, err)
	}
	return leaf, nil
}
