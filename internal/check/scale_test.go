package check_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/check"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

// scaledObjects makes n ScaledObjects of namespace serving, each with a
// scoped prometheus trigger, scaling one Deployment (shared) or one each.
// They are built as JSON directly: reading YAML is not what is measured.
func scaledObjects(n int, shared bool) []manifests.Object {
	var objs []manifests.Object
	add := func(gvk schema.GroupVersionKind, name, body string) {
		objs = append(objs, manifests.Object{
			Source: "gen.yaml", Line: len(objs) + 1, GVK: gvk, Namespace: "serving", Name: name,
			JSON: []byte(fmt.Sprintf(`{"apiVersion":%q,"kind":%q,"metadata":{"name":%q,"namespace":"serving"},"spec":%s}`,
				gvk.GroupVersion().String(), gvk.Kind, name, body)),
		})
	}
	for i := 0; i < n; i++ {
		target := "llm"
		if !shared {
			target = fmt.Sprintf("llm-%d", i)
		}
		if !shared || i == 0 {
			add(deployment, target, fmt.Sprintf(`{"selector":{"matchLabels":{"app":%q}},"template":{"metadata":{"labels":{"app":%q}},`+
				`"spec":{"containers":[{"name":"vllm","image":"vllm/vllm-openai"}]}}}`, target, target))
		}
		add(apis.ScaledObject, fmt.Sprintf("so-%d", i), fmt.Sprintf(`{"scaleTargetRef":{"name":%q},"triggers":[{"type":"prometheus","metadata":{`+
			`"serverAddress":"http://prometheus-operated.monitoring.svc:9090","threshold":"5",`+
			`"query":"sum(vllm:num_requests_waiting{namespace=\"serving\", pod=~\"%s-.*\"})"}}]}`, target, target))
	}
	return objs
}

var deployment = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

type cost struct {
	elapsed time.Duration
	alloc   uint64 // bytes allocated during the run
	out     int    // bytes of JSON output
	rep     check.Report
}

func measure(t *testing.T, objs []manifests.Object) cost {
	t.Helper()
	engine := policies.NewEngine(policies.Default)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := cpuTime(t)
	rep, err := check.Run(objs, engine, policies.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := check.WriteJSON(&out, rep); err != nil {
		t.Fatal(err)
	}
	elapsed := cpuTime(t) - start
	runtime.ReadMemStats(&after)
	return cost{elapsed: elapsed, alloc: after.TotalAlloc - before.TotalAlloc, out: out.Len(), rep: rep}
}

// best is the cheapest of a few runs, so that noise from a loaded machine
// does not decide a ratio.
func best(t *testing.T, objs []manifests.Object, runs int) cost {
	c := measure(t, objs)
	for i := 1; i < runs; i++ {
		if d := measure(t, objs); d.elapsed < c.elapsed {
			d.alloc, d.out = min(d.alloc, c.alloc), min(d.out, c.out)
			c = d
		}
	}
	return c
}

// TestCheckScalesLinearly judges many ScaledObjects on one target and on
// as many targets, and compares each with a tenth as many measured in the
// same run: CPU time, bytes allocated and output grow ten times, not a
// hundred (the view is indexed by target, and conflicts on one target are
// one finding per object naming the others).
func TestCheckScalesLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("measures large runs")
	}
	cases := []struct {
		name   string
		n      int
		shared bool
	}{
		{"one target", 2000, true},
		{"one target each", 10000, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			small := best(t, scaledObjects(c.n/10, c.shared), 3)
			large := best(t, scaledObjects(c.n, c.shared), 1)
			t.Logf("%d objects: %v CPU, %d MB allocated, %d KB output, %d findings", c.n/10, small.elapsed, small.alloc>>20, small.out>>10, len(small.rep.Findings))
			t.Logf("%d objects: %v CPU, %d MB allocated, %d KB output, %d findings", c.n, large.elapsed, large.alloc>>20, large.out>>10, len(large.rep.Findings))
			cpu := float64(large.elapsed) / float64(small.elapsed)
			mem := float64(large.alloc) / float64(small.alloc)
			t.Logf("ratios for 10x the objects: CPU %.1f, allocated %.1f", cpu, mem)
			// Linear is 10; quadratic, 100. The margins absorb a loaded
			// machine: the CPU ratio is 12 to 20 on a quiet one (the
			// collector works harder on the larger heap), and reached 25.7
			// while other packages' tests ran beside it.
			if cpu > 40 {
				t.Errorf("CPU time grew %.1f times for 10 times the objects", cpu)
			}
			if mem > 20 {
				t.Errorf("allocation grew %.1f times for 10 times the objects", mem)
			}
			if c.shared {
				if large.alloc > 200<<20 {
					t.Errorf("%d objects on one target allocated %d MB, want under 200", c.n, large.alloc>>20)
				}
				if got := len(large.rep.Findings); got != c.n {
					t.Errorf("%d objects on one target: %d findings, want one each", c.n, got)
				}
				f := large.rep.Findings[0]
				want := fmt.Sprintf("is already scaled by %d other ScaledObjects (", c.n-1)
				if f.Rule != "conflict-scaledobject" || f.Field != "spec.scaleTargetRef" || !strings.Contains(f.Message, want) ||
					!strings.Contains(f.Message, fmt.Sprintf("and %d more)", c.n-6)) {
					t.Errorf("first finding: %+v, want conflict-scaledobject at spec.scaleTargetRef saying %q", f, want)
				}
			} else if len(large.rep.Findings) != 0 {
				t.Errorf("%d objects on their own targets: %d findings, want none: %+v", c.n, len(large.rep.Findings), large.rep.Findings[0])
			}
		})
	}
}

// cpuTime is the CPU time this process has used, user and system: unlike
// the wall clock, it does not count the time other processes of a loaded
// machine take.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
