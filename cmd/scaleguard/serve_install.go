package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"

	"github.com/scaleguard/scaleguard/certs"
	"github.com/scaleguard/scaleguard/internal/server"
)

// serviceAccountNamespace is where the kubelet writes the pod's namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// addInstallFlags adds the flags of how serve runs in a cluster.
func addInstallFlags(f *pflag.FlagSet, o *server.InstallOptions, shutdownDelay *time.Duration) {
	modes := make([]string, len(certs.Modes))
	for i, m := range certs.Modes {
		modes[i] = string(m)
	}
	f.Var(newModeValue(&o.Certificates, certs.SelfManagedMode), "cert-mode", "where the serving certificate comes from: "+strings.Join(modes, ", ")+
		" (self-managed: a CA and certificate serve keeps in --cert-secret and injects into its webhook configurations; cert-manager: the Certificate --certificate issues into --cert-secret; files: tls.crt and tls.key put in --cert-dir by something else)")
	f.StringVar(&o.Namespace, "namespace", podNamespace(), "scaleguard's own namespace, which holds --cert-secret and --certificate (default: the pod's)")
	f.StringVar(&o.CertSecret, "cert-secret", server.DefaultSecret, "Secret of the serving certificate (modes self-managed and cert-manager)")
	f.StringVar(&o.CertificateName, "certificate", server.DefaultCertificate, "cert-manager Certificate whose Ready condition readiness waits for (mode cert-manager)")
	f.StringVar(&o.ServiceName, "webhook-service", server.DefaultService, "Service in front of the webhooks, whose DNS names the self-managed certificate holds")
	f.DurationVar(&o.Rotation.RenewBefore, "cert-renew-before", 0, "renew the self-managed certificate (and CA) this long before they expire (default 90 days)")
	f.BoolVar(&o.EnableHTTP2, "enable-http2", false, "serve the webhooks and metrics over HTTP/2 too (off: HTTP/2 servers were open to the rapid-reset denial of service)")
	f.BoolVar(&o.SecureMetrics, "metrics-secure", true, "serve /metrics over HTTPS, only to clients allowed to get the non-resource URL /metrics (a TokenReview and a SubjectAccessReview per scrape)")
	f.StringSliceVar(&o.ExcludedNamespaces, "excluded-namespaces", server.ExcludedNamespaces, "namespaces never judged or touched: the same list as the webhook configurations' namespaceSelector")
	f.DurationVar(shutdownDelay, "shutdown-delay", 5*time.Second, "on SIGTERM, stay up this long not ready (the replica leaves the Service's endpoints, answering what still arrives) before finishing the requests in flight and exiting")
}

// modeValue is a certs.Mode flag that refuses unknown modes.
type modeValue struct{ m *certs.Mode }

func newModeValue(m *certs.Mode, def certs.Mode) *modeValue {
	*m = def
	return &modeValue{m}
}

func (v *modeValue) String() string { return string(*v.m) }
func (v *modeValue) Type() string   { return "mode" }
func (v *modeValue) Set(s string) error {
	for _, m := range certs.Modes {
		if string(m) == s {
			*v.m = m
			return nil
		}
	}
	return fmt.Errorf("unknown certificate mode %q", s)
}

// podNamespace is the namespace the pod runs in, or the shipped one
// outside a cluster.
func podNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if b, err := os.ReadFile(serviceAccountNamespace); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b))
	}
	return server.DefaultNamespace
}

// drainOnSignal returns a context that ends after the first SIGTERM or
// interrupt: drain is called at the signal, so that the replica is not
// ready while it still answers; delay later, stop stops the webhooks
// (answering what is in flight); then the context ends. A second signal
// cuts the delay short, a third exits.
func drainOnSignal(drain, stop func(), delay time.Duration, log logr.Logger) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 3)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		log.Info("shutting down: not ready from now on, still answering", "for", delay)
		drain()
		select {
		case <-time.After(delay):
		case <-sig:
		}
		log.Info("stopping: finishing the requests in flight")
		stop()
		cancel()
		<-sig
		os.Exit(1)
	}()
	return ctx
}
