package keeper_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/internal/keeper"
	"github.com/scaleguard/scaleguard/policies"
	"github.com/scaleguard/scaleguard/policies/gpu"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func gpuDeployment(created time.Time, gpus string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "serving", CreationTimestamp: metav1.NewTime(created)}}
	c := corev1.Container{Name: "vllm", Image: "vllm"}
	if gpus != "" {
		c.Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": resource.MustParse(gpus)}
	}
	d.Spec.Template.Spec.Containers = []corev1.Container{c}
	return d
}

func scaledObject(created time.Time, annotations map[string]string) *kedav1alpha1.ScaledObject {
	return &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "serving", CreationTimestamp: metav1.NewTime(created), Annotations: annotations},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "llm"}},
	}
}

func tierOf(so *kedav1alpha1.ScaledObject, objs ...client.Object) gpu.Tier {
	return gpu.Classify(so, clusterview.NewManifests(objs...), &policies.DefaultSettings().GPU)
}

func TestDecide(t *testing.T) {
	unpaused := func(until string) map[string]string {
		a := map[string]string{gpu.PausedAnnotation: "false"}
		if until != "" {
			a[gpu.UnpauseUntilAnnotation] = until
		}
		return a
	}
	deleting := scaledObject(t0, nil)
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	labelled := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "serving", Labels: map[string]string{"scaleguard.io/tier": "gpu"}}}
	cases := map[string]struct {
		so      *kedav1alpha1.ScaledObject
		target  []client.Object
		action  keeper.Action
		requeue time.Duration
		note    string
	}{
		"target appeared after, on a GPU tier": {so: scaledObject(t0, nil), target: []client.Object{gpuDeployment(t0.Add(time.Minute), "1")}, action: keeper.Pause,
			note: `Deployment "llm" appeared on a GPU tier (container "vllm" limits nvidia.com/gpu: 1) after this ScaledObject was admitted`},
		"target appeared in the same second": {so: scaledObject(t0, map[string]string{"team": "llm"}), target: []client.Object{gpuDeployment(t0, "1")}, action: keeper.Pause},
		"target a moment older":              {so: scaledObject(t0, nil), target: []client.Object{gpuDeployment(t0.Add(-keeper.AdmissionLag), "1")}, action: keeper.Pause},
		"target predates the ScaledObject":   {so: scaledObject(t0, nil), target: []client.Object{gpuDeployment(t0.Add(-keeper.AdmissionLag-time.Second), "1")}},
		"target appeared, CPU only":          {so: scaledObject(t0, nil), target: []client.Object{gpuDeployment(t0.Add(time.Minute), "")}},
		"no target, namespace labelled":      {so: scaledObject(t0, nil), target: []client.Object{labelled}},
		"no target yet":                      {so: scaledObject(t0, nil)},
		"explicitly paused":                  {so: scaledObject(t0, map[string]string{gpu.PausedAnnotation: "true"}), target: []client.Object{gpuDeployment(t0.Add(time.Minute), "1")}},
		"paused-replicas":                    {so: scaledObject(t0, map[string]string{gpu.PausedReplicasAnnotation: "1"}), target: []client.Object{gpuDeployment(t0.Add(time.Minute), "1")}},
		"explicit false, no expiry":          {so: scaledObject(t0, unpaused("")), target: []client.Object{gpuDeployment(t0.Add(time.Minute), "1")}},
		"explicit false, malformed expiry":   {so: scaledObject(t0, unpaused("soon")), target: []client.Object{gpuDeployment(t0, "1")}},
		"explicit false, expiry ahead":       {so: scaledObject(t0, unpaused("2026-03-01T12:20:30Z")), target: []client.Object{gpuDeployment(t0, "1")}, requeue: 20*time.Minute + 30*time.Second},
		"explicit false, expiry now":         {so: scaledObject(t0, unpaused("2026-03-01T12:00:00Z")), target: []client.Object{gpuDeployment(t0, "1")}, action: keeper.Repause},
		"explicit false, expiry passed": {so: scaledObject(t0, unpaused("2026-03-01T11:00:00Z")), target: []client.Object{gpuDeployment(t0, "1")}, action: keeper.Repause,
			note: `scaleguard.io/unpause-until 2026-03-01T11:00:00Z passed: set autoscaling.keda.sh/paused to "true" and removed the expiry, since Deployment "llm" runs on a GPU tier`},
		"expiry passed, not a GPU tier": {so: scaledObject(t0, unpaused("2026-03-01T11:00:00Z")), target: []client.Object{gpuDeployment(t0, "")}},
		"being deleted":                 {so: deleting, target: []client.Object{gpuDeployment(t0.Add(time.Minute), "1")}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			plan := keeper.Decide(tc.so, tierOf(tc.so, tc.target...), t0)
			if plan.Action != tc.action || plan.RequeueAfter != tc.requeue || !strings.Contains(plan.Note, tc.note) {
				t.Errorf("plan %+v, want action %v requeue %s note containing %q", plan, tc.action, tc.requeue, tc.note)
			}
		})
	}
}

