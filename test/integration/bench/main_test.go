// Package bench measures `scaleguard serve` from outside, against a real
// kube-apiserver and etcd: its memory with informers holding a large
// cluster, its HTTPS admission latency and throughput against a no-op
// webhook on the same server, the API calls it makes while answering, and
// the wall time of creates through the API server with and without its
// webhooks. Sizes come from the environment (bench.EnvInt); unset, each
// harness runs once at a tiny size in seconds and asserts only that it
// works. `make bench` runs them at the sizes BENCHMARKS.md reports.
package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"go.uber.org/zap/zapcore"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/controlplane"
	"github.com/scaleguard/scaleguard/internal/server"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

var env *controlplane.Env

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	var err error
	// The population holds thousands of Services.
	env, err = controlplane.Start(controlplane.Options{ServiceIPRange: "10.96.0.0/16"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "control plane:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stopping the control plane:", err)
		}
	}()
	return m.Run()
}

// fastConfig is an admin config without client-side throttling.
func fastConfig() *rest.Config {
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = 5000, 5000
	return cfg
}

func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(fastConfig(), client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	n, err := bench.EnvInt(name, def)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// NoopPath is where the no-op webhook is mounted beside scaleguard's.
const NoopPath = "/bench-noop"

// noop is the floor: controller-runtime's admission webhook with a handler
// that admits everything. It reads and decodes the review and writes the
// answer, as any webhook built on controller-runtime must.
var noop = &webhook.Admission{Handler: admission.HandlerFunc(func(context.Context, admission.Request) admission.Response {
	noopCalls.Add(1)
	return admission.Allowed("")
})}

// noopCalls counts the no-op webhook's requests.
var noopCalls atomic.Int64

// DecodePath is where the decode-only webhook is mounted.
const DecodePath = "/bench-decode"

// decodeOnly is the floor of any webhook that reads the object it judges:
// the no-op, plus decoding the object (and the old object of an UPDATE)
// into its Go type as scaleguard's handler does, once each.
var decodeOnly = &webhook.Admission{Handler: admission.HandlerFunc(func(_ context.Context, req admission.Request) admission.Response {
	gvk := schema.GroupVersionKind(req.Kind)
	for _, raw := range [][]byte{req.Object.Raw, req.OldObject.Raw} {
		if len(raw) == 0 {
			continue
		}
		if _, ok := apis.DecodeExact(gvk, raw); !ok {
			if _, err := apis.Decode(gvk, raw); err != nil {
				return admission.Errored(http.StatusBadRequest, err)
			}
		}
	}
	return admission.Allowed("")
})}

// counter counts the requests a rest.Config's client sends, by method and
// path, from when it is armed.
type counter struct {
	armed atomic.Bool
	mu    sync.Mutex
	seen  map[string]int
}

func (c *counter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if c.armed.Load() {
			k := r.Method + " " + r.URL.Path
			if r.URL.Query().Get("watch") == "true" {
				k += "?watch"
			}
			c.mu.Lock()
			c.seen[k]++
			c.mu.Unlock()
		}
		return rt.RoundTrip(r)
	})
}

