package webhooks

import (
	"fmt"
	"io"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
)

// Names of the shipped webhook configurations.
const (
	MutatingConfigurationName   = "scaleguard-mutating"
	ValidatingConfigurationName = "scaleguard-validating"
)

// ConfigurationOptions are what the webhook configurations are made of
// besides the dispatch table and the rules.
type ConfigurationOptions struct {
	// ServiceName and ServiceNamespace name the Service in front of serve.
	ServiceName, ServiceNamespace string
	// ExcludedNamespaces are never judged (scaleguard's own and
	// kube-system), by a namespaceSelector on kubernetes.io/metadata.name;
	// nor is a namespace labelled apis.IgnoreLabel: "true".
	ExcludedNamespaces []string
	// TimeoutSeconds bounds each call from the API server.
	TimeoutSeconds int32
}

// FailurePolicy is what the API server does with an object of the
// endpoint's kind when scaleguard cannot be reached. The mutating side
// fails open: the validating side re-checks the final object. The
// validating side fails closed only for a kind that some rule of reg can
// refuse (Rule.Denies): a kind scaleguard never refuses is never blocked
// because scaleguard is down. ScaleGuardPolicy's validation fails closed:
// a policy is not stored unchecked.
func FailurePolicy(e Endpoint, reg *policies.Registry) admissionregistrationv1.FailurePolicyType {
	if e.Kind == PolicyKind {
		return admissionregistrationv1.Fail
	}
	if e.Phase == Validating {
		for _, r := range reg.For(e.Kind.GVK) {
			if r.Denies() {
				return admissionregistrationv1.Fail
			}
		}
	}
	return admissionregistrationv1.Ignore
}

// Configurations builds the mutating and validating webhook configurations
// from the dispatch table: one webhook per endpoint (a mutating one only
// for a kind some rule patches), judging CREATE and
// UPDATE of its kind (never subresources, DELETE or CONNECT), with no side
// effects, so server-side dry runs get the same verdict.
func Configurations(reg *policies.Registry, o ConfigurationOptions) (*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfiguration) {
	mut := &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: MutatingConfigurationName},
	}
	val := &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionregistrationv1.SchemeGroupVersion.String(), Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: ValidatingConfigurationName},
	}
	for _, e := range Endpoints() {
		if e.Phase == Mutating && !Mutates(reg, e.Kind) {
			// No rule patches the kind: the API server need not call out,
			// and a create or update of it makes one webhook call, not two.
			continue
		}
		gvr := e.Kind.GVR()
		name := strings.ToLower(e.Kind.GVK.Kind) + "." + string(e.Phase) + ".scaleguard.io"
		client := admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{
			Name: o.ServiceName, Namespace: o.ServiceNamespace, Path: ptr.To(e.Path), Port: ptr.To[int32](443),
		}}
		scope := admissionregistrationv1.NamespacedScope
		if e.Kind == PolicyKind {
			// Cluster-scoped; the namespaceSelector does not apply to it.
			scope = admissionregistrationv1.ClusterScope
		}
		rules := []admissionregistrationv1.RuleWithOperations{{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{gvr.Group}, APIVersions: []string{gvr.Version}, Resources: []string{gvr.Resource},
				Scope: ptr.To(scope),
			},
		}}
		nsSelector := NamespaceSelector(o.ExcludedNamespaces)
		failure := FailurePolicy(e, reg)
		switch e.Phase {
		case Mutating:
			mut.Webhooks = append(mut.Webhooks, admissionregistrationv1.MutatingWebhook{
				Name: name, ClientConfig: client, Rules: rules, NamespaceSelector: nsSelector,
				// Objects no mutate rule would patch are not sent.
				MatchConditions:         MutateConditions(reg, e.Kind),
				AdmissionReviewVersions: []string{"v1"},
				SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
				FailurePolicy:           ptr.To(failure),
				MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
				TimeoutSeconds:          ptr.To(o.TimeoutSeconds),
				// Another webhook may change the object after ours.
				ReinvocationPolicy: ptr.To(admissionregistrationv1.IfNeededReinvocationPolicy),
			})
		case Validating:
			val.Webhooks = append(val.Webhooks, admissionregistrationv1.ValidatingWebhook{
				Name: name, ClientConfig: client, Rules: rules, NamespaceSelector: nsSelector,
				// Objects judged at their owner are never sent: their
				// denials would only be warnings, and a controller that
				// writes them is never blocked while scaleguard is down.
				MatchConditions:         []admissionregistrationv1.MatchCondition{NotGeneratedCondition()},
				AdmissionReviewVersions: []string{"v1"},
				SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
				FailurePolicy:           ptr.To(failure),
				MatchPolicy:             ptr.To(admissionregistrationv1.Equivalent),
				TimeoutSeconds:          ptr.To(o.TimeoutSeconds),
			})
		}
	}
	return mut, val
}

