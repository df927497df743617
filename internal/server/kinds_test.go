package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestKindsWatcherWatchesAKindOnceItIsServed(t *testing.T) {
	disc := &fakeResources{}
	isvc := schema.GroupVersionKind{Group: "serving.kserve.io", Version: "v1beta1", Kind: "InferenceService"}
	ms := schema.GroupVersionKind{Group: "workload.serving.volcano.sh", Version: "v1alpha1", Kind: "ModelServing"}
	view := &fakeLateKinds{missing: []schema.GroupVersionKind{isvc, ms}, fail: map[schema.GroupVersionKind]int{isvc: 1}}
	w := &kindsWatcher{discovery: disc, view: view, every: 10 * time.Millisecond, log: logr.Discard()}
	if w.NeedLeaderElection() {
		t.Fatal("every replica must watch")
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	time.Sleep(100 * time.Millisecond)
	if got := view.watchedKinds(); len(got) != 0 {
		t.Fatalf("watched %v while nothing is served", got)
	}

	// KServe's CRD is installed: another group appears first, then the
	// kind. Its first Watch fails and is tried again; the process never
	// ends because of it.
	disc.set(
		&metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{{Name: "widgets", Kind: "Widget"}}},
		&metav1.APIResourceList{GroupVersion: "serving.kserve.io/v1beta1", APIResources: []metav1.APIResource{{Name: "inferenceservices", Kind: "InferenceService"}}},
	)
	waitFor(t, "InferenceService watched", func() bool { return slices.Equal(view.watchedKinds(), []schema.GroupVersionKind{isvc}) })
	select {
	case err := <-done:
		t.Fatalf("the watcher ended with %v while ModelServing is still missing", err)
	default:
	}

	// Kthena follows: nothing is missing any more, the watcher is done.
	disc.set(
		&metav1.APIResourceList{GroupVersion: "serving.kserve.io/v1beta1", APIResources: []metav1.APIResource{{Name: "inferenceservices", Kind: "InferenceService"}}},
		&metav1.APIResourceList{GroupVersion: "workload.serving.volcano.sh/v1alpha1", APIResources: []metav1.APIResource{{Name: "modelservings", Kind: "ModelServing"}}},
	)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher did not finish once every kind was watched")
	}
	if got := view.watchedKinds(); !slices.Equal(got, []schema.GroupVersionKind{isvc, ms}) {
		t.Errorf("watched %v", got)
	}
}

func TestKindsWatcherWithNothingMissingReturnsAtOnce(t *testing.T) {
	w := &kindsWatcher{view: &fakeLateKinds{}, every: time.Hour, log: logr.Discard()}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for: %s", what)
}

// fakeLateKinds records the kinds the watcher asks it to watch; fail makes
// the first Watch calls of a kind fail.
type fakeLateKinds struct {
	mu      sync.Mutex
	missing []schema.GroupVersionKind
	watched []schema.GroupVersionKind
	fail    map[schema.GroupVersionKind]int
}

func (f *fakeLateKinds) Missing() []schema.GroupVersionKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.missing)
}

func (f *fakeLateKinds) Watch(_ context.Context, gvk schema.GroupVersionKind) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[gvk] > 0 {
		f.fail[gvk]--
		return errors.New("informer could not start")
	}
	f.watched = append(f.watched, gvk)
	f.missing = slices.DeleteFunc(f.missing, func(m schema.GroupVersionKind) bool { return m == gvk })
	return nil
}

func (f *fakeLateKinds) watchedKinds() []schema.GroupVersionKind {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.watched)
}

// fakeResources serves discovery answers that a test can change.
type fakeResources struct {
	mu    sync.Mutex
	lists map[string]*metav1.APIResourceList
}

func (f *fakeResources) set(lists ...*metav1.APIResourceList) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = map[string]*metav1.APIResourceList{}
	for _, l := range lists {
		f.lists[l.GroupVersion] = l
	}
}

func (f *fakeResources) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l, ok := f.lists[gv]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("the server could not find the requested resource (%s)", gv)
}
