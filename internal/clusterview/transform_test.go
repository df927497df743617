package clusterview_test

import (
	"encoding/json"
	"testing"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/apis"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

func TestTransformKeepsWhatRulesReadOnly(t *testing.T) {
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "llm", Namespace: "serving",
			Labels:        map[string]string{"app": "llm"},
			Annotations:   map[string]string{"kubectl.kubernetes.io/last-applied-configuration": "{...}", "keep": "me"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"cloud.google.com/gke-accelerator": "nvidia-l4"},
			Tolerations:  []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists}},
			Volumes:      []corev1.Volume{{Name: "cache"}},
			Containers: []corev1.Container{{
				Name: "vllm", Image: "vllm", Args: []string{"--model", "x"}, Env: []corev1.EnvVar{{Name: "HF_TOKEN", Value: "secret"}},
				Ports:     []corev1.ContainerPort{{Name: "http", ContainerPort: 8000}},
				Resources: corev1.ResourceRequirements{Limits: gpu},
			}},
		}}},
		Status: appsv1.DeploymentStatus{Replicas: 2, Conditions: []appsv1.DeploymentCondition{{Type: "Available"}}},
	}
	out, err := clusterview.Transform(d)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*appsv1.Deployment)
	if got.ManagedFields != nil {
		t.Error("managed fields kept")
	}
	// kubectl's copy is cut down to whether it sets spec.replicas (it does
	// not parse here, so it does not).
	if got.Annotations["kubectl.kubernetes.io/last-applied-configuration"] != "{}" || got.Annotations["keep"] != "me" {
		t.Errorf("annotations = %v", got.Annotations)
	}
	spec := got.Spec.Template.Spec
	c := spec.Containers[0]
	if c.Env != nil || c.Args != nil || spec.Volumes != nil {
		t.Errorf("unread fields kept: env %v args %v volumes %v", c.Env, c.Args, spec.Volumes)
	}
	if c.Name != "vllm" || len(c.Ports) != 1 || !c.Resources.Limits["nvidia.com/gpu"].Equal(resource.MustParse("1")) {
		t.Errorf("container lost what rules read: %+v", c)
	}
	if spec.NodeSelector["cloud.google.com/gke-accelerator"] != "nvidia-l4" || len(spec.Tolerations) != 1 {
		t.Errorf("placement lost: %+v", spec)
	}
	if got.Status.Replicas != 2 || got.Status.Conditions != nil {
		t.Errorf("status = %+v", got.Status)
	}
}

// The cache keeps of a workload's apply records only whether the applied
// manifest sets spec.replicas; the rules reach the same verdict on the
// trimmed object as on the full one.
func TestTransformKeepsWhatTheRulesRead(t *testing.T) {
	ssa := func(fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: "argocd-controller", Operation: metav1.ManagedFieldsOperationApply,
			APIVersion: "apps/v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}
	}
	controller := metav1.ManagedFieldsEntry{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
		APIVersion: "apps/v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{}}`)}}
	cases := map[string]struct {
		lastApplied string
		managed     []metav1.ManagedFieldsEntry
		warned      bool
		keptFields  int
	}{
		"client-side apply with replicas":    {lastApplied: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"llm"},"spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"vllm","image":"vllm"}]}}}}`, warned: true},
		"client-side apply without replicas": {lastApplied: `{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{}}}`},
		"server-side apply with replicas":    {managed: []metav1.ManagedFieldsEntry{ssa(`{"f:spec":{"f:replicas":{},"f:template":{}}}`), controller}, warned: true, keptFields: 1},
		"server-side apply without replicas": {managed: []metav1.ManagedFieldsEntry{ssa(`{"f:spec":{"f:template":{}}}`), controller}},
		"no apply record":                    {managed: []metav1.ManagedFieldsEntry{controller}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			replicas := int32(2)
			d := &appsv1.Deployment{
				ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "serving", ResourceVersion: "7", UID: "u-1",
					Labels: map[string]string{"app.kubernetes.io/instance": "llm"}, ManagedFields: tc.managed},
				Spec: appsv1.DeploymentSpec{Replicas: &replicas},
			}
			if tc.lastApplied != "" {
				d.Annotations = map[string]string{policies.LastAppliedAnnotation: tc.lastApplied}
			}
			full := judge(t, d.DeepCopy())
			out, err := clusterview.Transform(d)
			if err != nil {
				t.Fatal(err)
			}
			trimmed := out.(*appsv1.Deployment)
			if got := judge(t, trimmed); got != full {
				t.Fatalf("verdict on the trimmed object %q differs from the full one %q", got, full)
			}
			if (full != "") != tc.warned {
				t.Fatalf("conflict-gitops-replicas warned=%v, want %v: %q", full != "", tc.warned, full)
			}
			if len(trimmed.ManagedFields) != tc.keptFields {
				t.Errorf("kept %d managed-fields entries, want %d", len(trimmed.ManagedFields), tc.keptFields)
			}
			if a := trimmed.Annotations[policies.LastAppliedAnnotation]; len(a) > len(`{"spec":{"replicas":"set"}}`) {
				t.Errorf("last-applied kept at %d bytes: %s", len(a), a)
			}
		})
	}
}