func reconcileOnce(t *testing.T, settings *policies.Settings, objs ...client.Object) (*kedav1alpha1.ScaledObject, reconcile.Result, []string) {
	t.Helper()
	c := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(objs...).Build()
	rec := events.NewFakeRecorder(10)
	k := &keeper.Keeper{
		Client: c, View: clusterview.NewManifests(objs...), Recorder: rec, Log: log.Log,
		Settings: func() *policies.Settings { return settings }, Now: func() time.Time { return t0 },
	}
	res, err := k.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "serving", Name: "llm"}})
	if err != nil {
		t.Fatal(err)
	}
	got := &kedav1alpha1.ScaledObject{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "serving", Name: "llm"}, got); err != nil {
		t.Fatal(err)
	}
	close(rec.Events)
	var evs []string
	for e := range rec.Events {
		evs = append(evs, e)
	}
	return got, res, evs
}

func TestReconcileRepausesAndRecordsAnEvent(t *testing.T) {
	so := scaledObject(t0, map[string]string{gpu.PausedAnnotation: "false", gpu.UnpauseUntilAnnotation: "2026-03-01T11:59:59Z", "team": "llm"})
	got, res, evs := reconcileOnce(t, policies.DefaultSettings(), so, gpuDeployment(t0, "1"))
	want := map[string]string{gpu.PausedAnnotation: "true", "team": "llm"}
	if len(got.Annotations) != len(want) || got.Annotations[gpu.PausedAnnotation] != "true" || got.Annotations["team"] != "llm" {
		t.Errorf("annotations %v, want %v", got.Annotations, want)
	}
	if res.RequeueAfter != 0 || len(evs) != 1 || !strings.HasPrefix(evs[0], "Normal Repaused scaleguard.io/unpause-until 2026-03-01T11:59:59Z passed") {
		t.Errorf("result %+v events %q", res, evs)
	}
}

func TestReconcileWaitsForTheExpiry(t *testing.T) {
	so := scaledObject(t0, map[string]string{gpu.PausedAnnotation: "false", gpu.UnpauseUntilAnnotation: "2026-03-01T14:00:00Z"})
	got, res, evs := reconcileOnce(t, policies.DefaultSettings(), so, gpuDeployment(t0, "1"))
	if got.Annotations[gpu.PausedAnnotation] != "false" || res.RequeueAfter != 2*time.Hour || len(evs) != 0 {
		t.Errorf("annotations %v result %+v events %q", got.Annotations, res, evs)
	}
}

func TestReconcilePausesWhenTheTargetAppears(t *testing.T) {
	got, _, evs := reconcileOnce(t, policies.DefaultSettings(), scaledObject(t0, nil), gpuDeployment(t0.Add(time.Minute), "2"))
	if got.Annotations[gpu.PausedAnnotation] != "true" || len(evs) != 1 || !strings.HasPrefix(evs[0], "Normal Paused Deployment \"llm\" appeared on a GPU tier") {
		t.Errorf("annotations %v events %q", got.Annotations, evs)
	}
}

func TestReconcileRespectsTheRuleSetting(t *testing.T) {
	for _, enf := range []policies.Enforcement{policies.WarnOnly, policies.Off} {
		s := policies.DefaultSettings()
		s.Rules = map[string]policies.RuleOverride{gpu.PausedDefaultID: {Action: enf}}
		got, _, evs := reconcileOnce(t, s, scaledObject(t0, nil), gpuDeployment(t0.Add(time.Minute), "1"))
		if len(got.Annotations) != 0 || len(evs) != 0 {
			t.Errorf("%s: annotations %v events %q", enf, got.Annotations, evs)
		}
	}
}

func TestReconcileOnARefusedPatch(t *testing.T) {
	for name, c := range map[string]struct {
		err     error
		wantErr bool
		event   string
	}{
		"conflict: the change comes back through the watch": {err: apierrors.NewConflict(schema.GroupResource{Group: "keda.sh", Resource: "scaledobjects"}, "llm", errors.New("changed"))},
		"denied: retried with backoff, a Warning event":     {err: apierrors.NewForbidden(schema.GroupResource{Group: "keda.sh", Resource: "scaledobjects"}, "llm", errors.New("no")), wantErr: true, event: "Warning PauseFailed could not set autoscaling.keda.sh/paused to \"true\""},
	} {
		t.Run(name, func(t *testing.T) {
			objs := []client.Object{scaledObject(t0, nil), gpuDeployment(t0, "1")}
			cl := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(objs...).WithInterceptorFuncs(interceptor.Funcs{
				Patch: func(context.Context, client.WithWatch, client.Object, client.Patch, ...client.PatchOption) error {
					return c.err
				},
			}).Build()
			rec := events.NewFakeRecorder(10)
			k := &keeper.Keeper{Client: cl, View: clusterview.NewManifests(objs...), Recorder: rec, Log: log.Log,
				Settings: policies.DefaultSettings, Now: func() time.Time { return t0 }}
			_, err := k.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "serving", Name: "llm"}})
			if (err != nil) != c.wantErr {
				t.Errorf("error %v, want error: %v", err, c.wantErr)
			}
			close(rec.Events)
			var evs []string
			for e := range rec.Events {
				evs = append(evs, e)
			}
			if (c.event == "" && len(evs) != 0) || (c.event != "" && (len(evs) != 1 || !strings.HasPrefix(evs[0], c.event))) {
				t.Errorf("events %q, want %q", evs, c.event)
			}
		})
	}
}

