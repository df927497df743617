package v1alpha1

import (
	"fmt"
	"net/url"
)

// PrometheusSettings configure the audit's live query check. Only the
// audit reads them: the webhook never reaches Prometheus.
type PrometheusSettings struct {
	// Address is the base URL of the Prometheus HTTP API (for example
	// http://prometheus-operated.monitoring.svc:9090) to which the audit
	// sends every prometheus trigger's query, in place of the trigger's
	// serverAddress, as KEDA's prometheus scaler sends it. Empty disables
	// the live query check (promql-no-series, promql-many-series).
	Address string `json:"address,omitempty"`
}

func (p PrometheusSettings) validate() []string {
	if p.Address == "" {
		return nil
	}
	if err := ValidatePrometheusAddress(p.Address); err != nil {
		return []string{"prometheus.address: " + err.Error()}
	}
	return nil
}

// ValidatePrometheusAddress checks a Prometheus base URL: http or https,
// with a host, without a query or fragment.
func ValidatePrometheusAddress(addr string) error {
	u, err := url.Parse(addr)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", addr, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q is not an http or https URL", addr)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", addr)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q has a query or fragment; give the base URL the /api/v1/query path is appended to", addr)
	}
	return nil
}
