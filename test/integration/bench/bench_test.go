package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/server"
)

// The tests run in this order: memory first, on an empty cluster then on
// the population; the HTTPS load on the populated cluster; creates through
// the API server last, in namespaces of their own.
//
//	SCALEGUARD_BENCH_POPULATION  population size n (bench.Population; default 20)
//	SCALEGUARD_BENCH_BLOCK       duration of one load block (default 200ms)
//	SCALEGUARD_BENCH_ROUNDS      alternating rounds per concurrency (default 1)
//	SCALEGUARD_BENCH_CONCURRENCY concurrencies of the load (default 1,16,64)
//	SCALEGUARD_BENCH_CREATES     creates per side through the API server (default 8)
//	SCALEGUARD_BENCH_CREATE_BLOCKS blocks per side (default 2)

// TestMemory measures the Go heap and the resident memory `serve` takes
// with its informers holding the population, with clusterview.Transform
// and without (the cache's transform a no-op), as the difference from an
// empty cluster; and reports bytes per cached object.
func TestMemory(t *testing.T) {
	n := envInt(t, "SCALEGUARD_BENCH_POPULATION", 20)
	var empty memory
	if populated == 0 {
		empty = measureServe(t, nil)
		t.Logf("serve on an empty cluster: heap %s, RSS %s (objects cached %d); load average %s", kib(empty.heap), kib(empty.rss), empty.objects, bench.LoadAverage())
	}
	populate(t, n)
	t.Logf("| transform | objects cached | Go heap | heap per object | RSS | RSS per object | load average |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- |")
	type variant struct {
		name      string
		transform func(any) (any, error)
	}
	variants := map[string]variant{
		"transform": {"clusterview.Transform", nil},
		"none":      {"none", func(in any) (any, error) { return in, nil }},
	}
	// A stopped serve does not give all its memory back to the process,
	// so only the first row of a process is clean: make bench runs one
	// variant per process.
	names, err := bench.EnvStrings("SCALEGUARD_BENCH_MEMORY", []string{"transform", "none"})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		c, ok := variants[name]
		if !ok {
			t.Fatalf("SCALEGUARD_BENCH_MEMORY: %q is neither transform nor none", name)
		}
		if i > 0 {
			t.Logf("(the next row is measured after another serve in the same process: it is not clean)")
		}
		m := measureServe(t, c.transform)
		if m.objects < n {
			t.Fatalf("serve cached %d objects, want at least %d", m.objects, n)
		}
		objs := m.objects - empty.objects
		t.Logf("| %s | %d | %s | %.0f B | %s | %.0f B | %s |", c.name, m.objects, kib(m.heap-empty.heap),
			float64(m.heap-empty.heap)/float64(objs), kib(m.rss-empty.rss), float64(m.rss-empty.rss)/float64(objs), bench.LoadAverage())
	}
	if populated > 0 && empty.objects == 0 && empty.heap == 0 {
		t.Logf("(the cluster was populated before this test: the figures include serve's fixed cost)")
	}
}

type memory struct {
	heap, rss int64
	objects   int
}

// measureServe starts serve with the cache transform given (nil: the
// default), waits for its caches, and returns how much the heap and the
// resident set grew, and how many objects its cache holds.
func measureServe(t *testing.T, transform func(any) (any, error)) memory {
	t.Helper()
	h0, r0 := settled()
	srv, stop := serve(t, server.Options{CacheTransform: transform}, nil)
	objects := cached(t, srv)
	h1, r1 := settled()
	srv = nil
	stop()
	// The next measurement starts from here: wait until what this serve
	// held is released, or say that it was not.
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, _ := settled()
		if h <= h0+1<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Logf("(5s after serve stopped, the heap is still %s above where it started: the next row counts it)", kib(h-h0))
			break
		}
		time.Sleep(time.Second)
	}
	return memory{heap: h1 - h0, rss: r1 - r0, objects: objects}
}

// settled collects garbage, returns freed memory to the system and reads
// the live heap and the resident set.
func settled() (heap, rss int64) {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc), residentSet()
}

