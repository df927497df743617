package conflictrace

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/policies"
)

// mode is one way of running the webhook.
type mode struct {
	name        string
	replicas    int
	byRequest   bool
	claims      bool
	readThrough bool
	// http2 serves the webhooks over HTTP/2 (--enable-http2): the API
	// server then multiplexes its calls over one connection, which a
	// Service sends to one replica. Off, as shipped, it opens a connection
	// per concurrent call, and a Service spreads them.
	http2 bool
}

func (m mode) routing() string {
	switch {
	case m.replicas == 1:
		return "-"
	case m.byRequest:
		return "by request"
	case m.http2:
		return "by connection, HTTP/2"
	}
	return "by connection"
}

func (m mode) options() server.Options {
	o := server.Options{ReadThrough: m.readThrough, ClaimTTL: -1}
	o.EnableHTTP2 = m.http2
	if m.claims {
		o.ClaimTTL = server.DefaultClaimTTL
	}
	return o
}

// outcome counts pairs of ScaledObjects on one target.
type outcome struct {
	pairs, bothIn, bothOut int
}

func (o outcome) String() string {
	return fmt.Sprintf("%d/%d (%.0f%%)", o.bothIn, o.pairs, 100*float64(o.bothIn)/float64(o.pairs))
}

// pairs is the number of pairs per scenario: small by default so the suite
// stays quick; SCALEGUARD_RACE_PAIRS=200 for the numbers in BENCHMARKS.md.
func pairs() int {
	if n, err := strconv.Atoi(os.Getenv("SCALEGUARD_RACE_PAIRS")); err == nil && n > 0 {
		return n
	}
	return 15
}

func TestConflictRace(t *testing.T) {
	n := pairs()
	const (
		cacheOnly, claims, readThrough, both = "cache only", "claims (shipped)", "read-through", "claims + read-through"
	)
	modes := []mode{
		{cacheOnly, 1, false, false, false, false},
		{claims, 1, false, true, false, false},
		{readThrough, 1, false, false, true, false},
		{both, 1, false, true, true, false},
		{cacheOnly, 2, false, false, false, false},
		{claims, 2, false, true, false, false},
		{claims, 2, false, true, false, true},
		{cacheOnly, 2, true, false, false, false},
		{claims, 2, true, true, false, false},
		{readThrough, 2, true, false, true, false},
		{both, 2, true, true, true, false},
	}
	c, err := client.New(fastConfig(), client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	var report []string
	report = append(report,
		"| CREATE judged with | replicas | routing | back to back: both admitted | concurrent: both admitted | delete, recreate under another name: refused | spread over replicas |",
		"| --- | --- | --- | --- | --- | --- | --- |")
	for i, m := range modes {
		ns := fmt.Sprintf("race-%d", i)
		if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		_, stop := replicas(t, m.replicas, m.byRequest, m.options())
		warmUp(t, c, ns)
		seq := backToBack(t, c, ns, n)
		con := concurrent(t, c, ns, n)
		re := replaced(t, c, ns, n)
		spread := lb.spread()
		stop()
		report = append(report, fmt.Sprintf("| %s | %d | %s | %s | %s | %d/%d | %v |", m.name, m.replicas, m.routing(), seq, con, re, n, spread))

		if con.bothOut != 0 || seq.bothOut != 0 {
			t.Errorf("%s, %d replicas: %d back-to-back and %d concurrent pairs had both refused; one of each pair must get in", m.name, m.replicas, seq.bothOut, con.bothOut)
		}
		if m.readThrough && seq.bothIn != 0 {
			t.Errorf("%s, %d replicas: %s back-to-back pairs both admitted; the read-through must see the first", m.name, m.replicas, seq)
		}
		// Claims live in a replica: they catch every pair that one replica
		// answers, with one replica, or two behind a Service when one
		// HTTP/2 connection carries every call. Over HTTP/1.1 (shipped)
		// concurrent calls take separate connections, hence replicas.
		if m.claims && (m.replicas == 1 || (!m.byRequest && m.http2)) && (con.bothIn != 0 || seq.bothIn != 0) {
			t.Errorf("%s, one replica answering: %s back-to-back and %s concurrent pairs both admitted; claims must catch them", m.name, seq, con)
		}
	}
	t.Logf("%d pairs per scenario\n%s", n, strings.Join(report, "\n"))
}

// warmUp sends dry-run creates until the API server reaches the replicas.
func warmUp(t *testing.T, c client.Client, ns string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Create(context.Background(), scaledObject(ns, "warm-up", "warm-up"), client.DryRunAll)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook never answered: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func scaledObject(ns, name, target string) *kedav1alpha1.ScaledObject {
	return &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: kedav1alpha1.ScaledObjectSpec{
			ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: target},
			Triggers: []kedav1alpha1.ScaleTriggers{{Type: "prometheus", Metadata: map[string]string{
				"serverAddress": "http://prometheus-operated.monitoring.svc:9090",
				"query":         fmt.Sprintf(`sum(vllm:num_requests_waiting{namespace=%q, model_name=%q})`, ns, target),
				"threshold":     "5",
			}}},
		},
	}
}

// create reports whether the object got in; any error but a conflict
// denial fails the test.
func create(t *testing.T, c client.Client, so *kedav1alpha1.ScaledObject) bool {
	err := c.Create(context.Background(), so)
	if err == nil {
		return true
	}
	if apierrors.IsInvalid(err) && strings.Contains(err.Error(), "[conflict-scaledobject]") {
		return false
	}
	t.Errorf("creating %s: %v", so.Name, err)
	return false
}