// judge returns the conflict-gitops-replicas message on a ScaledObject
// targeting d, "" when there is none.
func judge(t *testing.T, d *appsv1.Deployment) string {
	t.Helper()
	so := &kedav1alpha1.ScaledObject{
		TypeMeta:   metav1.TypeMeta{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject"},
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "serving"},
		Spec: kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "llm"},
			Triggers: []kedav1alpha1.ScaleTriggers{{Type: "cpu", Metadata: map[string]string{"value": "50"}}}},
	}
	raw, err := json.Marshal(so)
	if err != nil {
		t.Fatal(err)
	}
	res, err := policies.NewEngine(policies.Default).Validate(policies.Request{
		GVK: apis.ScaledObject, Operation: policies.Create, Object: raw, View: clusterview.NewManifests(d),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Rule == "conflict-gitops-replicas" {
			return f.Message
		}
	}
	return ""
}

func TestTransformTrimsLeaderWorkerSetTemplatesAndManifestsServeThem(t *testing.T) {
	gpu := corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("8")}
	tmpl := func() corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "vllm", Args: []string{"--tensor-parallel-size", "8"}, Env: []corev1.EnvVar{{Name: "HF_TOKEN", Value: "secret"}},
			Ports:     []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			Resources: corev1.ResourceRequirements{Limits: gpu},
		}}}}
	}
	leader := tmpl()
	lws := &lwsv1.LeaderWorkerSet{
		ObjectMeta: metav1.ObjectMeta{Name: "vllm", Namespace: "serving"},
		Spec: lwsv1.LeaderWorkerSetSpec{LeaderWorkerTemplate: lwsv1.LeaderWorkerTemplate{
			LeaderTemplate: &leader, WorkerTemplate: tmpl(),
		}},
	}
	out, err := clusterview.Transform(lws)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*lwsv1.LeaderWorkerSet)
	for name, c := range map[string]corev1.Container{
		"leader": got.Spec.LeaderWorkerTemplate.LeaderTemplate.Spec.Containers[0],
		"worker": got.Spec.LeaderWorkerTemplate.WorkerTemplate.Spec.Containers[0],
	} {
		if c.Env != nil || c.Args != nil {
			t.Errorf("%s: unread fields kept: env %v args %v", name, c.Env, c.Args)
		}
		if len(c.Ports) != 1 || !c.Resources.Limits["nvidia.com/gpu"].Equal(resource.MustParse("8")) {
			t.Errorf("%s: container lost what rules read: %+v", name, c)
		}
	}

	view := clusterview.NewManifests(lws)
	if _, ok := view.LeaderWorkerSet("serving", "vllm"); !ok {
		t.Error("manifest view does not serve the LeaderWorkerSet")
	}
	if _, ok := view.LeaderWorkerSet("serving", "other"); ok {
		t.Error("manifest view serves a LeaderWorkerSet that was not given")
	}
}

// TestTransformTrimsDaemonSets keeps of a DaemonSet what monitors read:
// its pod template's labels and container ports.
func TestTransformTrimsDaemonSets(t *testing.T) {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "dcgm-exporter", Namespace: "gpu-operator"},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "nvidia-dcgm-exporter"}},
			Spec: corev1.PodSpec{
				Volumes: []corev1.Volume{{Name: "pod-gpu-resources"}},
				Containers: []corev1.Container{{
					Name: "nvidia-dcgm-exporter", Image: "dcgm-exporter", Env: []corev1.EnvVar{{Name: "DCGM_EXPORTER_LISTEN", Value: ":9400"}},
					Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9400}},
				}},
			},
		}},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 8},
	}
	out, err := clusterview.Transform(ds)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*appsv1.DaemonSet)
	c := got.Spec.Template.Spec.Containers[0]
	if got.Spec.Template.Labels["app"] != "nvidia-dcgm-exporter" || len(c.Ports) != 1 || c.Ports[0].Name != "metrics" {
		t.Errorf("lost what monitors read: %+v", got.Spec.Template)
	}
	if c.Env != nil || got.Spec.Template.Spec.Volumes != nil || got.Status.DesiredNumberScheduled != 0 {
		t.Errorf("kept what no rule reads: %+v", got)
	}
}