func residentSet() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cached counts the objects of every watched kind in serve's cache.
func cached(t *testing.T, srv *server.Server) int {
	t.Helper()
	total := 0
	for _, proto := range clusterview.Watched {
		gvk, err := apiutil.GVKForObject(proto, apis.Scheme)
		if err != nil {
			t.Fatal(err)
		}
		if !srv.View.Served()[gvk] {
			continue
		}
		var list client.ObjectList
		if apis.IsUnstructured(gvk) {
			list = apis.NewUnstructuredList(gvk)
		} else {
			l, err := apis.Scheme.New(schema.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind + "List"})
			if err != nil {
				t.Fatal(err)
			}
			list = l.(client.ObjectList)
		}
		if err := srv.Manager.GetCache().List(context.Background(), list, client.UnsafeDisableDeepCopy); err != nil {
			t.Fatal(err)
		}
		total += meta.LenList(list)
	}
	return total
}

func kib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// TestHTTPSAdmission sends bench.Mix to serve's webhook endpoints and the
// same reviews to the no-op webhook and to the decode-only webhook on the
// same server, in alternating blocks, at each concurrency; it reports
// throughput and latency quantiles of each and scaleguard's ratios to both
// floors, and counts the requests serve makes
// to the API server meanwhile (by its transport, and by client-go's
// rest_client_requests_total) — none is expected but watches and
// discovery, which run on their own schedule.
func TestHTTPSAdmission(t *testing.T) {
	populate(t, envInt(t, "SCALEGUARD_BENCH_POPULATION", 20))
	block, err := bench.EnvDuration("SCALEGUARD_BENCH_BLOCK", 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	rounds := envInt(t, "SCALEGUARD_BENCH_ROUNDS", 1)
	concurrencies, err := bench.EnvInts("SCALEGUARD_BENCH_CONCURRENCY", []int{1, 16, 64})
	if err != nil {
		t.Fatal(err)
	}
	calls := &counter{}
	_, stop := serve(t, server.Options{}, calls)
	defer stop()
	mix, err := bench.Mix()
	if err != nil {
		t.Fatal(err)
	}
	floor := make([]bench.Post, len(mix))
	decode := make([]bench.Post, len(mix))
	for i, p := range mix {
		floor[i] = bench.Post{Path: NoopPath, Body: p.Body}
		decode[i] = bench.Post{Path: DecodePath, Body: p.Body}
	}
	hc, err := bench.Client(env.WebhookInstallOptions.LocalServingCAData)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sides := []bench.Side{{Name: "no-op", Posts: floor}, {Name: "decode only", Posts: decode}, {Name: "scaleguard", Posts: mix}}
	// Warm up every side (connections, caches, first-use allocations).
	if _, err := bench.Compare(ctx, base(), hc, sides, 4, 1, block/2+50*time.Millisecond, bench.MaxLoadRequests); err != nil {
		t.Fatal(err)
	}

	before := clientGoRequests(t)
	calls.armed.Store(true)
	t.Logf("%d requests in the mix; blocks of %s, %d rounds per concurrency", len(mix), block, rounds)
	t.Logf("ratios: against the no-op floor, and (after /) against the decode-only floor")
	t.Logf("| concurrency | side | requests | req/s | p50 | p99 | p99.9 | CPU/request | throughput ratio | p99 ratio | load average |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range concurrencies {
		la := bench.LoadAverage()
		samples, err := bench.Compare(ctx, base(), hc, sides, c, rounds, block, bench.MaxLoadRequests)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range samples {
			if s.Failed > 0 || s.Requests() == 0 {
				t.Fatalf("%s at concurrency %d: %d requests, %d failed (first: %v)", sides[i].Name, c, s.Requests(), s.Failed, s.FirstError)
			}
		}
		f, d := samples[0], samples[1]
		p99 := func(s bench.Sample) float64 { return float64(bench.Quantile(s.Latencies, .99)) }
		for i, s := range samples {
			ratios := "| |"
			switch i {
			case 1:
				ratios = fmt.Sprintf("| %.2f | %.2f |", s.Throughput()/f.Throughput(), p99(s)/p99(f))
			case 2:
				ratios = fmt.Sprintf("| %.2f / %.2f | %.2f / %.2f |", s.Throughput()/f.Throughput(), s.Throughput()/d.Throughput(), p99(s)/p99(f), p99(s)/p99(d))
			}
			t.Logf("| %d | %s | %d | %.0f | %s | %s | %s | %s %s %s → %s |", c, sides[i].Name, s.Requests(), s.Throughput(),
				us(bench.Quantile(s.Latencies, .5)), us(bench.Quantile(s.Latencies, .99)), us(bench.Quantile(s.Latencies, .999)), us(s.CPUPerRequest()), ratios, la, bench.LoadAverage())
		}
	}
	calls.armed.Store(false)
	after := clientGoRequests(t)
	seen := calls.take()
	var keys []string
	onPath := 0
	for k, v := range seen {
		keys = append(keys, fmt.Sprintf("%s: %d", k, v))
		if !background(k) {
			onPath += v
		}
	}
	sort.Strings(keys)
	t.Logf("API requests serve made during the load: %d (by its transport: %v); client-go rest_client_requests_total grew by %.0f", len(keys), keys, after-before)
	if onPath > 0 {
		t.Errorf("serve made %d API requests other than watches and discovery while answering reviews: %v", onPath, keys)
	}

	// CREATEs take claims, dry runs do not: the same validating CREATE
	// reviews of the mix, as real creates and as dry runs.
	var real, dry []bench.Post
	for _, p := range mix {
		if strings.HasPrefix(p.Path, "/validate-keda-sh-v1alpha1-scaledobject") && strings.Contains(string(p.Body), `"operation":"CREATE"`) {
			real = append(real, p)
			dry = append(dry, bench.Post{Path: p.Path, Body: []byte(strings.Replace(string(p.Body), `"dryRun":false`, `"dryRun":true`, 1))})
		}
	}
	claimSides := []bench.Side{{Name: "dry-run CREATE", Posts: dry}, {Name: "CREATE", Posts: real}}
	la := bench.LoadAverage()
	samples, err := bench.Compare(ctx, base(), hc, claimSides, 16, rounds, block, bench.MaxLoadRequests)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("| validating ScaledObject CREATE, concurrency 16 | requests | req/s | p50 | p99 | throughput ratio | load average |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- |")
	for i, s := range samples {
		if s.Failed > 0 || s.Requests() == 0 {
			t.Fatalf("%s: %d requests, %d failed (first: %v)", claimSides[i].Name, s.Requests(), s.Failed, s.FirstError)
		}
		ratio := ""
		if i == 1 {
			ratio = fmt.Sprintf("%.2f", s.Throughput()/samples[0].Throughput())
		}
		t.Logf("| %s | %d | %.0f | %s | %s | %s | %s → %s |", claimSides[i].Name, s.Requests(), s.Throughput(),
			us(bench.Quantile(s.Latencies, .5)), us(bench.Quantile(s.Latencies, .99)), ratio, la, bench.LoadAverage())
	}
}

// background reports whether a request key (method, path and ?watch) is a
// watch or discovery, which run on their own schedule, not per review.
func background(k string) bool {
	if strings.HasSuffix(k, "?watch") {
		return true
	}
	_, path, _ := strings.Cut(k, " ")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/api" || path == "/apis" || path == "/version":
		return true
	case parts[0] == "api" && len(parts) <= 2, parts[0] == "apis" && len(parts) <= 3:
		return true
	}
	return false
}

