package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/go-logr/logr"
	openreportsv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/policies"
)

// The report kinds the audit writes, the first served one wins.
var (
	// OpenReportsReport is OpenReports' namespaced report, which current
	// policy engines and report viewers share.
	OpenReportsReport = openreportsv1alpha1.SchemeGroupVersion.WithKind("Report")
	// PolicyReport is the older report of the Kubernetes policy working
	// group. Its Go types (kubernetes-sigs/wg-policy-prototypes) are not a
	// module this build can use, and its fields are OpenReports' minus the
	// report-level source and configuration, so it is written from the same
	// typed Report as an unstructured object.
	PolicyReport = schema.GroupVersionKind{Group: "wgpolicyk8s.io", Version: "v1alpha2", Kind: "PolicyReport"}
)

// Report metadata.
const (
	// ReportName is the name of the audit's report in each namespace.
	ReportName = "scaleguard-audit"
	// ReportSource names scaleguard as the engine behind a report and its
	// results.
	ReportSource = "scaleguard"
	// ManagedByLabel marks the reports the audit owns (and may delete).
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// TruncatedAnnotation, on a report, counts the results left out.
	TruncatedAnnotation = "scaleguard.io/results-omitted"
	// MaxResults bounds the results of one report (an object in etcd is at
	// most 1.5 MiB); the summary still counts every finding.
	MaxResults = 1000
)

// Result values and severities, by finding action.
func resultOf(a policies.Action) (openreportsv1alpha1.Result, openreportsv1alpha1.ResultSeverity) {
	switch a {
	case policies.Deny:
		return "fail", "high"
	case policies.Warn:
		return "warn", "medium"
	}
	return "warn", "low"
}

// BuildReports turns a scan into one OpenReports Report per namespace with
// at least one finding or note: one result per finding (policy and rule are
// the rule ID; the properties carry the action and the field), and one
// result per note on an object (skip, or error when the check failed).
func BuildReports(res *Result) map[string]*openreportsv1alpha1.Report {
	out := map[string]*openreportsv1alpha1.Report{}
	report := func(ns string) *openreportsv1alpha1.Report {
		r := out[ns]
		if r == nil {
			r = &openreportsv1alpha1.Report{
				TypeMeta: metav1.TypeMeta{APIVersion: OpenReportsReport.GroupVersion().String(), Kind: OpenReportsReport.Kind},
				ObjectMeta: metav1.ObjectMeta{Name: ReportName, Namespace: ns,
					Labels: map[string]string{ManagedByLabel: ReportSource}},
				Source: ReportSource,
			}
			out[ns] = r
		}
		return r
	}
	ts := metav1.Timestamp{Seconds: res.Time.Unix()}
	left := map[*openreportsv1alpha1.Report]int{}
	add := func(r *openreportsv1alpha1.Report, rr openreportsv1alpha1.ReportResult) {
		switch rr.Result {
		case "fail":
			r.Summary.Fail++
		case "warn":
			r.Summary.Warn++
		case "error":
			r.Summary.Error++
		case "skip":
			r.Summary.Skip++
		}
		if len(r.Results) < MaxResults {
			r.Results = append(r.Results, rr)
		} else {
			left[r]++
		}
	}
	for _, v := range res.Verdicts {
		for _, f := range v.Findings {
			result, sev := resultOf(f.Action)
			add(report(v.Ref.Namespace), openreportsv1alpha1.ReportResult{
				Source: ReportSource, Policy: f.Rule, Rule: f.Rule, Category: "scaleguard",
				Severity: sev, Result: result, Timestamp: ts,
				Subjects:    []corev1.ObjectReference{subject(v.Ref)},
				Description: f.Message,
				Properties:  properties(string(f.Action), f.Field),
			})
		}
	}
	for _, n := range res.Notes {
		if n.Ref == nil {
			continue
		}
		result := openreportsv1alpha1.Result("skip")
		if n.Error {
			result = "error"
		}
		add(report(n.Ref.Namespace), openreportsv1alpha1.ReportResult{
			Source: ReportSource, Policy: n.Rule, Rule: n.Rule, Category: "scaleguard",
			Result: result, Timestamp: ts,
			Subjects:    []corev1.ObjectReference{subject(*n.Ref)},
			Description: n.Message,
			Properties:  properties("", n.Field),
		})
	}
	for r, n := range left {
		r.Annotations = map[string]string{TruncatedAnnotation: fmt.Sprint(n)}
	}
	return out
}

