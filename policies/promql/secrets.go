package promql

import (
	"net/url"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// authParams are KEDA authentication parameters that hold a credential.
// KEDA reads them only from a TriggerAuthentication's parameters, so in
// trigger metadata they are both ignored and stored in plain text.
var authParams = map[string]bool{
	"bearertoken": true, "token": true, "password": true, "key": true, "apikey": true,
	"customauthvalue": true, "clientsecret": true,
}

// credentialHeaders are HTTP headers whose value is a credential.
var credentialHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true,
	"x-api-key": true, "api-key": true, "apikey": true,
}

// credentialWords make any key name a credential's.
var credentialWords = []string{"token", "password", "passwd", "secret", "apikey", "api-key", "api_key", "session"}

// secretName reports whether a key (metadata key, header or URL parameter)
// names a credential. Names ending in FromEnv, URI or URL point at one
// rather than hold it.
func secretName(key string) bool {
	k := strings.ToLower(strings.TrimSpace(key))
	if k == "" || strings.HasSuffix(k, "fromenv") || strings.HasSuffix(k, "uri") || strings.HasSuffix(k, "url") {
		return false
	}
	if authParams[k] || credentialHeaders[k] {
		return true
	}
	for _, w := range credentialWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// credentialValue reports whether a header value is a credential whatever
// its header's name.
func credentialValue(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.HasPrefix(v, "bearer ") || strings.HasPrefix(v, "basic ")
}

// secretFix says where the credential belongs, per consumer.
func secretFix(c Consumer) string {
	switch c {
	case KServe:
		return "store it in a Secret and reference a TriggerAuthentication or ClusterTriggerAuthentication from external.authenticationRef"
	case Kthena:
		return "remove it: Kthena's prometheus source has no credential field, so let the autoscaler reach Prometheus without one (or through an authenticating proxy)"
	}
	return "store it in a Secret and reference it from a TriggerAuthentication or ClusterTriggerAuthentication with authenticationRef (authModes: bearer, basic or custom)"
}

// checkMetadataSecrets judges a ScaledObject trigger's metadata. Values
// are never echoed.
func checkMetadataSecrets(md map[string]string, meta *field.Path) []policies.Finding {
	var out []policies.Finding
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := md[k]
		if strings.TrimSpace(v) == "" {
			continue
		}
		switch k {
		case "customHeaders":
			out = append(out, pairSecrets(v, meta.Child(k), "header", KEDA)...)
		case "queryParameters":
			out = append(out, pairSecrets(v, meta.Child(k), "query parameter", KEDA)...)
		case "serverAddress":
			out = append(out, addressSecrets(v, meta.Child(k), KEDA)...)
		default:
			if !secretName(k) {
				continue
			}
			ignored := ""
			if authParams[strings.ToLower(k)] {
				ignored = " (KEDA reads it only from a TriggerAuthentication, so here it is also ignored)"
			}
			out = append(out, deny(InlineSecretID, meta.Child(k),
				"holds a credential in plain text, readable by anyone who can read the object%s; %s", ignored, secretFix(KEDA)))
		}
	}
	return out
}

// pairSecrets judges comma-separated key=value pairs (KEDA's map format).
func pairSecrets(raw string, path *field.Path, what string, c Consumer) []policies.Finding {
	var out []policies.Finding
	seen := map[string]bool{}
	for _, entry := range strings.Split(raw, ",") {
		k, v, _ := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if strings.TrimSpace(v) == "" || seen[strings.ToLower(k)] || !(secretName(k) || (what == "header" && credentialValue(v))) {
			continue
		}
		seen[strings.ToLower(k)] = true
		out = append(out, deny(InlineSecretID, path,
			"%s %q carries a credential in plain text, readable by anyone who can read the object; %s", what, k, secretFix(c)))
	}
	return out
}

// addressSecrets judges a server address: user info (https://user:pass@host)
// and credential query parameters.
func addressSecrets(addr string, path *field.Path, c Consumer) []policies.Finding {
	var out []policies.Finding
	rest := strings.TrimSpace(addr)
	if _, after, ok := strings.Cut(rest, "://"); ok {
		rest = after
	}
	authority, _, _ := strings.Cut(rest, "/")
	authority, _, _ = strings.Cut(authority, "?")
	authority, _, _ = strings.Cut(authority, "#")
	if strings.Contains(authority, "@") {
		out = append(out, deny(InlineSecretID, path,
			"carries user credentials (user:password@host) in plain text, readable by anyone who can read the object; drop them from the address and %s", secretFix(c)))
	}
	if _, query, ok := strings.Cut(rest, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		// ParseQuery keeps what it could parse beside an error.
		params, _ := url.ParseQuery(query)
		names := make([]string, 0, len(params))
		for k := range params {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if secretName(k) {
				out = append(out, deny(InlineSecretID, path,
					"query parameter %q carries a credential in plain text, readable by anyone who can read the object; %s", k, secretFix(c)))
			}
		}
	}
	return out
}
