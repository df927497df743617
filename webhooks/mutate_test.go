package webhooks_test

import (
	"encoding/json"
	"strings"
	"testing"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scaleguard/scaleguard/internal/clusterview"
	"github.com/scaleguard/scaleguard/webhooks"
)

const soMutatePath = "/mutate-keda-sh-v1alpha1-scaledobject"

// gpuView holds the runbook's GPU Deployment, so a ScaledObject on it is
// on the GPU tier.
func gpuView() *clusterview.Manifests {
	return clusterview.NewManifests(&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "raw-vllm", Namespace: "serving"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "vllm", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}},
		}}}}},
	})
}

const unpausedGPU = `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s","namespace":"serving"},
"spec":{"scaleTargetRef":{"name":"raw-vllm"},"triggers":[{"type":"cpu","metricType":"Utilization","metadata":{"value":"50"}}]}}`

func TestMutatingEndpointAnswersWithAJSONPatch(t *testing.T) {
	srv := newServer(t, syncedView{gpuView()})
	r := admit(t, srv, soMutatePath, review(soKind, admissionv1.Create, unpausedGPU))
	if !r.Allowed || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch || len(r.Patch) == 0 {
		t.Fatalf("want an allowed JSON patch, got allowed=%v patchType=%v patch=%s", r.Allowed, r.PatchType, r.Patch)
	}
	p, err := jsonpatchapply.DecodePatch(r.Patch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Apply([]byte(unpausedGPU))
	if err != nil {
		t.Fatalf("the patch does not apply to the object sent: %v", err)
	}
	var obj struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Metadata.Annotations["autoscaling.keda.sh/paused"] != "true" || len(obj.Metadata.Annotations) != 1 {
		t.Fatalf("patched annotations %v", obj.Metadata.Annotations)
	}
	if len(r.Warnings) == 0 || !strings.HasPrefix(r.Warnings[0], "[gpu-paused-default] mutated ") {
		t.Errorf("the mutation must be told to the client: %q", r.Warnings)
	}

	// A second pass over the patched object changes nothing.
	again := admit(t, srv, soMutatePath, review(soKind, admissionv1.Create, string(out)))
	if !again.Allowed || len(again.Patch) != 0 {
		t.Fatalf("second pass patched again: %s", again.Patch)
	}
}

func TestMutatingEndpointFailsOpen(t *testing.T) {
	for name, tc := range map[string]struct {
		view webhooks.View
		obj  string
		want string
	}{
		"view not synced":        {neverSynced{gpuView()}, unpausedGPU, "not synced"},
		"object does not decode": {syncedView{gpuView()}, `{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"s"},"spec":{"minReplicaCount":"x"}}`, "decoding ScaledObject"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, tc.view)
			r := admit(t, srv, soMutatePath, review(soKind, admissionv1.Create, tc.obj))
			if !r.Allowed || len(r.Patch) != 0 {
				t.Fatalf("the mutating side must allow unchanged: %+v", r.Result)
			}
			if len(r.Warnings) != 1 || !strings.HasPrefix(r.Warnings[0], "[scaleguard] not mutated: ") || !strings.Contains(r.Warnings[0], tc.want) {
				t.Fatalf("warnings %q, want the reason %q", r.Warnings, tc.want)
			}
		})
	}
}
