package promql

import (
	"net/url"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// Credential key names, lowercased. Sources: KEDA v2.20's scalers
// (pkg/scalers/*_scaler.go, keda:"name=...,order=..." tags) and their
// shared authentication (pkg/scalers/authentication).
var (
	// credentialKeys hold a credential by name.
	credentialKeys = map[string]bool{
		"bearertoken": true, "token": true, "password": true, "key": true, "apikey": true,
		"customauthvalue": true, "clientsecret": true, "clientkey": true, "tlsclientkey": true,
		"accesskey": true, "secretkey": true, "appkey": true, "querykey": true,
		"credentials": true, "keytab": true,
	}
	// credentialWords make any key name a credential's.
	credentialWords = []string{"token", "password", "passwd", "secret", "apikey", "api-key", "api_key"}
	// notCredential are keys named like a credential that hold something
	// else: Kafka's saslTokenProvider names a mechanism (bearer,
	// aws_msk_iam).
	notCredential = map[string]bool{"sasltokenprovider": true}
	// notCredentialFor are such keys of one trigger type:
	// kubernetes-resource's key names the entry read from a ConfigMap or
	// Secret.
	notCredentialFor = map[string]map[string]bool{"kubernetes-resource": {"key": true}}
	// authOnly are the parameters KEDA's shared authentication reads only
	// from a TriggerAuthentication (order=authParams), so in the metadata
	// of a trigger using it they are ignored as well as exposed.
	authOnly = map[string]bool{
		"bearertoken": true, "token": true, "password": true, "key": true,
		"customauthvalue": true, "clientsecret": true,
	}
	// sharedAuth are the trigger types whose credentials come from KEDA's
	// shared authentication (authModes).
	sharedAuth = map[string]bool{"prometheus": true, "metrics-api": true}
	// credentialHeaders are HTTP headers whose value is a credential.
	credentialHeaders = map[string]bool{
		"authorization": true, "proxy-authorization": true, "cookie": true,
		"x-api-key": true, "api-key": true, "apikey": true,
	}
	// connectionParts are connection-string parts that hold a credential
	// (ADO.NET, libpq and Azure connection strings).
	connectionParts = map[string]bool{"pwd": true, "accountkey": true, "sharedaccesskey": true, "sharedaccesssignature": true}
)

// reference reports whether a key names where a credential is rather than
// holding it: KEDA resolves <key>FromEnv (and GCP's
// credentialsFromEnvFile) from the scaled container's environment, and
// URI or URL keys point at a token endpoint.
func reference(k string) bool {
	return strings.HasSuffix(k, "fromenv") || strings.HasSuffix(k, "fromenvfile") ||
		strings.HasSuffix(k, "uri") || strings.HasSuffix(k, "url")
}

// secretName reports whether a metadata key names a credential.
func secretName(key string) bool {
	return secretLower(strings.ToLower(strings.TrimSpace(key)))
}

// secretLower is secretName of a trimmed, lowercased key.
func secretLower(k string) bool {
	if k == "" || reference(k) || notCredential[k] {
		return false
	}
	if credentialKeys[k] {
		return true
	}
	for _, w := range credentialWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// secretPair reports whether a header or parameter name names a
// credential: a metadata credential name, a credential header, a session
// or a cookie.
func secretPair(key string) bool {
	k := strings.ToLower(strings.TrimSpace(key))
	return secretName(k) || credentialHeaders[k] || connectionParts[k] ||
		strings.Contains(k, "session") || strings.Contains(k, "cookie")
}

// credentialValue reports whether a header value is a credential whatever
// its header's name.
func credentialValue(v string) bool {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.HasPrefix(v, "bearer ") || strings.HasPrefix(v, "basic ")
}

// secretFix says where the credential belongs, per consumer and (for KEDA)
// trigger type.
func secretFix(c Consumer, triggerType string) string {
	switch {
	case c == KServe:
		return "store it in a Secret and reference a TriggerAuthentication or ClusterTriggerAuthentication from external.authenticationRef"
	case c == Kthena:
		return "remove it: Kthena's prometheus source has no credential field, so let the autoscaler reach Prometheus without one (or through an authenticating proxy)"
	case sharedAuth[triggerType]:
		return "store it in a Secret and reference it from a TriggerAuthentication or ClusterTriggerAuthentication with authenticationRef (authModes: bearer, basic or custom)"
	}
	return "store it in a Secret and reference it from a TriggerAuthentication or ClusterTriggerAuthentication with authenticationRef"
}

// hasScheme reports whether a value is a URL with a scheme
// (amqp://, https://, postgresql://).
// It is what the expression ^[A-Za-z][A-Za-z0-9+.-]*:// matches: the
// scheme's characters exclude ':', so the run ends where "://" must begin.
func hasScheme(v string) bool {
	letter := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	if v == "" || !letter(v[0]) {
		return false
	}
	i := 1
	for i < len(v) && (letter(v[i]) || v[i] >= '0' && v[i] <= '9' || v[i] == '+' || v[i] == '.' || v[i] == '-') {
		i++
	}
	return strings.HasPrefix(v[i:], "://")
}

// checkMetadataSecrets judges the metadata of a ScaledObject trigger of
// any type: credential keys, user info and credential parameters in
// addresses, credentials in connection strings. Values are never echoed.
func checkMetadataSecrets(triggerType string, md map[string]string, meta *field.Path) []policies.Finding {
	var out []policies.Finding
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fix := secretFix(KEDA, triggerType)
	for _, k := range keys {
		v := strings.TrimSpace(md[k])
		lower := strings.ToLower(strings.TrimSpace(k))
		switch {
		case v == "" || strings.HasSuffix(lower, "fromenv") || strings.HasSuffix(lower, "fromenvfile"):
		case k == "customHeaders":
			out = append(out, pairSecrets(v, ",", meta.Child(k), "header", fix)...)
		case k == "queryParameters":
			out = append(out, pairSecrets(v, ",", meta.Child(k), "query parameter", fix)...)
		case secretLower(lower) && !notCredentialFor[triggerType][lower]:
			ignored := ""
			if sharedAuth[triggerType] && authOnly[lower] {
				ignored = " (KEDA reads it only from a TriggerAuthentication, so here it is also ignored)"
			}
			out = append(out, deny(InlineSecretID, meta.Child(k),
				"holds a credential in plain text, readable by anyone who can read the object%s; %s", ignored, fix))
		case hasScheme(v) || lower == "serveraddress":
			out = append(out, addressSecrets(v, meta.Child(k), fix)...)
		case strings.Contains(lower, "connection"):
			out = append(out, connectionSecrets(v, meta.Child(k), fix)...)
		}
	}
	return out
}

// connectionSecrets judges a connection string without a scheme: user
// info (user:pass@tcp(host)/db) and credential parts (Password=...;
// AccountKey=...; password=... in a libpq string).
func connectionSecrets(v string, path *field.Path, fix string) []policies.Finding {
	if before, _, ok := strings.Cut(v, "@"); ok && strings.Contains(before, ":") && !strings.ContainsAny(before, "/;= ") {
		return []policies.Finding{deny(InlineSecretID, path,
			"carries user credentials (user:password@host) in plain text, readable by anyone who can read the object; %s", fix)}
	}
	return pairSecrets(v, "; \t", path, "connection string part", fix)
}

// pairSecrets judges key=value pairs separated by any of seps (KEDA's map
// format uses commas).
func pairSecrets(raw, seps string, path *field.Path, what string, fix string) []policies.Finding {
	var out []policies.Finding
	seen := map[string]bool{}
	entries := strings.FieldsFunc(raw, func(r rune) bool { return strings.ContainsRune(seps, r) })
	for _, entry := range entries {
		k, v, _ := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if strings.TrimSpace(v) == "" || seen[strings.ToLower(k)] || !(secretPair(k) || (what == "header" && credentialValue(v))) {
			continue
		}
		seen[strings.ToLower(k)] = true
		out = append(out, deny(InlineSecretID, path,
			"%s %q carries a credential in plain text, readable by anyone who can read the object; %s", what, k, fix))
	}
	return out
}

// addressSecrets judges a server address: user info (https://user:pass@host)
// and credential query parameters.
func addressSecrets(addr string, path *field.Path, fix string) []policies.Finding {
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
			"carries user credentials (user:password@host) in plain text, readable by anyone who can read the object; drop them from the address and %s", fix))
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
			if secretPair(k) {
				out = append(out, deny(InlineSecretID, path,
					"query parameter %q carries a credential in plain text, readable by anyone who can read the object; %s", k, fix))
			}
		}
	}
	return out
}
