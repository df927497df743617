package webhooks

import (
	"encoding/json"
	"reflect"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// reviewSeeds are AdmissionReviews as API servers send them, and bodies
// where readers of JSON part ways.
var reviewSeeds = []string{
	`{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"705ab4f5-6393-11e8-b7cc-42010a800002",` +
		`"kind":{"group":"keda.sh","version":"v1alpha1","kind":"ScaledObject"},"resource":{"group":"keda.sh","version":"v1alpha1","resource":"scaledobjects"},` +
		`"requestKind":{"group":"keda.sh","version":"v1alpha1","kind":"ScaledObject"},"requestResource":{"group":"keda.sh","version":"v1alpha1","resource":"scaledobjects"},` +
		`"name":"llama","namespace":"serving","operation":"UPDATE","userInfo":{"username":"system:serviceaccount:argocd:argocd-application-controller",` +
		`"uid":"u","groups":["system:serviceaccounts","system:authenticated"],"extra":{"authentication.kubernetes.io/pod-name":["argocd-0"]}},` +
		`"object":{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"llama","namespace":"serving","creationTimestamp":null},` +
		`"spec":{"scaleTargetRef":{"name":"llama"},"triggers":[{"type":"prometheus","metadata":{"query":"sum(vllm:num_requests_waiting{model_name=\"llama\"})","threshold":"5"}}]}},` +
		`"oldObject":{"apiVersion":"keda.sh/v1alpha1","kind":"ScaledObject","metadata":{"name":"llama"}},"dryRun":false,` +
		`"options":{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","fieldManager":"argocd-controller"}}}`,
	`{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"a","object":null,"oldObject":null,"options":null}}`,
	`{"Kind":"AdmissionReview","APIVERSION":"admission.k8s.io/v1","Request":{"UID":"a","Operation":"CREATE","DryRun":true}}`,
	`{"kind":"AdmissionReview","request":{"uid":"a","uid":"b","object":{"a":1},"object":{"b":2}}}`,
	`{"kind":"AdmissionReview","request":{"uid":"a","userInfo":{"extra":{"a":["1"]},"extra":{"b":["2"]}}}}`,
	"{\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"\xff\",\"name\":\"\xc3\"}}",
	`{"kind":"AdmissionReview","request":{"uid":"a","object":"text","oldObject":[1,2],"options":3}}`,
	`{"kind":"AdmissionReview","request":{"uid":"a","object":{"x":"\u0000\ud800"}}}`,
	`{"kind":"AdmissionReview","request":{"uid":1}}`,
	`{"kind":"AdmissionReview","request":{"uid":"a","dryRun":"true"}}`,
	`{"kind":"AdmissionReview","request":{"uid":"a","dryRun":null}}`,
	`{"kind":"AdmissionReview","request":{"uid":"a","kind":{"Kind":"X","KIND":"Y"}}}`,
	`{"kind":"AdmissionReview","request":{"uid":"a","resource":{"re_source":"x"}}}`,
	`{"request":{"uid":"a"}} trailing`,
	`{"request":{"uid":"a"}`,
	`[]`, `null`, ``, ` {} `, `{"request":null}`, `{"request":{"uid":"a","object":{}}}`,
}

// FuzzUnmarshalV1 holds unmarshalV1 to encoding/json: an AdmissionReview or
// a TypeMeta it reads is what encoding/json reads, and it refuses what
// encoding/json refuses.
func FuzzUnmarshalV1(f *testing.F) {
	for _, s := range reviewSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got admissionv1.AdmissionReview
		errWant, errGot := json.Unmarshal(data, &want), unmarshalV1(data, &got)
		if (errWant == nil) != (errGot == nil) {
			t.Fatalf("%q: encoding/json says %v, unmarshalV1 says %v", data, errWant, errGot)
		}
		if errWant == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%q: read differently:\n%#v\n%#v", data, want, got)
		}
		var wantTM, gotTM metav1.TypeMeta
		errWant, errGot = json.Unmarshal(data, &wantTM), unmarshalV1(data, &gotTM)
		if (errWant == nil) != (errGot == nil) || wantTM != gotTM {
			t.Fatalf("%q: TypeMeta %v %+v, unmarshalV1 %v %+v", data, errWant, wantTM, errGot, gotTM)
		}
	})
}
