// Package conflictrace measures how often two ScaledObjects created for one
// workload both get through the real API server, with scaleguard's webhook
// run as one or two replicas behind a TCP load balancer (as a Service
// spreads connections over pods), judging CREATEs from the informer cache
// alone or with the read-through and claims of clusterview.Cache.ForCreate.
// BENCHMARKS.md quotes its output.
package conflictrace

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/scaleguard/scaleguard/internal/controlplane"
	"github.com/scaleguard/scaleguard/internal/server"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

var (
	env *controlplane.Env
	lb  *balancer
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	var err error
	env, err = controlplane.Start(controlplane.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "control plane:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()
	wio := env.WebhookInstallOptions
	lb, err = listenBalancer(net.JoinHostPort(wio.LocalServingHost, fmt.Sprint(wio.LocalServingPort)), wio.LocalServingCertDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load balancer:", err)
		return 1
	}
	defer lb.close()
	return m.Run()
}

// fastConfig is an admin config without client-side throttling, so
// requests go out back to back.
func fastConfig() *rest.Config {
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 5000, 5000
	return cfg
}

// replicas runs n webhook servers with the options and routes the API
// server's calls to them by connection or by request; stop shuts them down.
func replicas(t *testing.T, n int, byRequest bool, o server.Options) (servers []*server.Server, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var addrs []string
	wio := env.WebhookInstallOptions
	for i := 0; i < n; i++ {
		port, probe := freePort(t), freeAddr(t)
		o := o
		o.CertDir, o.Host, o.Port, o.MetricsAddr, o.ProbeAddr, o.GracefulShutdown = wio.LocalServingCertDir, "127.0.0.1", port, "0", probe, 10*time.Second
		srv, err := server.New(ctx, fastConfig(), o, ctrl.Log.WithName(fmt.Sprintf("replica-%d", i)))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Manager.Start(ctx); err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
		}()
		if err := controlplane.WaitReady(context.Background(), "http://"+probe+"/readyz", 60*time.Second, nil); err != nil {
			cancel()
			t.Fatal(err)
		}
		servers = append(servers, srv)
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	}
	lb.route(addrs, byRequest)
	return servers, func() {
		lb.route(nil, false)
		cancel()
		wg.Wait()
	}
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

func freeAddr(t *testing.T) string {
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(freePort(t)))
}

// balancer stands where the webhook Service would. By connection, it
// spreads connections at random over the replicas, as kube-proxy does; the
// API server multiplexes its webhook calls over one HTTP/2 connection, so
// one replica answers them all until it reconnects. By request, it
// terminates TLS and sends each request to a random replica: the spread
// several kube-apiservers (each with its own connection) give, and the
// worst case for anything kept per replica.
type balancer struct {
	ln      net.Listener
	mu      sync.Mutex
	byReq   bool
	targets []string
	conns   map[net.Conn]bool
	counts  map[string]int
	reqs    chan net.Conn // connections for the request-level proxy
	upTo    *http.Transport
}

func listenBalancer(addr, certDir string) (*balancer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	b := &balancer{ln: ln, conns: map[net.Conn]bool{}, counts: map[string]int{}, reqs: make(chan net.Conn),
		upTo: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 100}}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "https", Host: b.pick()})
		},
		Transport: b.upTo,
	}
	srv := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_ = srv.ServeTLS(chanListener{b.reqs, ln.Addr()}, filepath.Join(certDir, "tls.crt"), filepath.Join(certDir, "tls.key"))
	}()
	go b.serve()
	return b, nil
}

func (b *balancer) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			close(b.reqs)
			return
		}
		b.mu.Lock()
		byReq := b.byReq
		b.mu.Unlock()
		if byReq {
			b.track(c)
			b.reqs <- c
			continue
		}
		go b.splice(c)
	}
}

// pick chooses a replica at random and counts it.
func (b *balancer) pick() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.targets) == 0 {
		return "127.0.0.1:1"
	}
	t := b.targets[rand.Intn(len(b.targets))]
	b.counts[t]++
	return t
}

func (b *balancer) splice(c net.Conn) {
	up, err := net.Dial("tcp", b.pick())
	if err != nil {
		c.Close()
		return
	}
	b.track(c, up)
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	b.untrack(c, up)
}

func (b *balancer) track(cs ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range cs {
		b.conns[c] = true
	}
}

func (b *balancer) untrack(cs ...net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range cs {
		delete(b.conns, c)
	}
}

// route switches to new replicas and drops every open connection, so the
// API server reconnects through the new routing.
func (b *balancer) route(addrs []string, byRequest bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.targets, b.byReq = addrs, byRequest
	b.counts = map[string]int{}
	for c := range b.conns {
		c.Close()
	}
	b.conns = map[net.Conn]bool{}
	b.upTo.CloseIdleConnections()
}

// spread reports how many connections (by connection) or requests (by
// request) each replica received.
func (b *balancer) spread() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []int
	for _, a := range b.targets {
		out = append(out, b.counts[a])
	}
	return out
}

func (b *balancer) close() { b.ln.Close() }

// chanListener hands accepted connections to an http.Server.
type chanListener struct {
	c    chan net.Conn
	addr net.Addr
}

func (l chanListener) Accept() (net.Conn, error) {
	c, ok := <-l.c
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}

func (l chanListener) Close() error   { return nil }
func (l chanListener) Addr() net.Addr { return l.addr }
