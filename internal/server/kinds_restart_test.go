package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
)

// TestKindsWatcherRestartsForScaleGuardPolicy: scaleguard's own CRD,
// applied after serve started, ends the watcher with an error naming it (the
// process exits and its restart watches it), while a kind the view follows
// would not.
func TestKindsWatcherRestartsForScaleGuardPolicy(t *testing.T) {
	disc := &fakeResources{}
	w := &kindsWatcher{discovery: disc, view: &fakeLateKinds{}, restartOn: []schema.GroupVersionKind{clusterpolicy.GVK},
		every: 10 * time.Millisecond, log: logr.Discard()}
	done := make(chan error, 1)
	go func() { done <- w.Start(context.Background()) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the watcher ended (%v) before ScaleGuardPolicy was served", err)
	default:
	}
	disc.set(&metav1.APIResourceList{GroupVersion: clusterpolicy.GVK.GroupVersion().String(),
		APIResources: []metav1.APIResource{{Name: "scaleguardpolicies", Kind: clusterpolicy.GVK.Kind}}})
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "ScaleGuardPolicy") {
			t.Fatalf("err = %v, want one naming ScaleGuardPolicy", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the watcher kept running once ScaleGuardPolicy was served")
	}
}