func TestReconcileLeavesExcludedNamespacesAlone(t *testing.T) {
	so := scaledObject(t0, map[string]string{gpu.PausedAnnotation: "false", gpu.UnpauseUntilAnnotation: "2026-03-01T11:59:59Z"})
	objs := []client.Object{so, gpuDeployment(t0, "1")}
	c := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(objs...).Build()
	rec := events.NewFakeRecorder(10)
	k := &keeper.Keeper{
		Client: c, View: clusterview.NewManifests(objs...), Recorder: rec, Log: log.Log,
		Settings: func() *policies.Settings { return policies.DefaultSettings() }, Now: func() time.Time { return t0 },
		Excluded: []string{"serving"},
	}
	res, err := k.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "serving", Name: "llm"}})
	if err != nil || res.RequeueAfter != 0 {
		t.Fatalf("res %+v err %v", res, err)
	}
	got := &kedav1alpha1.ScaledObject{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "serving", Name: "llm"}, got); err != nil {
		t.Fatal(err)
	}
	if got.Annotations[gpu.PausedAnnotation] != "false" || len(rec.Events) != 0 {
		t.Errorf("an excluded namespace was touched: annotations %v, %d events", got.Annotations, len(rec.Events))
	}
}

func TestReconcileReadsTheNamespaceSettingsAndExemptions(t *testing.T) {
	until := metav1.NewTime(t0.Add(3 * time.Hour))
	exempt := policies.DefaultSettings()
	exempt.Exemptions = []policies.Exemption{{Rules: []string{gpu.PausedDefaultID}, Namespaces: []string{"serving"}, Reason: "load test", Until: &until, Policy: "ops"}}
	off := policies.DefaultSettings()
	off.Rules = map[string]policies.RuleOverride{gpu.PausedDefaultID: {Action: policies.Off}}
	for name, c := range map[string]struct {
		settings *policies.Settings
		ann      map[string]string
		paused   bool
		requeue  time.Duration
	}{
		"defaults in serving":          {settings: policies.DefaultSettings(), paused: true},
		"the rule off in serving":      {settings: off},
		"a policy exemption until 3h":  {settings: exempt, requeue: 3 * time.Hour},
		"an annotation with a reason":  {settings: policies.DefaultSettings(), ann: map[string]string{policies.ExemptAnnotation: gpu.PausedDefaultID, policies.ExemptReasonAnnotation: "tuning"}},
		"an annotation without reason": {settings: policies.DefaultSettings(), ann: map[string]string{policies.ExemptAnnotation: gpu.PausedDefaultID}, paused: true},
	} {
		t.Run(name, func(t *testing.T) {
			objs := []client.Object{scaledObject(t0, c.ann), gpuDeployment(t0.Add(time.Minute), "1")}
			cl := fake.NewClientBuilder().WithScheme(apis.Scheme).WithObjects(objs...).Build()
			var asked []string
			k := &keeper.Keeper{
				Client: cl, View: clusterview.NewManifests(objs...), Recorder: events.NewFakeRecorder(10), Log: log.Log,
				Settings: func() *policies.Settings { t.Error("Settings asked although SettingsFor is set"); return nil },
				SettingsFor: func(ns string) *policies.Settings {
					asked = append(asked, ns)
					return c.settings
				},
				Now: func() time.Time { return t0 },
			}
			res, err := k.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "serving", Name: "llm"}})
			if err != nil {
				t.Fatal(err)
			}
			got := &kedav1alpha1.ScaledObject{}
			if err := cl.Get(context.Background(), client.ObjectKey{Namespace: "serving", Name: "llm"}, got); err != nil {
				t.Fatal(err)
			}
			if paused := got.Annotations[gpu.PausedAnnotation] == "true"; paused != c.paused || res.RequeueAfter != c.requeue {
				t.Errorf("paused %v requeue %s, want %v %s", paused, res.RequeueAfter, c.paused, c.requeue)
			}
			if len(asked) != 1 || asked[0] != "serving" {
				t.Errorf("settings asked for %v", asked)
			}
		})
	}
}
