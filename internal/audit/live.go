package audit

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/livequery"
)

// LiveCheck sends trigger queries to a live Prometheus the way KEDA's
// prometheus scaler (pkg/scalers/prometheus_scaler.go, v2.20) does: GET
// <address>/api/v1/query with the query, time=now (RFC 3339, UTC), the
// trigger's namespace and queryParameters, its customHeaders, and the
// bearer, basic, custom-header or TLS credentials its TriggerAuthentication
// gives. Only instant vectors are read, and only their series count.
type LiveCheck struct {
	// Address is the Prometheus base URL every query goes to, in place of
	// the trigger's serverAddress (a workstation reaches Prometheus through
	// a port-forward; serve through the address an administrator set).
	Address string
	// Auth reads TriggerAuthentications, ClusterTriggerAuthentications
	// and the Secrets and ConfigMaps they name; nil means triggers with an
	// authenticationRef are not checked.
	Auth client.Reader
	// ClusterAuthNamespace holds the Secrets of ClusterTriggerAuthentications
	// (KEDA's KEDA_CLUSTER_OBJECT_NAMESPACE); "keda" when empty.
	ClusterAuthNamespace string
	// Timeout bounds one query; 3 s (KEDA's default HTTP timeout) when zero.
	Timeout time.Duration
}

// maxAnswerBytes bounds the answer read for one query: a query that
// returns more is not what an autoscaler reads anyway.
const maxAnswerBytes = 8 << 20

// maxLabelSets is how many series' labels a finding keeps.
const maxLabelSets = 5

// liveRun is the state of the live check during one scan.
type liveRun struct {
	*LiveCheck
	now time.Time
	// down is the first error reaching Prometheus in this scan; later
	// queries are not sent, and the scan says it once.
	down  error
	skips int
}

func (c *LiveCheck) run(now time.Time) *liveRun { return &liveRun{LiveCheck: c, now: now} }

// scanNotes is the scan-wide note: Prometheus could not be reached.
func (r *liveRun) scanNotes() []Note {
	if r.down == nil {
		return nil
	}
	return []Note{{Rule: livequery.NoSeriesID, Error: true, Message: fmt.Sprintf(
		"the live query check could not reach Prometheus at %s (%v), so %d trigger queries were not checked; "+
			"the rest of the audit is complete", r.Address, r.down, r.skips+1)}}
}

// observe evaluates the prometheus trigger queries of one ScaledObject.
func (r *liveRun) observe(ctx context.Context, so *kedav1alpha1.ScaledObject, ref Ref) (*policies.Live, []Note) {
	live := &policies.Live{}
	var notes []Note
	for i, t := range so.Spec.Triggers {
		if t.Type != "prometheus" {
			continue
		}
		path := field.NewPath("spec", "triggers").Index(i).Child("metadata", "query").String()
		query := strings.TrimSpace(t.Metadata["query"])
		if query == "" {
			continue // promql-invalid says so
		}
		if r.down != nil {
			r.skips++
			continue
		}
		note := func(isErr bool, format string, args ...any) {
			notes = append(notes, Note{Ref: &ref, Field: path, Rule: livequery.NoSeriesID, Error: isErr, Message: fmt.Sprintf(format, args...)})
		}
		c, skip := r.request(ctx, so, t)
		if skip != "" {
			note(false, "live query not checked: %s", skip)
			continue
		}
		ans, err := r.send(c)
		var unreachable *unreachableError
		switch {
		case errors.As(err, &unreachable):
			r.down = unreachable.err
			continue
		case err != nil:
			note(true, "live query failed: %v", err)
			continue
		}
		q := policies.LiveQuery{Field: path, Query: query, Server: r.Address, Series: len(ans), IgnoreNullValues: ignoreNullValues(t.Metadata)}
		for i := 0; i < len(ans) && i < maxLabelSets; i++ {
			q.Labels = append(q.Labels, ans[i].Metric)
		}
		live.Queries = append(live.Queries, q)
	}
	return live, notes
}