func subject(r Ref) corev1.ObjectReference {
	return corev1.ObjectReference{APIVersion: r.Kind.GVK.GroupVersion().String(), Kind: r.Kind.GVK.Kind,
		Namespace: r.Namespace, Name: r.Name, UID: r.UID}
}

func properties(action, field string) map[string]string {
	p := map[string]string{}
	if action != "" {
		p["action"] = action
	}
	if field != "" {
		p["field"] = field
	}
	return p
}

// asKind renders a typed Report as an unstructured object of kind gvk.
func asKind(r *openreportsv1alpha1.Report, gvk schema.GroupVersionKind) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(r)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	if gvk == PolicyReport {
		// Fields OpenReports added at report level.
		delete(m, "source")
		delete(m, "configuration")
	}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// ReportWriter replaces the audit's reports after each scan.
type ReportWriter struct {
	// Client writes the reports (unstructured: no scheme needed).
	Client client.Client
	// Mapper tells which report kinds the cluster serves, asked at each
	// write (a report CRD installed later is found then).
	Mapper meta.RESTMapper
	Log    logr.Logger
}

// The audit lists its reports, replaces them and deletes those it no
// longer needs, in every namespace.
//
// +kubebuilder:rbac:groups=openreports.io,resources=reports,verbs=list;create;update;delete
// +kubebuilder:rbac:groups=wgpolicyk8s.io,resources=policyreports,verbs=list;create;update;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Served returns the report kind the audit writes to (OpenReports' Report
// when served, else PolicyReport when served) and every report kind the
// cluster serves, chosen first; none when it serves neither.
func (w *ReportWriter) Served() (schema.GroupVersionKind, []schema.GroupVersionKind) {
	var served []schema.GroupVersionKind
	for _, gvk := range []schema.GroupVersionKind{OpenReportsReport, PolicyReport} {
		if _, err := w.Mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
			served = append(served, gvk)
		}
	}
	if len(served) == 0 {
		return schema.GroupVersionKind{}, nil
	}
	return served[0], served
}

// Write replaces each namespace's report with this scan's results (one
// write per namespace, so a reader sees one scan or the next, never a
// mix), deletes the audit's reports of namespaces without results, and
// those of a report kind no longer chosen. It returns the kind written,
// empty when the cluster serves neither.
func (w *ReportWriter) Write(ctx context.Context, reports map[string]*openreportsv1alpha1.Report) (schema.GroupVersionKind, error) {
	kind, served := w.Served()
	if len(served) == 0 {
		return kind, nil
	}
	var errs []error
	for _, gvk := range served[1:] {
		// A kind served but not chosen: the reports there are stale.
		existing, err := w.existing(ctx, gvk)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, u := range existing {
			errs = append(errs, client.IgnoreNotFound(w.Client.Delete(ctx, u)))
		}
	}
	existing, err := w.existing(ctx, kind)
	if err != nil {
		return kind, errors.Join(append(errs, err)...)
	}
	namespaces := make([]string, 0, len(reports))
	for ns := range reports {
		namespaces = append(namespaces, ns)
	}
	sort.Strings(namespaces)
	for _, ns := range namespaces {
		u, err := asKind(reports[ns], kind)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if old, ok := existing[ns]; ok {
			u.SetResourceVersion(old.GetResourceVersion())
			delete(existing, ns)
			errs = append(errs, w.Client.Update(ctx, u))
			continue
		}
		if err := w.Client.Create(ctx, u); apierrors.IsAlreadyExists(err) {
			err = fmt.Errorf("report %s/%s appeared during the scan; it is replaced at the next one", ns, ReportName)
			errs = append(errs, err)
		} else {
			errs = append(errs, err)
		}
	}
	for _, stale := range existing {
		errs = append(errs, client.IgnoreNotFound(w.Client.Delete(ctx, stale)))
	}
	return kind, errors.Join(errs...)
}

// existing lists the audit's reports of a kind, by namespace.
func (w *ReportWriter) existing(ctx context.Context, gvk schema.GroupVersionKind) (map[string]*unstructured.Unstructured, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := w.Client.List(ctx, list, client.MatchingLabels{ManagedByLabel: ReportSource}); err != nil {
		return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
	}
	out := map[string]*unstructured.Unstructured{}
	for i := range list.Items {
		if list.Items[i].GetName() == ReportName {
			out[list.Items[i].GetNamespace()] = &list.Items[i]
		}
	}
	return out, nil
}