func tally(out *outcome, a, b bool) {
	out.pairs++
	switch {
	case a && b:
		out.bothIn++
	case !a && !b:
		out.bothOut++
	}
}

// backToBack creates the second ScaledObject as soon as the API server has
// answered the first.
func backToBack(t *testing.T, c client.Client, ns string, n int) outcome {
	var out outcome
	for i := 0; i < n; i++ {
		target := fmt.Sprintf("seq-%d", i)
		a := create(t, c, scaledObject(ns, target+"-a", target))
		b := create(t, c, scaledObject(ns, target+"-b", target))
		tally(&out, a, b)
	}
	return out
}

// replaced creates a ScaledObject, deletes it and at once creates another
// for the same workload; it returns how many of the second were refused
// (wrongly: the first is gone).
func replaced(t *testing.T, c client.Client, ns string, n int) int {
	refused := 0
	for i := 0; i < n; i++ {
		target := fmt.Sprintf("re-%d", i)
		first := scaledObject(ns, target+"-old", target)
		if !create(t, c, first) {
			t.Errorf("%s: refused on a free target", first.Name)
			continue
		}
		if err := c.Delete(context.Background(), first); err != nil {
			t.Fatal(err)
		}
		if !create(t, c, scaledObject(ns, target+"-new", target)) {
			refused++
		}
	}
	return refused
}

// concurrent sends both creates at once.
func concurrent(t *testing.T, c client.Client, ns string, n int) outcome {
	var out outcome
	for i := 0; i < n; i++ {
		target := fmt.Sprintf("con-%d", i)
		var wg sync.WaitGroup
		start := make(chan struct{})
		res := make([]bool, 2)
		for j, suffix := range []string{"-a", "-b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res[j] = create(t, c, scaledObject(ns, target+suffix, target))
			}()
		}
		close(start)
		wg.Wait()
		tally(&out, res[0], res[1])
	}
	return out
}

// TestConflictCreateCost measures, in one run, what judging a CREATE costs
// with the cache alone, with claims, and with the read-through: the lookup
// a rule makes, and a whole dry-run CREATE through the API server.
func TestConflictCreateCost(t *testing.T) {
	n := 20 * pairs()
	c, err := client.New(fastConfig(), client.Options{Scheme: apis.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ns := "cost"
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	target := policies.WorkloadRef{Group: "apps", Kind: "Deployment", Namespace: ns, Name: "free"}
	raw, err := json.Marshal(&kedav1alpha1.ScaledObject{
		TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject"},
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "free"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The cache-only baseline runs first and again last: the two show how
	// far the machine drifted during the run, and ratios are taken against
	// their mean.
	configs := []struct {
		name string
		o    server.Options
	}{
		{"cache only", server.Options{ClaimTTL: -1}},
		{"claims (shipped)", server.Options{}},
		{"read-through", server.Options{ClaimTTL: -1, ReadThrough: true}},
		{"cache only, again", server.Options{ClaimTTL: -1}},
	}
	type result struct{ lookup, create timing }
	results := make([]result, len(configs))
	for i, cfg := range configs {
		servers, stop := replicas(t, 1, false, cfg.o)
		warmUp(t, c, ns)
		if i == 0 {
			// A namespace with 50 ScaledObjects, as a busy serving namespace has.
			for j := 0; j < 50; j++ {
				if err := c.Create(context.Background(), scaledObject(ns, fmt.Sprintf("so-%d", j), fmt.Sprintf("llm-%d", j))); err != nil {
					t.Fatal(err)
				}
			}
		}
		view := servers[0].View
		results[i].lookup = timeIt(n, func() {
			cv, release := view.ForCreate(apis.ScaledObject, raw, nil, true)
			cv.ScaledObjectsFor(target)
			release(false)
		})
		results[i].create = timeIt(n, func() {
			if err := c.Create(context.Background(), scaledObject(ns, "dry", "free"), client.DryRunAll); err != nil {
				t.Fatal(err)
			}
		})
		stop()
	}
	last := len(results) - 1
	baseLookup := (results[0].lookup.median + results[last].lookup.median) / 2
	baseCreate := (results[0].create.median + results[last].create.median) / 2
	var lines []string
	for i, r := range results {
		lines = append(lines, fmt.Sprintf("| %s | %v | %v | %.2fx | %v | %v | %.2fx |", configs[i].name,
			r.lookup.median, r.lookup.p90, float64(r.lookup.median)/float64(baseLookup),
			r.create.median, r.create.p90, float64(r.create.median)/float64(baseCreate)))
	}
	t.Logf("%d samples each, 50 ScaledObjects in the namespace; ratios against the mean of the two cache-only medians\n"+
		"| CREATE judged with | ScaledObjectsFor median | p90 | vs cache | dry-run CREATE median | p90 | vs cache |\n"+
		"| --- | --- | --- | --- | --- | --- | --- |\n%s", n, strings.Join(lines, "\n"))
}

type timing struct{ median, p90 time.Duration }

func timeIt(n int, fn func()) timing {
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		fn()
		ds[i] = time.Since(start)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return timing{median: ds[n/2], p90: ds[n*9/10]}
}