// ignoreNullValues reads the trigger's ignoreNullValues as KEDA does:
// true unless it parses as false.
func ignoreNullValues(md map[string]string) bool {
	v, err := strconv.ParseBool(strings.TrimSpace(md["ignoreNullValues"]))
	return err != nil || v
}

// call is one query to send: the request and its client TLS settings.
type call struct {
	req *http.Request
	tls *tls.Config
}

// request builds the HTTP request KEDA would send for a trigger; skip says
// why it is not sent.
func (r *liveRun) request(ctx context.Context, so *kedav1alpha1.ScaledObject, t kedav1alpha1.ScaleTriggers) (call, string) {
	md := t.Metadata
	params := url.Values{}
	params.Set("query", strings.TrimSpace(md["query"]))
	params.Set("time", r.now.UTC().Format(time.RFC3339))
	if ns := strings.TrimSpace(md["namespace"]); ns != "" {
		params.Set("namespace", ns)
	}
	extra, err := pairs(md["queryParameters"])
	if err != nil {
		return call{}, "queryParameters " + err.Error() + ", so KEDA's scaler does not start either"
	}
	for k, v := range extra {
		params.Add(k, v)
	}
	headers, err := pairs(md["customHeaders"])
	if err != nil {
		return call{}, "customHeaders " + err.Error() + ", so KEDA's scaler does not start either"
	}
	auth, skip := r.authParams(ctx, so.Namespace, t.AuthenticationRef)
	if skip != "" {
		return call{}, skip
	}
	creds, skip := credentialsFor(md, auth)
	if skip != "" {
		return call{}, skip
	}
	u := strings.TrimRight(r.Address, "/") + "/api/v1/query?" + params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return call{}, fmt.Sprintf("building the request: %v", err)
	}
	for k, v := range headers {
		req.Header.Add(k, v)
	}
	creds.apply(req)
	return call{req: req, tls: creds.tls(unsafeSSL(md))}, ""
}

func unsafeSSL(md map[string]string) bool {
	v, _ := strconv.ParseBool(strings.TrimSpace(md["unsafeSsl"]))
	return v
}

// pairs parses KEDA's "k1=v1,k2=v2" map metadata.
func pairs(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		p := strings.Split(strings.TrimSpace(kv), "=")
		if len(p) != 2 {
			return nil, fmt.Errorf("is not key=value pairs separated by commas")
		}
		out[strings.TrimSpace(p[0])] = strings.TrimSpace(p[1])
	}
	return out, nil
}

// sample is one series of an instant vector, as KEDA reads it.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

// unreachableError is a failure to reach Prometheus at all.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }

// send runs one query and returns its series.
func (r *liveRun) send(c call) ([]sample, error) {
	timeout := r.Timeout
	if timeout == 0 {
		timeout = 3 * time.Second
	}
	// A transport per query: a scan sends few, and TLS settings differ per
	// trigger.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = c.tls
	tr.DisableKeepAlives = true
	hc := &http.Client{Timeout: timeout, Transport: tr}
	resp, err := hc.Do(c.req)
	if err != nil {
		if unreachable(err) {
			return nil, &unreachableError{err: redactURL(err)}
		}
		return nil, redactURL(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %v", err)
	}
	if len(body) > maxAnswerBytes {
		return nil, fmt.Errorf("the answer is larger than %d MiB", maxAnswerBytes>>20)
	}
	var ans struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	jsonErr := json.Unmarshal(body, &ans)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("Prometheus answered HTTP %d", resp.StatusCode)
		if jsonErr == nil && ans.Error != "" {
			msg += ": " + oneLine(ans.Error, 200)
		}
		return nil, fmt.Errorf("%s, and KEDA's scaler fails the same way", msg)
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("the answer is not Prometheus API JSON: %v", jsonErr)
	}
	if ans.Data.ResultType != "vector" {
		return nil, fmt.Errorf("the answer is a %s, not an instant vector; KEDA's scaler reads one series of an instant vector", ans.Data.ResultType)
	}
	var series []sample
	if err := json.Unmarshal(ans.Data.Result, &series); err != nil {
		return nil, fmt.Errorf("the answer's result is not a vector: %v", err)
	}
	return series, nil
}

