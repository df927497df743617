package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-logr/logr"

	"github.com/scaleguard/scaleguard/internal/bench"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/webhooks"
)

// BenchmarkHandler answers the reviews of the HTTPS benchmark's mix
// (bench.Mix) through scaleguard's webhook handlers in process, without
// TLS or a network, against serve's cache view of the mix's objects: what
// one review costs scaleguard once the bytes have arrived, by kind of
// review, and over the whole mix in turn.
//
//	go test ./internal/bench -run '^$' -bench Handler -benchmem
func BenchmarkHandler(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	objs, err := bench.MixObjects()
	if err != nil {
		b.Fatal(err)
	}
	view, err := bench.CacheView(ctx, objs)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	webhooks.Register(webhooks.MuxRegistrar{ServeMux: mux}, webhooks.Deps{
		Engine:   policies.NewEngine(policies.Default),
		View:     view,
		Settings: webhooks.StaticSettings{S: policies.DefaultSettings()},
		Log:      logr.Discard(),
	})
	mix, err := bench.Mix()
	if err != nil {
		b.Fatal(err)
	}
	serve := func(b *testing.B, p bench.Post) {
		r := httptest.NewRequest(http.MethodPost, p.Path, bytes.NewReader(p.Body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"allowed":true`)) {
			b.Fatalf("%s: %d %s", p.Path, w.Code, w.Body.String())
		}
	}
	// The first ScaledObject's reviews: CREATE and UPDATE, each phase.
	var so []bench.Post
	for _, p := range mix {
		if strings.Contains(p.Path, "scaledobject") && strings.Contains(string(p.Body), `"uid":"bench-scaledobject-0-`) {
			so = append(so, p)
		}
	}
	if len(so) != 4 {
		b.Fatalf("want the first ScaledObject's 4 reviews, got %d", len(so))
	}
	names := []string{"ScaledObject CREATE mutating", "ScaledObject CREATE validating", "ScaledObject UPDATE mutating", "ScaledObject UPDATE validating"}
	for i, p := range so {
		b.Run(names[i], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve(b, p)
			}
		})
	}
	// The first CREATE's validating review again, its queries naming a
	// model never seen before each time, as a new ScaledObject's do, so
	// that each of its five queries is parsed: the parse cache holds
	// 1,024 queries and this cycles through 5 × 4,096.
	fresh := make([][]byte, 4096)
	for i := range fresh {
		fresh[i] = bytes.ReplaceAll(so[1].Body, []byte(`model_name=\"opt-125m\"`), fmt.Appendf(nil, `model_name=\"opt-125m-%04d\"`, i))
		if bytes.Equal(fresh[i], so[1].Body) {
			b.Fatal("the review names no model_name to vary")
		}
	}
	b.Run("ScaledObject CREATE validating, queries never seen", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			serve(b, bench.Post{Path: so[1].Path, Body: fresh[i%len(fresh)]})
			i++
		}
	})
	b.Run("mix", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			serve(b, mix[i%len(mix)])
			i++
		}
	})
}
