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

// kindsWatcher starts watching a kind scaleguard reads, but the cluster did
// not serve at start, once it becomes served (its CRD was installed after
// scaleguard: KEDA, KServe, Kthena or prometheus-operator): the view starts
// its informer in the running cache, and what follows new kinds (the pause
// keeper, the audit) learns of it. No replica restarts for those kinds
// (restartOn lists the exceptions: serve exits when one becomes served, and
// its restart watches it). Every replica runs
// it, since the webhooks of every replica read the view. It polls discovery,
// which every authenticated client may read, rather than watching CRDs,
// which would need a permission to read every CRD in the cluster.
type kindsWatcher struct {
	discovery groupVersionResources
	view      lateKinds
	restartOn []schema.GroupVersionKind
	every     time.Duration
	log       logr.Logger
}

// lateKinds is the part of the view the watcher drives.
type lateKinds interface {
	Missing() []schema.GroupVersionKind
	Watch(ctx context.Context, gvk schema.GroupVersionKind) error
}

// groupVersionResources is the part of discovery the watcher asks.
type groupVersionResources interface {
	ServerResourcesForGroupVersion(groupVersion string) (*metav1.APIResourceList, error)
}

var _ groupVersionResources = (discovery.DiscoveryInterface)(nil)

// NeedLeaderElection is false: the webhooks of every replica read the view.
func (w *kindsWatcher) NeedLeaderElection() bool { return false }

// Start polls discovery until ctx ends or no watched kind is missing, and
// watches each missing kind as it becomes served. A kind that fails to be
// watched is logged and tried again at the next poll.
func (w *kindsWatcher) Start(ctx context.Context) error {
	t := time.NewTicker(w.every)
	defer t.Stop()
	for len(w.view.Missing()) > 0 || len(w.restartOn) > 0 {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			for _, gvk := range w.restartOn {
				if w.served(gvk) {
					w.log.Info("a watched kind is now served; restarting to watch it", "kind", gvk.String())
					return fmt.Errorf("%s is now served by the cluster (its CRD was installed after scaleguard started): exiting so that the restart watches it", gvk)
				}
			}
			for _, gvk := range w.view.Missing() {
				if !w.served(gvk) {
					continue
				}
				if err := w.view.Watch(ctx, gvk); err != nil {
					w.log.Error(err, "a watched kind is now served but could not be watched; trying again", "kind", gvk.String(), "in", w.every)
				}
			}
		}
	}
	return nil
}

func (w *kindsWatcher) served(gvk schema.GroupVersionKind) bool {
	list, err := w.discovery.ServerResourcesForGroupVersion(gvk.GroupVersion().String())
	if err != nil || list == nil {
		return false
	}
	for _, r := range list.APIResources {
		if r.Kind == gvk.Kind {
			return true
		}
	}
	return false
}
