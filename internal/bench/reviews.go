package bench

import (
	"encoding/json"
	"fmt"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all" // Mix follows the rules' configuration
	"github.com/scaleguard/scaleguard/webhooks"
)

// Review is the AdmissionReview an API server sends for obj (and old, on
// UPDATE). On the validating side the object carries the uid the API
// server has given it by then.
func Review(kind apis.Kind, op admissionv1.Operation, obj, old client.Object, phase webhooks.Phase, dryRun bool, uid string) ([]byte, error) {
	o := obj.DeepCopyObject().(client.Object)
	o.GetObjectKind().SetGroupVersionKind(kind.GVK)
	if phase == webhooks.Validating && op == admissionv1.Create {
		o.SetUID(types.UID(fmt.Sprintf("%08x-0000-4000-8000-000000000000", hash(o.GetNamespace()+"/"+o.GetName()))))
	}
	raw, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	gvr := metav1.GroupVersionResource{Group: kind.GVK.Group, Version: kind.GVK.Version, Resource: kind.Resource}
	gvk := metav1.GroupVersionKind{Group: kind.GVK.Group, Version: kind.GVK.Version, Kind: kind.GVK.Kind}
	req := &admissionv1.AdmissionRequest{
		UID:             types.UID(uid),
		Kind:            gvk,
		Resource:        gvr,
		RequestKind:     &gvk,
		RequestResource: &gvr,
		Name:            o.GetName(),
		Namespace:       o.GetNamespace(),
		Operation:       op,
		UserInfo:        authenticationv1.UserInfo{Username: "kubernetes-admin", Groups: []string{"kubeadm:cluster-admins", "system:authenticated"}},
		Object:          runtime.RawExtension{Raw: raw},
		DryRun:          ptr.To(dryRun),
	}
	switch op {
	case admissionv1.Create:
		req.Options = runtime.RawExtension{Raw: []byte(`{"kind":"CreateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-client-side-apply","fieldValidation":"Strict"}`)}
	case admissionv1.Update:
		oo := old.DeepCopyObject().(client.Object)
		oo.GetObjectKind().SetGroupVersionKind(kind.GVK)
		if req.OldObject.Raw, err = json.Marshal(oo); err != nil {
			return nil, err
		}
		req.Options = runtime.RawExtension{Raw: []byte(`{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"kubectl-client-side-apply","fieldValidation":"Strict"}`)}
	}
	return json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request:  req,
	})
}

func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

// MixTargets is how many distinct ScaledObjects (each on its own
// Deployment) the CREATEs of the mix cycle through.
const MixTargets = 50

// Mix is the realistic admission mix of the HTTPS benchmark, each object
// through the endpoints the shipped configuration routes it to, as the
// API server calls them (its kind's mutating endpoint when a rule patches
// the kind, then its validating one): ScaledObject CREATEs (the
// five-trigger ScaledObject, under MixTargets names, each on its own
// Deployment) and UPDATEs (a
// threshold changed), an InferenceService with an external metric, a
// PodMonitor over 50 workloads and a CPU HPA. Objects() are what the
// cluster must hold for their verdicts to be the realistic ones (targets,
// workloads).
func Mix() ([]Post, error) {
	cs, err := Cases()
	if err != nil {
		return nil, err
	}
	byName := map[string]Case{}
	for _, c := range cs {
		byName[c.Name] = c
	}
	kindOf := func(gvk schema.GroupVersionKind) apis.Kind {
		for _, k := range apis.Guarded {
			if k.GVK == gvk {
				return k
			}
		}
		panic("not a guarded kind: " + gvk.String())
	}
	var out []Post
	add := func(c Case, op admissionv1.Operation, obj, old client.Object, n int) error {
		for _, phase := range []webhooks.Phase{webhooks.Mutating, webhooks.Validating} {
			k := kindOf(c.GVK)
			if phase == webhooks.Mutating && !webhooks.Mutates(policies.Default, k) {
				continue // the configuration has no mutating webhook for it
			}
			body, err := Review(k, op, obj, old, phase, false, fmt.Sprintf("bench-%s-%d-%s-%s", strings.ToLower(c.GVK.Kind), n, op, phase))
			if err != nil {
				return err
			}
			out = append(out, Post{Path: webhooks.Path(phase, k), Body: body})
		}
		return nil
	}
	five := byName["five-trigger ScaledObject"]
	so, err := Doc{GVK: five.GVK, JSON: five.Object}.Object()
	if err != nil {
		return nil, err
	}
	others := []Case{byName["InferenceService with an external metric"], byName["PodMonitor over 50 workloads"], byName["CPU HPA"]}
	for i := range MixTargets {
		created := so.(*kedav1alpha1.ScaledObject).DeepCopy()
		created.Name = fmt.Sprintf("bench-%02d", i)
		created.Spec.ScaleTargetRef.Name = fmt.Sprintf("bench-target-%02d", i)
		if err := add(five, admissionv1.Create, created, nil, i); err != nil {
			return nil, err
		}
		updated := so.(*kedav1alpha1.ScaledObject).DeepCopy()
		old := updated.DeepCopy()
		updated.Spec.Triggers[2].Metadata["threshold"] = fmt.Sprint(5 + i%3)
		if err := add(five, admissionv1.Update, updated, old, i); err != nil {
			return nil, err
		}
		c := others[i%len(others)]
		obj, err := Doc{GVK: c.GVK, JSON: c.Object}.Object()
		if err != nil {
			return nil, err
		}
		if err := add(c, admissionv1.Create, obj, nil, i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MixObjects are the objects the cluster holds for the mix: every case's
// related objects and the MixTargets Deployments the CREATEs scale.
func MixObjects() ([]client.Object, error) {
	cs, err := Cases()
	if err != nil {
		return nil, err
	}
	p, err := prototypes()
	if err != nil {
		return nil, err
	}
	var out []client.Object
	seen := map[string]bool{}
	for _, c := range cs {
		for _, o := range c.Related {
			k := fmt.Sprintf("%T/%s/%s", o, o.GetNamespace(), o.GetName())
			if !seen[k] {
				seen[k] = true
				out = append(out, o)
			}
		}
	}
	for i := range MixTargets {
		out = append(out, Deployment(p, "kserve-demo", fmt.Sprintf("bench-target-%02d", i), false))
	}
	return out, nil
}
