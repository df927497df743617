package promql

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/scaleguard/scaleguard/policies"
)

// tenantLabel is the label a tenancy proxy sets to the namespace on every
// selector of the query, "" when the trigger does not go through one: its
// serverAddress must be a configured proxy (host and port) and its
// namespace metadata the object's own namespace, which KEDA sends as the
// namespace parameter the proxy enforces. A namespace of another tenant is
// judged by promql-cross-namespace, never made a scope.
func tenantLabel(serverAddress, tenant, ns string, proxies []policies.TenancyProxy) string {
	if tenant != ns || len(proxies) == 0 {
		return ""
	}
	host, port, ok := hostPort(serverAddress)
	if !ok {
		return ""
	}
	for _, p := range proxies {
		if port == p.Port && sameService(host, p.Host) {
			return p.EnforcedLabel()
		}
	}
	return ""
}

// hostPort reads the host and port of a Prometheus URL, the port defaulting
// to the scheme's.
func hostPort(address string) (string, int32, bool) {
	u, err := url.Parse(strings.TrimSpace(address))
	if err != nil || u.Host == "" {
		return "", 0, false
	}
	host, portText, err := net.SplitHostPort(u.Host)
	if err != nil {
		host = u.Host
		switch u.Scheme {
		case "https":
			portText = "443"
		case "http":
			portText = "80"
		default:
			return "", 0, false
		}
	}
	port, err := strconv.ParseInt(portText, 10, 32)
	if err != nil {
		return "", 0, false
	}
	return strings.ToLower(strings.TrimSuffix(host, ".")), int32(port), true
}

// sameService reports whether host names the Service <service>.<namespace>:
// as written, or followed by .svc and any cluster domain.
func sameService(host, service string) bool {
	service = strings.ToLower(service)
	return host == service || host == service+".svc" || strings.HasPrefix(host, service+".svc.")
}
