package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestKindsWatcherEndsTheManagerWhenAMissingKindAppears(t *testing.T) {
	disc := &fakeResources{}
	isvc := schema.GroupVersionKind{Group: "serving.kserve.io", Version: "v1beta1", Kind: "InferenceService"}
	w := &kindsWatcher{discovery: disc, missing: []schema.GroupVersionKind{isvc}, every: 10 * time.Millisecond, log: logr.Discard()}
	if w.NeedLeaderElection() {
		t.Fatal("every replica must watch")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	select {
	case err := <-done:
		t.Fatalf("ended while the kind is still missing: %v", err)
	case <-time.After(100 * time.Millisecond):
	}

	// The CRD is installed: another group appears first, then the kind.
	disc.set(
		&metav1.APIResourceList{GroupVersion: "example.com/v1", APIResources: []metav1.APIResource{{Name: "widgets", Kind: "Widget"}}},
		&metav1.APIResourceList{GroupVersion: "serving.kserve.io/v1beta1", APIResources: []metav1.APIResource{{Name: "inferenceservices", Kind: "InferenceService"}}},
	)
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "serving.kserve.io/v1beta1, Kind=InferenceService is now served") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher did not notice the new kind")
	}
	cancel()
}

func TestKindsWatcherWithNothingMissingReturnsAtOnce(t *testing.T) {
	w := &kindsWatcher{every: time.Hour, log: logr.Discard()}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
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
