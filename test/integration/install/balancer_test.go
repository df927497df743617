package install

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// balancer stands in for a Service in front of the replicas: it forwards
// each new TCP connection to a replica whose /readyz answered 200 at its
// last poll (every 100 ms), as endpoints and kube-proxy do. Connections
// already open stay with their replica. TLS passes through.
type balancer struct {
	l        net.Listener
	mu       sync.Mutex
	backends []*backend
	next     int
}

type backend struct {
	name, addr, probe string
	ready             atomic.Bool
	// conns counts the connections sent to it; sinceUnready those sent
	// after its /readyz first failed.
	conns, sinceUnready atomic.Int64
	everUnready         atomic.Bool
}

func newBalancer(t *testing.T) *balancer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{l: l}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); l.Close() })
	go b.serve()
	go b.poll(ctx)
	return b
}

func (b *balancer) port() int { return b.l.Addr().(*net.TCPAddr).Port }

func (b *balancer) add(name string, r *replica) *backend {
	be := &backend{name: name, addr: fmt.Sprintf("127.0.0.1:%d", r.port), probe: r.probe}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.backends = append(b.backends, be)
	return be
}

func (b *balancer) poll(ctx context.Context) {
	c := &http.Client{Timeout: time.Second}
	for {
		b.mu.Lock()
		backends := append([]*backend(nil), b.backends...)
		b.mu.Unlock()
		for _, be := range backends {
			ok := false
			if resp, err := c.Get("http://" + be.probe + "/readyz"); err == nil {
				ok = resp.StatusCode == http.StatusOK
				resp.Body.Close()
			}
			if !ok && be.ready.Load() {
				be.everUnready.Store(true)
			}
			be.ready.Store(ok)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// pick chooses the next ready backend, round robin.
func (b *balancer) pick() *backend {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.backends {
		be := b.backends[(b.next+i)%len(b.backends)]
		if be.ready.Load() {
			b.next = (b.next + i + 1) % len(b.backends)
			return be
		}
	}
	return nil
}

func (b *balancer) serve() {
	for {
		in, err := b.l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer in.Close()
			be := b.pick()
			if be == nil {
				return // no endpoint: the caller sees the connection closed
			}
			be.conns.Add(1)
			if be.everUnready.Load() {
				be.sinceUnready.Add(1)
			}
			out, err := net.Dial("tcp", be.addr)
			if err != nil {
				return
			}
			defer out.Close()
			done := make(chan struct{}, 2)
			go func() { _, _ = io.Copy(out, in); done <- struct{}{} }()
			go func() { _, _ = io.Copy(in, out); done <- struct{}{} }()
			<-done
		}()
	}
}

// load writes through the API server from workers goroutines until ctx
// ends: each call of write is one admission request. It returns how many
// succeeded and the errors of those that failed.
func load(ctx context.Context, workers int, write func(worker, i int) error) (ok int64, failed []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var n atomic.Int64
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				err := write(w, i)
				if ctx.Err() != nil && err != nil {
					return // the context ended the call, not the webhook
				}
				if err != nil {
					mu.Lock()
					failed = append(failed, err)
					mu.Unlock()
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), failed
}

// dryRunScaledObject is one admission request through both of scaleguard's
// ScaledObject webhooks (the validating one fails closed): a server-side
// dry run of a clean ScaledObject.
func dryRunScaledObject(t *testing.T, c client.Client, ns string) func(worker, i int) error {
	return func(worker, i int) error {
		u := fromYAML(t, fmt.Sprintf(`
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: load-%d-%d, namespace: %s}
spec:
  scaleTargetRef: {name: llm}
  triggers:
    - type: cpu
      metricType: Utilization
      metadata: {value: "60"}
`, worker, i, ns))
		return c.Create(context.Background(), u, client.DryRunAll)
	}
}

// failOpen is how often the API server let a request through because it
// could not call one of scaleguard's webhooks (the mutating ones fail
// open, so these are lost mutations, not refusals).
func failOpen(t *testing.T) float64 {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	if f, ok := families["apiserver_admission_webhook_fail_open_count"]; ok {
		for _, m := range f.Metric {
			if scaleguardWebhook(m) {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func scaleguardWebhook(m *dto.Metric) bool {
	for _, l := range m.Label {
		if l.GetName() == "name" && strings.HasSuffix(l.GetValue(), ".scaleguard.io") {
			return true
		}
	}
	return false
}