// clientGoRequests sums client-go's rest_client_requests_total of this
// process.
func clientGoRequests(t *testing.T) float64 {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, mf := range mfs {
		if mf.GetName() == "rest_client_requests_total" {
			for _, m := range mf.GetMetric() {
				total += counterValue(m)
			}
		}
	}
	return total
}

func counterValue(m *dto.Metric) float64 {
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return 0
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1e3) }

// TestThroughAPIServer creates ScaledObjects through the API server, each
// on a Deployment of its own, with scaleguard's webhooks installed, with
// the same configurations calling the no-op webhook (what any webhook
// costs the API server) and with none, in alternating blocks on one
// control plane, each side in a namespace of its own that fills as the
// run goes, at SCALEGUARD_BENCH_CREATE_CONCURRENCY (8); it reports the wall
// time of each side, their ratio and the client's latency quantiles.
func TestThroughAPIServer(t *testing.T) {
	n := envInt(t, "SCALEGUARD_BENCH_CREATES", 8)
	blocks := envInt(t, "SCALEGUARD_BENCH_CREATE_BLOCKS", 2)
	// 8 clients keep both cores of a small machine busy, so the webhooks'
	// CPU shows in the wall time; one client shows the latency they add
	// when CPU is to spare, as where the webhook runs on other nodes.
	concurrency := envInt(t, "SCALEGUARD_BENCH_CREATE_CONCURRENCY", 8)
	if concurrency < 1 {
		t.Fatalf("SCALEGUARD_BENCH_CREATE_CONCURRENCY=%d: give at least one client", concurrency)
	}
	p, err := bench.LoadPrototypes()
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t)
	sides := []string{"with webhooks", "no-op webhooks", "without webhooks"}
	nsOf := map[string]string{"with webhooks": "bench-with", "no-op webhooks": "bench-noop", "without webhooks": "bench-without"}
	modeOf := map[string]string{"with webhooks": webhooksScaleguard, "no-op webhooks": webhooksNoop, "without webhooks": webhooksNone}
	for _, side := range sides {
		ns := nsOf[side]
		objs := []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}}
		for i := range n {
			objs = append(objs, bench.Deployment(p, ns, fmt.Sprintf("target-%05d", i), i%4 == 0))
		}
		createAll(t, c, objs[:1], 1)
		createAll(t, c, objs[1:], 16)
	}
	_, stop := serve(t, server.Options{}, nil)
	defer stop()
	defer setWebhooks(t, true)

	type result struct {
		wall      time.Duration
		latencies []time.Duration
		medians   []time.Duration
		calls     callTimes
	}
	results := map[string]*result{}
	for _, s := range sides {
		results[s] = &result{}
	}
	per := max(n/blocks, 1)
	la := bench.LoadAverage()
	for b := 0; b*per < n; b++ {
		order := slices.Clone(sides)
		if b%2 == 1 {
			slices.Reverse(order)
		}
		for _, side := range order {
			setWebhookMode(t, modeOf[side])
			ns := nsOf[side]
			var objs []client.Object
			for i := b * per; i < min((b+1)*per, n); i++ {
				objs = append(objs, bench.ScaledObject(p, ns, fmt.Sprintf("target-%05d", i), false))
			}
			calls := webhookTimes(t)
			wall, lat := timedCreates(t, c, objs, concurrency)
			r := results[side]
			r.calls = r.calls.add(webhookTimes(t).since(calls))
			r.wall += wall
			r.latencies = append(r.latencies, lat...)
			r.medians = append(r.medians, bench.Median(lat))
		}
	}
	t.Logf("%d ScaledObject creates per side at concurrency %d, in blocks of %d; load average %s → %s", n, concurrency, per, la, bench.LoadAverage())
	t.Logf("| side | wall time | creates/s | p50 | p99 | median of the first block → the last | wall-time ratio to without / to no-op |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- |")
	for _, side := range sides {
		r := results[side]
		none, noop := results["without webhooks"].wall, results["no-op webhooks"].wall
		ratio := ""
		switch side {
		case "with webhooks":
			ratio = fmt.Sprintf("%.2f / %.2f", float64(r.wall)/float64(none), float64(r.wall)/float64(noop))
		case "no-op webhooks":
			ratio = fmt.Sprintf("%.2f", float64(r.wall)/float64(none))
		}
		t.Logf("| %s | %s | %.0f | %s | %s | %s → %s | %s |", side, r.wall.Round(time.Millisecond), float64(len(r.latencies))/r.wall.Seconds(),
			ms(bench.Quantile(r.latencies, .5)), ms(bench.Quantile(r.latencies, .99)), ms(r.medians[0]), ms(r.medians[len(r.medians)-1]), ratio)
	}
	t.Logf("the webhook calls of each side, by the API server's measure (apiserver_admission_webhook_admission_duration_seconds: the call as it waits for it) and by scaleguard's (scaleguard_admission_duration_seconds: its handler):")
	t.Logf("| side | mutating calls, mean | validating calls, mean | scaleguard's handler, mutate / validate |")
	t.Logf("| --- | --- | --- | --- |")
	for _, side := range sides[:2] {
		k := results[side].calls
		t.Logf("| %s | %s | %s | %s / %s |", side, k.mean(apiServerCall, "admit"), k.mean(apiServerCall, "validating"),
			k.mean(scaleguardHandler, "mutate"), k.mean(scaleguardHandler, "validate"))
	}
}