// Of a pod template the transform keeps the labels and what rules read of
// the pod; of a Deployment's spec the replicas, selector and template; of
// a ScaledObject nothing of its status; a ModelServing's role templates
// are trimmed like a Deployment's.
func TestTransformTrimsUnreadTemplateFieldsAndStatus(t *testing.T) {
	revisions := int32(10)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "serving"},
		Spec: appsv1.DeploymentSpec{
			RevisionHistoryLimit: &revisions,
			Strategy:             appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Selector:             &metav1.LabelSelector{MatchLabels: map[string]string{"app": "llm"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "llm"}, Annotations: map[string]string{"prometheus.io/scrape": "true"}},
				Spec: corev1.PodSpec{
					SecurityContext:    &corev1.PodSecurityContext{},
					ServiceAccountName: "llm",
					Affinity:           &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}},
					Containers:         []corev1.Container{{Name: "vllm", Image: "vllm"}},
				},
			},
		},
	}
	if _, err := clusterview.Transform(d); err != nil {
		t.Fatal(err)
	}
	tmpl := d.Spec.Template
	if tmpl.Annotations != nil || tmpl.Spec.SecurityContext != nil || tmpl.Spec.ServiceAccountName != "" || d.Spec.RevisionHistoryLimit != nil || d.Spec.Strategy.Type != "" {
		t.Errorf("kept what no rule reads: %+v", d.Spec)
	}
	if tmpl.Labels["app"] != "llm" || d.Spec.Selector.MatchLabels["app"] != "llm" || tmpl.Spec.Affinity == nil || tmpl.Spec.Containers[0].Name != "vllm" {
		t.Errorf("lost what rules read: %+v", d.Spec)
	}

	so := &kedav1alpha1.ScaledObject{
		ObjectMeta: metav1.ObjectMeta{Name: "llm", Namespace: "serving"},
		Spec:       kedav1alpha1.ScaledObjectSpec{ScaleTargetRef: &kedav1alpha1.ScaleTarget{Name: "llm"}, Triggers: []kedav1alpha1.ScaleTriggers{{Type: "prometheus", Metadata: map[string]string{"query": "up"}}}},
		Status:     kedav1alpha1.ScaledObjectStatus{HpaName: "keda-hpa-llm", ExternalMetricNames: []string{"s0-prometheus"}},
	}
	if _, err := clusterview.Transform(so); err != nil {
		t.Fatal(err)
	}
	if so.Status.HpaName != "" || so.Status.ExternalMetricNames != nil || so.Spec.Triggers[0].Metadata["query"] != "up" || so.Spec.ScaleTargetRef.Name != "llm" {
		t.Errorf("ScaledObject transformed to %+v", so)
	}

	ms := &kthenav1alpha1.ModelServing{
		ObjectMeta: metav1.ObjectMeta{Name: "qwen", Namespace: "serving"},
		Spec: kthenav1alpha1.ModelServingSpec{Template: kthenav1alpha1.ServingGroup{Roles: []kthenav1alpha1.Role{{
			Name: "decode",
			EntryTemplate: kthenav1alpha1.PodTemplateSpec{
				Metadata: &kthenav1alpha1.TemplateMetadata{Labels: map[string]string{"tier": "decode"}, Annotations: map[string]string{"a": "b"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "vllm", Args: []string{"--model", "Qwen"}, Env: []corev1.EnvVar{{Name: "HF_TOKEN", Value: "secret"}},
					Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}},
				}}},
			},
		}}}},
	}
	if _, err := clusterview.Transform(ms); err != nil {
		t.Fatal(err)
	}
	role := ms.Spec.Template.Roles[0]
	c := role.EntryTemplate.Spec.Containers[0]
	if c.Args != nil || c.Env != nil || role.EntryTemplate.Metadata.Annotations != nil {
		t.Errorf("ModelServing role kept what no rule reads: %+v", role)
	}
	if role.EntryTemplate.Metadata.Labels["tier"] != "decode" || !c.Resources.Limits["nvidia.com/gpu"].Equal(resource.MustParse("1")) {
		t.Errorf("ModelServing role lost what rules read: %+v", role)
	}
}