// configurationHeader opens the generated file.
const configurationHeader = `# Generated by ` + "`scaleguard manifests`" + ` from the dispatch table and the
# registered rules; edit those, then run ` + "`make manifests`" + `. The integration
# tests install this file, so what is tested is what clusters get.
#
# Mutating webhooks fail open (the validating side re-checks the final
# object), and their matchCondition leaves out objects no mutate rule would
# patch (a ScaledObject that already carries a pause decision). A
# validating webhook fails closed only for a kind some rule can refuse; the
# others fail open, so scaleguard being down blocks only what it could
# refuse. Objects a guarded kind's controller generates (the HPA KEDA
# writes for a ScaledObject, the ScaledObject KServe writes for an
# InferenceService) are judged at their owner: the validating webhooks'
# matchCondition keeps them from being sent at all. Neither side has side
# effects, so server-side dry runs get the same verdict.
#
# Never judged: %s,
# and any namespace labelled ` + apis.IgnoreLabel + `: "true".
`

// WriteConfigurations renders the configurations as config/webhook/manifests.yaml
// holds them.
func WriteConfigurations(w io.Writer, reg *policies.Registry, o ConfigurationOptions) error {
	mut, val := Configurations(reg, o)
	m, err := yaml.Marshal(mut)
	if err != nil {
		return err
	}
	v, err := yaml.Marshal(val)
	if err != nil {
		return err
	}
	quoted := make([]string, len(o.ExcludedNamespaces))
	for i, ns := range o.ExcludedNamespaces {
		quoted[i] = "`" + ns + "`"
	}
	excluded := strings.Join(quoted, " and ")
	if excluded == "" {
		excluded = "no namespace by name"
	}
	_, err = fmt.Fprintf(w, configurationHeader+"%s---\n%s", excluded, m, v)
	return err
}

// MayMutateConditionName names the mutating webhooks' matchCondition.
const MayMutateConditionName = "may-mutate"

// MutateConditions is the matchCondition of the kind's mutating webhook:
// the disjunction of its mutate rules' Rule.MutatesOnlyIf, when every one
// has one; none otherwise (every object is sent).
func MutateConditions(reg *policies.Registry, k apis.Kind) []admissionregistrationv1.MatchCondition {
	var exprs []string
	for _, r := range reg.For(k.GVK) {
		if r.Action != policies.Mutate {
			continue
		}
		if r.MutatesOnlyIf == "" {
			return nil
		}
		exprs = append(exprs, "("+r.MutatesOnlyIf+")")
	}
	if len(exprs) == 0 {
		return nil
	}
	return []admissionregistrationv1.MatchCondition{{Name: MayMutateConditionName, Expression: strings.Join(exprs, " || ")}}
}

// Mutates reports whether some rule of reg patches objects of the kind (a
// mutate rule: only those patch, Rule.Action), and so whether the
// configuration has a mutating webhook for it.
func Mutates(reg *policies.Registry, k apis.Kind) bool {
	for _, r := range reg.For(k.GVK) {
		if r.Action == policies.Mutate {
			return true
		}
	}
	return false
}