// callTimes are sums and counts of a latency histogram, by source and
// phase.
type callTimes map[[2]string][2]float64

const (
	apiServerCall     = "apiserver_admission_webhook_admission_duration_seconds"
	scaleguardHandler = "scaleguard_admission_duration_seconds"
)

// webhookTimes reads the API server's histogram of its webhook calls, by
// type (admit, validating), from its /metrics, and scaleguard's of its
// handler, by phase, from this process's registry.
func webhookTimes(t *testing.T) callTimes {
	t.Helper()
	out := callTimes{}
	cs, err := kubernetes.NewForConfig(fastConfig())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("reading the API server's metrics: %v", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parsing the API server's metrics: %v", err)
	}
	own, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(own, fams[apiServerCall]) {
		if f == nil || (f.GetName() != apiServerCall && f.GetName() != scaleguardHandler) {
			continue
		}
		for _, m := range f.GetMetric() {
			var phase string
			for _, l := range m.GetLabel() {
				if l.GetName() == "type" || l.GetName() == "phase" {
					phase = l.GetValue()
				}
			}
			k := [2]string{f.GetName(), phase}
			v := out[k]
			out[k] = [2]float64{v[0] + m.GetHistogram().GetSampleSum(), v[1] + float64(m.GetHistogram().GetSampleCount())}
		}
	}
	return out
}