// unreachable reports whether err means Prometheus cannot be reached at
// all (no such host, nothing listening): then no later query of the scan
// is sent. A TLS failure or a timeout belongs to one query.
func unreachable(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial" && !op.Timeout()
}

// redactURL drops the query string from a url.Error: it holds the query,
// already named, and nothing else worth a log line.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery = ""
			return fmt.Errorf("%s %s: %v", ue.Op, u.String(), ue.Err)
		}
	}
	return err
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

// credentials are what a trigger sends besides its custom headers.
type credentials struct {
	header, value  string // Authorization: Bearer, or a custom auth header
	user, password string
	basic          bool
	cert, key, ca  string
	tlsMode        bool
}

func (c credentials) apply(req *http.Request) {
	if c.header != "" {
		req.Header.Set(c.header, c.value)
	}
	if c.basic {
		req.SetBasicAuth(c.user, c.password)
	}
}

// tls is the client TLS configuration KEDA builds: a CA and a client
// certificate from the authentication, and unsafeSsl.
func (c credentials) tls(unsafe bool) *tls.Config {
	// The trigger's own unsafeSsl, honoured as KEDA honours it.
	cfg := &tls.Config{InsecureSkipVerify: unsafe}
	if c.ca != "" {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(c.ca))
		cfg.RootCAs = pool
	}
	if c.tlsMode {
		if pair, err := tls.X509KeyPair([]byte(c.cert), []byte(c.key)); err == nil {
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	return cfg
}

// credentialsFor reads the authentication modes and their parameters the
// way KEDA's authentication.Config does; skip says why the trigger cannot
// be asked as KEDA asks it.
func credentialsFor(md, auth map[string]string) (credentials, string) {
	var c credentials
	modes := strings.TrimSpace(md["authModes"])
	if modes == "" {
		modes = strings.TrimSpace(auth["authModes"])
	}
	if modes == "" {
		return c, ""
	}
	names := make([]string, 0)
	for _, m := range strings.Split(modes, ",") {
		names = append(names, strings.TrimSpace(m))
	}
	sort.Strings(names)
	for _, m := range names {
		switch m {
		case "bearer":
			tok := strings.TrimSpace(auth["bearerToken"])
			if tok == "" {
				tok = strings.TrimSpace(auth["token"])
			}
			if tok == "" {
				return c, "authModes has bearer but the authentication gives no bearerToken, so KEDA's scaler does not start either"
			}
			c.header, c.value = "Authorization", "Bearer "+tok
		case "basic":
			c.basic, c.user, c.password = true, strings.TrimSpace(auth["username"]), strings.TrimSpace(auth["password"])
			if c.user == "" {
				return c, "authModes has basic but the authentication gives no username, so KEDA's scaler does not start either"
			}
		case "custom":
			c.header, c.value = strings.TrimSpace(auth["customAuthHeader"]), strings.TrimSpace(auth["customAuthValue"])
			if c.header == "" || c.value == "" {
				return c, "authModes has custom but the authentication lacks customAuthHeader or customAuthValue, so KEDA's scaler does not start either"
			}
		case "tls":
			c.tlsMode, c.cert, c.key = true, auth["cert"], auth["key"]
			if c.cert == "" || c.key == "" {
				return c, "authModes has tls but the authentication lacks cert or key, so KEDA's scaler does not start either"
			}
		case "":
		default:
			// oauth and apiKey are not what KEDA's prometheus scaler sends
			// with a query; it ignores them there too.
		}
	}
	c.ca = auth["ca"]
	return c, ""
}
