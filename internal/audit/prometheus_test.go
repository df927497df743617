package audit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/util/teststorage"
)

// promServer is a Prometheus HTTP query API in front of Prometheus's own
// PromQL engine and TSDB: GET /api/v1/query with query and time, answered
// in the API's JSON envelope. It records the last request it was sent.
type promServer struct {
	*httptest.Server
	mu   sync.Mutex
	last *http.Request
}

// newPromServer serves the engine over storage holding series, each with
// one sample at now.
func newPromServer(t *testing.T, now time.Time, series ...labels.Labels) *promServer {
	t.Helper()
	st := teststorage.New(t)
	app := st.Appender(context.Background())
	for i, ls := range series {
		if _, err := app.Append(0, ls, now.Add(-30*time.Second).UnixMilli(), float64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: 10 * time.Second, LookbackDelta: 5 * time.Minute})
	ps := &promServer{}
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ps.mu.Lock()
		ps.last = r.Clone(context.Background())
		ps.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fail := func(code int, typ, msg string) {
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": msg})
		}
		if r.URL.Path != "/api/v1/query" {
			fail(http.StatusNotFound, "not_found", "no such endpoint")
			return
		}
		ts := time.Now()
		if v := r.FormValue("time"); v != "" {
			var err error
			if ts, err = parseTime(v); err != nil {
				fail(http.StatusBadRequest, "bad_data", err.Error())
				return
			}
		}
		q, err := engine.NewInstantQuery(r.Context(), st, nil, r.FormValue("query"), ts)
		if err != nil {
			fail(http.StatusBadRequest, "bad_data", err.Error())
			return
		}
		defer q.Close()
		res := q.Exec(r.Context())
		if res.Err != nil {
			fail(http.StatusUnprocessableEntity, "execution", res.Err.Error())
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "data": map[string]any{
			"resultType": res.Value.Type(), "result": res.Value,
		}})
	}))
	t.Cleanup(ps.Close)
	return ps
}

func (ps *promServer) lastRequest() *http.Request {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.last
}

// parseTime reads the API's time parameter: RFC 3339 or Unix seconds.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(int64(f * 1000)), nil
}