func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.seen
	c.seen = map[string]int{}
	return out
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// serve starts `scaleguard serve` in this process on the port the
// installed webhook configurations call, with the no-op webhook mounted
// beside its own, its API requests counted by c (when not nil); stop
// shuts it down.
func serve(t *testing.T, o server.Options, c *counter) (srv *server.Server, stop func()) {
	t.Helper()
	cfg := fastConfig()
	if c != nil {
		c.seen = map[string]int{}
		cfg.Wrap(c.wrap)
	}
	wio := env.WebhookInstallOptions
	probe, err := controlplane.LoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	o.CertDir, o.Host, o.Port, o.MetricsAddr, o.ProbeAddr = wio.LocalServingCertDir, wio.LocalServingHost, wio.LocalServingPort, "0", probe
	// serve's default. net/http's Shutdown counts a connection that has
	// not sent its first request yet as active for up to 5 seconds, and
	// the API server's client keeps spare connections it dialled while
	// another freed up: 5 seconds would not always be enough.
	o.GracefulShutdown = 15 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	// Logged as in a cluster (info level, JSON), to nowhere.
	srv, err = server.New(ctx, cfg, o, zap.New(zap.WriteTo(io.Discard)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv.Webhooks.Register(NoopPath, noop)
	srv.Webhooks.Register(DecodePath, decodeOnly)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Manager.Start(ctx); err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	if err := controlplane.WaitReady(context.Background(), "http://"+probe+"/readyz", 120*time.Second, done); err != nil {
		cancel()
		t.Fatal(err)
	}
	return srv, func() {
		// As `scaleguard serve` stops: the webhook server first, its
		// requests answered, then the manager and the caches they read.
		if !srv.StopWebhooks(o.GracefulShutdown) {
			t.Error("requests still in flight after the graceful shutdown timeout")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s")
		}
	}
}

// base is the URL of the webhook server.
func base() string {
	wio := env.WebhookInstallOptions
	return fmt.Sprintf("https://%s:%d", wio.LocalServingHost, wio.LocalServingPort)
}

// createAll creates objs with concurrency workers; objects that exist
// already are left as they are.
func createAll(t *testing.T, c client.Client, objs []client.Object, concurrency int) {
	t.Helper()
	work := make(chan client.Object)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				err := createRetrying(c, o)
				if err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("%T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	if first != nil {
		t.Fatal(first)
	}
}

// createRetrying creates a copy of o, trying again a few times when the
// API server answers that it is overloaded (a timeout, a quota evaluation
// that timed out, too many requests): populating a loaded machine meets
// those, and they say nothing of what is measured.
func createRetrying(c client.Client, o client.Object) error {
	var err error
	for attempt := range 5 {
		err = c.Create(context.Background(), o.DeepCopyObject().(client.Object))
		if !apierrors.IsInternalError(err) && !apierrors.IsServerTimeout(err) && !apierrors.IsTimeout(err) && !apierrors.IsTooManyRequests(err) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	return err
}

// populated is the size of the population created so far.
var populated int

// populate creates a bench.Population of n spread over namespaces, and the
// objects the admission mix relates to, with scaleguard's webhooks
// removed (nothing judges them yet); they stay for the following tests.
func populate(t *testing.T, n int) {
	t.Helper()
	if populated >= n {
		return
	}
	objs, err := bench.Population(n, "")
	if err != nil {
		t.Fatal(err)
	}
	mix, err := bench.MixObjects()
	if err != nil {
		t.Fatal(err)
	}
	// Namespaces first.
	var nss, rest []client.Object
	for _, o := range append(objs, mix...) {
		if o.GetNamespace() == "" {
			nss = append(nss, o)
		} else {
			rest = append(rest, o)
		}
	}
	setWebhooks(t, false)
	defer setWebhooks(t, true)
	c := newClient(t)
	start := time.Now()
	createAll(t, c, nss, 8)
	createAll(t, c, rest, 16)
	t.Logf("created a population of %d (%d objects) in %s; load average %s", n, len(nss)+len(rest), time.Since(start).Round(time.Millisecond), bench.LoadAverage())
	populated = n
}

// The webhook configurations installed: scaleguard's (those the control
// plane installed at start), the same configurations calling the no-op
// webhook instead, or none.
const (
	webhooksScaleguard = "scaleguard"
	webhooksNoop       = "no-op"
	webhooksNone       = "none"
)

var webhooksInstalled = webhooksScaleguard

// setWebhooks installs or removes scaleguard's webhook configurations (on)
// as setWebhookMode does.
func setWebhooks(t *testing.T, on bool) {
	t.Helper()
	if on {
		setWebhookMode(t, webhooksScaleguard)
	} else {
		setWebhookMode(t, webhooksNone)
	}
}

// setWebhookMode installs the configurations of a mode and, when a server
// answers, waits until the API server follows: a dry-run create that
// scaleguard denies is denied with scaleguard's, admitted through the
// no-op webhook with the no-op's, and admitted without any call with none.
func setWebhookMode(t *testing.T, mode string) {
	t.Helper()
	if webhooksInstalled == mode {
		return
	}
	ctx := context.Background()
	c := newClient(t)
	wio := env.WebhookInstallOptions
	path := func(cc admissionregistrationv1.WebhookClientConfig) admissionregistrationv1.WebhookClientConfig {
		if mode != webhooksNoop || cc.URL == nil {
			return cc
		}
		u, err := url.Parse(*cc.URL)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = NoopPath
		cc.URL = ptr.To(u.String())
		return cc
	}
	var objs []client.Object
	for _, m := range wio.MutatingWebhooks {
		obj := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: m.Name}}
		for _, w := range m.Webhooks {
			w.ClientConfig = path(w.ClientConfig)
			obj.Webhooks = append(obj.Webhooks, w)
		}
		objs = append(objs, obj)
	}
	for _, v := range wio.ValidatingWebhooks {
		obj := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: v.Name}}
		for _, w := range v.Webhooks {
			w.ClientConfig = path(w.ClientConfig)
			obj.Webhooks = append(obj.Webhooks, w)
		}
		objs = append(objs, obj)
	}
	for _, obj := range objs {
		toggle(t, c, obj.DeepCopyObject().(client.Object), false)
	}
	if mode != webhooksNone {
		for _, obj := range objs {
			toggle(t, c, obj, true)
		}
	}
	webhooksInstalled = mode
	deadline := time.Now().Add(30 * time.Second)
	for {
		calls := noopCalls.Load()
		denied, err := probe(ctx, c)
		reached := noopCalls.Load() > calls
		switch {
		case mode == webhooksScaleguard && (denied || err != nil),
			mode == webhooksNoop && !denied && err == nil && reached,
			mode == webhooksNone && !denied && err == nil && !reached:
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API server did not follow the %s webhook configurations within 30s (denied %v, no-op reached %v, %v)", mode, denied, reached, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func toggle(t *testing.T, c client.Client, obj client.Object, on bool) {
	t.Helper()
	var err error
	if on {
		err = c.Create(context.Background(), obj)
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
	} else {
		err = client.IgnoreNotFound(c.Delete(context.Background(), obj))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// probe dry-runs the create of a ScaledObject with an unscoped query in
// the default namespace: scaleguard denies it.
func probe(ctx context.Context, c client.Client) (denied bool, err error) {
	so := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook-probe", Namespace: "default"},
		Spec: kedav1alpha1.ScaledObjectSpec{
			ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "probe"},
			Triggers: []kedav1alpha1.ScaleTriggers{{Type: "prometheus", Metadata: map[string]string{
				"serverAddress": "http://prometheus:9090", "query": "sum(vllm:num_requests_waiting)", "threshold": "1",
			}}},
		},
	}
	err = c.Create(ctx, so, client.DryRunAll)
	if err == nil {
		return false, nil
	}
	if apierrors.IsInvalid(err) && strings.Contains(err.Error(), "promql-unscoped") {
		return true, nil
	}
	return false, err
}