// since is what was added to c after earlier.
func (c callTimes) since(earlier callTimes) callTimes {
	out := callTimes{}
	for k, v := range c {
		out[k] = [2]float64{v[0] - earlier[k][0], v[1] - earlier[k][1]}
	}
	return out
}

// add sums two callTimes.
func (c callTimes) add(d callTimes) callTimes {
	out := callTimes{}
	for _, from := range []callTimes{c, d} {
		for k, v := range from {
			out[k] = [2]float64{out[k][0] + v[0], out[k][1] + v[1]}
		}
	}
	return out
}

// mean is the mean latency of a source's phase, with the number of calls.
func (c callTimes) mean(source, phase string) string {
	v := c[[2]string{source, phase}]
	if v[1] == 0 {
		return "no calls"
	}
	return fmt.Sprintf("%.2f ms (%.0f)", v[0]/v[1]*1e3, v[1])
}

// timedCreates creates objs with concurrency workers and returns the wall
// time and each create's latency; every create must succeed.
func timedCreates(t *testing.T, c client.Client, objs []client.Object, concurrency int) (time.Duration, []time.Duration) {
	t.Helper()
	work := make(chan client.Object)
	var mu sync.Mutex
	var lat []time.Duration
	var first error
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				t0 := time.Now()
				err := c.Create(context.Background(), o)
				d := time.Since(t0)
				mu.Lock()
				if err != nil && first == nil {
					first = fmt.Errorf("%s/%s: %w", o.GetNamespace(), o.GetName(), err)
				}
				lat = append(lat, d)
				mu.Unlock()
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	wall := time.Since(start)
	if first != nil {
		t.Fatal(first)
	}
	return wall, lat
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1e3) }
