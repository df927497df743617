package server

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// kindsWatcher ends the manager with an error when a kind scaleguard
// watches, but the cluster did not serve at start, becomes served (its CRD
// was installed later: KEDA, KServe or Kthena after scaleguard). The
// process exits and its restart watches the new kind, instead of judging
// that kind's relations from a view that stays empty. Every replica runs it.
type kindsWatcher struct {
	discovery groupVersionResources
	missing   []schema.GroupVersionKind
	every     time.Duration
	log       logr.Logger
}

// groupVersionResources is the part of discovery the watcher asks.
type groupVersionResources interface {
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
}

var _ groupVersionResources = (discovery.DiscoveryInterface)(nil)

// NeedLeaderElection is false: the webhooks of every replica read the view.
func (w *kindsWatcher) NeedLeaderElection() bool { return false }

// Start polls discovery until a missing kind is served or ctx ends.
func (w *kindsWatcher) Start(ctx context.Context) error {
	if len(w.missing) == 0 {
		return nil
	}
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if gvk, ok := w.firstServed(); ok {
				w.log.Info("a watched kind is now served; restarting to watch it", "kind", gvk.String())
				return fmt.Errorf("%s is now served by the cluster (its CRD was installed after scaleguard started): exiting so that the restart watches it", gvk)
			}
		}
	}
}

func (w *kindsWatcher) firstServed() (schema.GroupVersionKind, bool) {
	for _, gvk := range w.missing {
		list, err := w.discovery.ServerResourcesForGroupVersion(gvk.GroupVersion().String())
		if err != nil || list == nil {
			continue
		}
		for _, r := range list.APIResources {
			if r.Kind == gvk.Kind {
				return gvk, true
			}
		}
	}
	return schema.GroupVersionKind{}, false
}
