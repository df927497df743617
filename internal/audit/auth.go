package audit

import (
	"context"
	"fmt"
	"sort"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The live query check reads the TriggerAuthentications its triggers name
// from the API server (they are not cached). Their Secrets and ConfigMaps
// need config/rbac/audit_trigger_secrets.yaml, not applied by default.
//
// +kubebuilder:rbac:groups=keda.sh,resources=triggerauthentications;clustertriggerauthentications,verbs=get

// authParams resolves a trigger's authenticationRef to KEDA's auth
// parameters, from the Secrets and ConfigMaps its TriggerAuthentication
// (or ClusterTriggerAuthentication) names. skip says why they cannot be
// read: another source (the workload's environment, a vault, a cloud
// identity), no permission, or no such object. Nothing read is ever put in
// a message.
func (r *liveRun) authParams(ctx context.Context, ns string, ref *kedav1alpha1.AuthenticationRef) (map[string]string, string) {
	if ref == nil || ref.Name == "" {
		return nil, ""
	}
	kind := ref.Kind
	if kind == "" {
		kind = "TriggerAuthentication"
	}
	what := fmt.Sprintf("%s %q", kind, ref.Name)
	if r.Auth == nil {
		return nil, fmt.Sprintf("the trigger authenticates through %s, and this audit reads no authentication", what)
	}
	var spec kedav1alpha1.TriggerAuthenticationSpec
	secretNS := ns
	switch kind {
	case "TriggerAuthentication":
		var ta kedav1alpha1.TriggerAuthentication
		if err := r.Auth.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, &ta); err != nil {
			return nil, unreadable(what, err)
		}
		spec = ta.Spec
	case "ClusterTriggerAuthentication":
		var cta kedav1alpha1.ClusterTriggerAuthentication
		if err := r.Auth.Get(ctx, client.ObjectKey{Name: ref.Name}, &cta); err != nil {
			return nil, unreadable(what, err)
		}
		spec = cta.Spec
		secretNS = r.ClusterAuthNamespace
		if secretNS == "" {
			secretNS = "keda"
		}
	default:
		return nil, fmt.Sprintf("authenticationRef kind %q is neither TriggerAuthentication nor ClusterTriggerAuthentication", kind)
	}
	if other := otherSources(spec); len(other) > 0 {
		return nil, fmt.Sprintf("%s takes parameters from %s, which the audit cannot read", what, strings.Join(other, " and "))
	}
	params := map[string]string{}
	for _, s := range spec.SecretTargetRef {
		var sec corev1.Secret
		if err := r.Auth.Get(ctx, client.ObjectKey{Namespace: secretNS, Name: s.Name}, &sec); err != nil {
			return nil, unreadable(fmt.Sprintf("Secret %s/%s of %s", secretNS, s.Name, what), err)
		}
		v, ok := sec.Data[s.Key]
		if !ok {
			return nil, fmt.Sprintf("Secret %s/%s of %s has no key %q, so KEDA's scaler does not start either", secretNS, s.Name, what, s.Key)
		}
		params[s.Parameter] = string(v)
	}
	for _, c := range spec.ConfigMapTargetRef {
		var cm corev1.ConfigMap
		if err := r.Auth.Get(ctx, client.ObjectKey{Namespace: secretNS, Name: c.Name}, &cm); err != nil {
			return nil, unreadable(fmt.Sprintf("ConfigMap %s/%s of %s", secretNS, c.Name, what), err)
		}
		v, ok := cm.Data[c.Key]
		if !ok {
			return nil, fmt.Sprintf("ConfigMap %s/%s of %s has no key %q, so KEDA's scaler does not start either", secretNS, c.Name, what, c.Key)
		}
		params[c.Parameter] = v
	}
	return params, ""
}

// otherSources names the parameter sources of an authentication that the
// audit cannot read.
func otherSources(s kedav1alpha1.TriggerAuthenticationSpec) []string {
	var out []string
	if s.PodIdentity != nil && s.PodIdentity.Provider != "" && s.PodIdentity.Provider != kedav1alpha1.PodIdentityProviderNone {
		out = append(out, fmt.Sprintf("pod identity %q", s.PodIdentity.Provider))
	}
	if len(s.Env) > 0 {
		out = append(out, "the workload's environment (env)")
	}
	if s.FilePath != "" {
		out = append(out, "a file in KEDA's pod (filePath)")
	}
	if s.HashiCorpVault != nil {
		out = append(out, "HashiCorp Vault")
	}
	if s.AzureKeyVault != nil {
		out = append(out, "Azure Key Vault")
	}
	if s.GCPSecretManager != nil {
		out = append(out, "GCP Secret Manager")
	}
	if s.AwsSecretManager != nil {
		out = append(out, "AWS Secrets Manager")
	}
	if len(s.BoundServiceAccountToken) > 0 {
		out = append(out, "bound service account tokens")
	}
	if s.OAuth2 != nil {
		out = append(out, "OAuth2")
	}
	sort.Strings(out)
	return out
}

func unreadable(what string, err error) string {
	switch {
	case apierrors.IsNotFound(err):
		return what + " does not exist, so KEDA's scaler does not start either"
	case apierrors.IsForbidden(err):
		return what + " is not readable with the audit's permissions (grant get on it to check this trigger)"
	}
	return fmt.Sprintf("reading %s: %v", what, err)
}
