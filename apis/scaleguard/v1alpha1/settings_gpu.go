package v1alpha1

import (
	"fmt"
	"path"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// GPUSettings defines what a GPU tier is and how the gpu-* rules and the
// pause keeper treat ScaledObjects on it.
type GPUSettings struct {
	// AcceleratorResources are extended resource names, or patterns in
	// path.Match syntax ("gpu.intel.com/*"), that put a pod on the GPU tier
	// when a container or init container requests or limits them. The
	// units of these resources are what gpu-idle-cost and gpu-quota count.
	AcceleratorResources []string `json:"acceleratorResources"`
	// DeviceClassSubstrings: a pod that claims a device through dynamic
	// resource allocation (a ResourceClaimTemplate or ResourceClaim) whose
	// device class name contains one of these (case-insensitive) is on the
	// GPU tier.
	DeviceClassSubstrings []string `json:"deviceClassSubstrings"`
	// NodeLabels are node labels that only GPU nodes carry. A pod whose
	// nodeSelector or required node affinity selects one is on the GPU tier.
	NodeLabels []NodeLabel `json:"nodeLabels"`
	// TolerationKeys are taints only GPU nodes carry; a pod tolerating one
	// is on the GPU tier.
	TolerationKeys []string `json:"tolerationKeys"`
	// NamespaceLabels put every ScaledObject of a namespace carrying all of
	// them on the GPU tier, whatever its target looks like (and even before
	// the target exists).
	NamespaceLabels map[string]string `json:"namespaceLabels"`
	// HourlyPrice is the price of one GPU for one hour; when set,
	// gpu-idle-cost says what an idle month costs. Unset by default.
	// +kubebuilder:validation:Minimum=0
	HourlyPrice *float64 `json:"hourlyPrice,omitempty"`
	// Currency is printed after amounts of money ("USD").
	Currency string `json:"currency"`
	// RequireUnpauseExpiry makes gpu-unpaused deny an explicit
	// autoscaling.keda.sh/paused: "false" on a GPU tier without a
	// scaleguard.io/unpause-until no further than MaxUnpauseWindow ahead.
	// Off by default: the same findings are warnings.
	RequireUnpauseExpiry bool `json:"requireUnpauseExpiry"`
	// MaxUnpauseWindow is how far ahead scaleguard.io/unpause-until may be.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="must be a positive duration, such as 8h or 90m"
	MaxUnpauseWindow metav1.Duration `json:"maxUnpauseWindow"`
	// MinCooldownSeconds is the shortest cooldownPeriod (and HPA scale-down
	// stabilization window) gpu-cooldown accepts: GPU replicas take minutes
	// to load a model.
	// +kubebuilder:validation:Minimum=0
	MinCooldownSeconds int32 `json:"minCooldownSeconds"`
}

// NodeLabel is a node label that marks GPU nodes. With no Values any value
// counts except "false" and "0" (which select nodes without GPUs); with
// Values only those do (node.kubernetes.io/instance-type: the GPU instance
// types of your clusters).
type NodeLabel struct {
	// +kubebuilder:validation:Required
	// +kubebuilder:validation:MinLength=1
	Key    string   `json:"key"`
	Values []string `json:"values,omitempty"`
}

// DefaultGPUSettings returns the built-in GPU-tier definition.
func DefaultGPUSettings() GPUSettings {
	return GPUSettings{
		AcceleratorResources: []string{
			"nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/*", "nvidia.com/mig-*",
			"google.com/tpu", "aws.amazon.com/neuron*",
		},
		DeviceClassSubstrings: []string{"gpu"},
		NodeLabels: []NodeLabel{
			{Key: "nvidia.com/gpu.present"},
			{Key: "cloud.google.com/gke-accelerator"},
			{Key: "karpenter.k8s.aws/instance-gpu-count"},
		},
		TolerationKeys:     []string{"nvidia.com/gpu"},
		NamespaceLabels:    map[string]string{"scaleguard.io/tier": "gpu"},
		Currency:           "USD",
		MaxUnpauseWindow:   metav1.Duration{Duration: 8 * time.Hour},
		MinCooldownSeconds: 300,
	}
}

func (g GPUSettings) validate() []string {
	var errs []string
	for i, p := range g.AcceleratorResources {
		if p == "" {
			errs = append(errs, fmt.Sprintf("gpu.acceleratorResources[%d]: empty", i))
		} else if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Sprintf("gpu.acceleratorResources[%d]: %q is not a valid pattern", i, p))
		}
	}
	for i, s := range g.DeviceClassSubstrings {
		if s == "" {
			errs = append(errs, fmt.Sprintf("gpu.deviceClassSubstrings[%d]: empty (it would match every device class)", i))
		}
	}
	for i, l := range g.NodeLabels {
		if l.Key == "" {
			errs = append(errs, fmt.Sprintf("gpu.nodeLabels[%d].key: required", i))
		}
	}
	for i, k := range g.TolerationKeys {
		if k == "" {
			errs = append(errs, fmt.Sprintf("gpu.tolerationKeys[%d]: empty (a toleration of every taint says nothing about GPUs)", i))
		}
	}
	for k := range g.NamespaceLabels {
		if k == "" {
			errs = append(errs, "gpu.namespaceLabels: empty key")
		}
	}
	if g.HourlyPrice != nil && *g.HourlyPrice < 0 {
		errs = append(errs, fmt.Sprintf("gpu.hourlyPrice: %v is negative", *g.HourlyPrice))
	}
	if g.MaxUnpauseWindow.Duration <= 0 {
		errs = append(errs, fmt.Sprintf("gpu.maxUnpauseWindow: %s must be positive", g.MaxUnpauseWindow.Duration))
	}
	if g.MinCooldownSeconds < 0 {
		errs = append(errs, fmt.Sprintf("gpu.minCooldownSeconds: %d is negative", g.MinCooldownSeconds))
	}
	return errs
}
