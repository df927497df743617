package clusterview

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// podMonitorCRD is the shape of prometheus-operator's PodMonitor CRD
// (example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml),
// cut down to the path HasPortNumber reads and a sibling property.
func podMonitorCRD(t *testing.T, endpointProperties string) *apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	doc := `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: podmonitors.monitoring.coreos.com}
spec:
  group: monitoring.coreos.com
  names: {kind: PodMonitor, plural: podmonitors}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                jobLabel: {type: string}
                podMetricsEndpoints:
                  type: array
                  items:
                    type: object
                    properties: ` + endpointProperties + `
`
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict([]byte(doc), crd); err != nil {
		t.Fatal(err)
	}
	return crd
}

func TestHasPortNumber(t *testing.T) {
	cases := map[string]struct {
		properties string
		want       bool
	}{
		// prometheus-operator v0.79 and later.
		"current":       {`{port: {type: string}, portNumber: {type: integer}, targetPort: {x-kubernetes-int-or-string: true}}`, true},
		"before v0.79":  {`{port: {type: string}, targetPort: {x-kubernetes-int-or-string: true}}`, false},
		"no properties": {`{}`, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			crd := podMonitorCRD(t, c.properties)
			if got := HasPortNumber(crd); got != c.want {
				t.Fatalf("HasPortNumber = %v, want %v", got, c.want)
			}
			// What the informer keeps says the same, and nothing else.
			trimmed, err := trimPodMonitorCRD(crd)
			if err != nil {
				t.Fatal(err)
			}
			tc := trimmed.(*apiextensionsv1.CustomResourceDefinition)
			if got := HasPortNumber(tc); got != c.want {
				t.Fatalf("after trimming: HasPortNumber = %v, want %v", got, c.want)
			}
			if tc.Name != crd.Name || tc.Spec.Group != "" || len(tc.Spec.Versions) != 1 {
				t.Errorf("trimmed CRD keeps too much or too little: %+v", tc)
			}
		})
	}
	unserved := podMonitorCRD(t, `{portNumber: {type: integer}}`)
	unserved.Spec.Versions[0].Served = false
	if HasPortNumber(unserved) {
		t.Error("an unserved v1 was read")
	}
}
