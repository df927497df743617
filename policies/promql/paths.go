package promql

import "k8s.io/apimachinery/pkg/util/validation/field"

// Field paths are immutable (Child and Index make new ones), so the paths
// of the first triggers and of their usual metadata keys are built once
// and shared: building them for every trigger of every object judged,
// findings or not, was the largest source of allocations in judging a
// ScaledObject.

// cachedTriggers is how many triggers' paths are kept.
const cachedTriggers = 16

// metadataKeys are the metadata keys whose paths are kept.
var metadataKeys = []string{"query", "serverAddress", "threshold", "activationThreshold", "namespace", "customHeaders", "queryParameters"}

var triggerPaths = func() (out [cachedTriggers]struct {
	trigger, metadata *field.Path
	keys              map[string]*field.Path
}) {
	for i := range out {
		out[i].trigger = field.NewPath("spec", "triggers").Index(i)
		out[i].metadata = out[i].trigger.Child("metadata")
		out[i].keys = map[string]*field.Path{}
		for _, k := range metadataKeys {
			out[i].keys[k] = out[i].metadata.Child(k)
		}
	}
	return out
}()

// triggerPath is spec.triggers[i].
func triggerPath(i int) *field.Path {
	if i >= 0 && i < cachedTriggers {
		return triggerPaths[i].trigger
	}
	return field.NewPath("spec", "triggers").Index(i)
}

// metadataPath is spec.triggers[i].metadata.
func metadataPath(i int) *field.Path {
	if i >= 0 && i < cachedTriggers {
		return triggerPaths[i].metadata
	}
	return triggerPath(i).Child("metadata")
}

// metadataKeyPath is spec.triggers[i].metadata.<key>.
func metadataKeyPath(i int, key string) *field.Path {
	if i >= 0 && i < cachedTriggers {
		if p, ok := triggerPaths[i].keys[key]; ok {
			return p
		}
	}
	return metadataPath(i).Child(key)
}
