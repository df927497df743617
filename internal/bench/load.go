package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The load generator posts admission reviews to webhook endpoints over
// HTTPS, as an API server does: one HTTP/2 connection, many requests in
// flight on it. It only ever talks to the loopback interface, and every
// run is bounded in time and in count.

// Limits of one load run.
const (
	MaxLoadDuration = 10 * time.Minute
	MaxLoadRequests = 10_000_000
)

// Post is one request of a load: a path and the body posted to it.
type Post struct {
	Path string
	Body []byte
}

// Load is a load run: Posts sent in turn by Concurrency workers until
// Duration has passed or MaxRequests have been sent.
type Load struct {
	// Base is https://<loopback address>:<port>.
	Base        string
	Client      *http.Client
	Posts       []Post
	Concurrency int
	Duration    time.Duration
	MaxRequests int
}

// Sample is what a load run measured.
type Sample struct {
	// Latencies of the successful requests, in the order they finished.
	Latencies []time.Duration
	// Elapsed is the run's wall time.
	Elapsed time.Duration
	// CPU is the process's user and system time during the run (the load
	// generator's and whatever else the process runs: a server in the
	// same process included).
	CPU time.Duration
	// Failed counts requests that got no 200 answer; FirstError says why
	// the first one failed.
	Failed     int
	FirstError error
}

// Requests counts the successful requests.
func (s Sample) Requests() int { return len(s.Latencies) }

// Add merges another sample of the same side.
func (s *Sample) Add(o Sample) {
	s.Latencies = append(s.Latencies, o.Latencies...)
	s.Elapsed += o.Elapsed
	s.CPU += o.CPU
	s.Failed += o.Failed
	if s.FirstError == nil {
		s.FirstError = o.FirstError
	}
}

// Throughput is successful requests per second.
func (s Sample) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(len(s.Latencies)) / s.Elapsed.Seconds()
}

// CPUPerRequest is the process's CPU time per successful request.
func (s Sample) CPUPerRequest() time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	return s.CPU / time.Duration(len(s.Latencies))
}

// Loopback reports whether a URL's host is the loopback interface.
func Loopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%s: the load generator speaks HTTPS only", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: the load generator only targets a loopback address", base)
	}
	return nil
}

// Run sends the load and measures it.
func (l Load) Run(ctx context.Context) (Sample, error) {
	if err := Loopback(l.Base); err != nil {
		return Sample{}, err
	}
	switch {
	case l.Duration <= 0 || l.Duration > MaxLoadDuration:
		return Sample{}, fmt.Errorf("load duration %s: want more than 0 and at most %s", l.Duration, MaxLoadDuration)
	case l.MaxRequests <= 0 || l.MaxRequests > MaxLoadRequests:
		return Sample{}, fmt.Errorf("load of %d requests: want more than 0 and at most %d", l.MaxRequests, MaxLoadRequests)
	case l.Concurrency <= 0 || len(l.Posts) == 0:
		return Sample{}, errors.New("a load needs workers and requests")
	}
	// Workers stop sending at the deadline; requests in flight then
	// finish (the run's wall time includes them), so that none is cut
	// off and counted neither way.
	var (
		next   atomic.Int64
		mu     sync.Mutex
		sample Sample
		wg     sync.WaitGroup
	)
	cpu0 := cpuTime()
	start := time.Now()
	stopAt := start.Add(l.Duration)
	for range l.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var failed int
			var first error
			for ctx.Err() == nil && time.Now().Before(stopAt) {
				i := next.Add(1) - 1
				if i >= int64(l.MaxRequests) {
					break
				}
				p := l.Posts[i%int64(len(l.Posts))]
				t0 := time.Now()
				err := l.post(ctx, p)
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil {
						break // the caller gave up: not the server's failure.
					}
					failed++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, d)
			}
			mu.Lock()
			sample.Latencies = append(sample.Latencies, lat...)
			sample.Failed += failed
			if sample.FirstError == nil {
				sample.FirstError = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	sample.Elapsed = time.Since(start)
	sample.CPU = cpuTime() - cpu0
	return sample, nil
}

func (l Load) post(ctx context.Context, p Post) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.Base+p.Path, bytes.NewReader(p.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %.200s", p.Path, resp.StatusCode, body)
	}
	return nil
}

// Client is an HTTPS client that trusts caPEM and speaks HTTP/2 over one
// connection per host, as the API server does with a webhook.
func Client(caPEM []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate in the PEM given")
	}
	return &http.Client{
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
			MaxConnsPerHost:   1,
		},
		Timeout: 30 * time.Second,
	}, nil
}

// cpuTime is the process's user plus system time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Side is one endpoint set of a comparison: a name and its posts.
type Side struct {
	Name  string
	Posts []Post
}

// Compare runs the sides in alternating blocks of duration each (at most
// maxPerBlock requests), rounds times, in the order A B, then B A, and so
// on, so that a burst of other work on a shared machine hits both; it
// returns each side's merged sample.
func Compare(ctx context.Context, base string, client *http.Client, sides []Side, concurrency, rounds int, block time.Duration, maxPerBlock int) ([]Sample, error) {
	out := make([]Sample, len(sides))
	for r := range rounds {
		for k := range sides {
			i := k
			if r%2 == 1 {
				i = len(sides) - 1 - k
			}
			s, err := Load{Base: base, Client: client, Posts: sides[i].Posts, Concurrency: concurrency, Duration: block, MaxRequests: maxPerBlock}.Run(ctx)
			if err != nil {
				return nil, err
			}
			out[i].Add(s)
		}
	}
	return out, nil
}
