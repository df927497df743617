package controlplane

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// LoopbackAddr returns a free 127.0.0.1 address to listen on.
func LoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// WaitReady polls url (a /readyz endpoint) until it answers 200, ctx ends,
// timeout passes, or stopped (when not nil) is closed because the server
// exited.
func WaitReady(ctx context.Context, url string, timeout time.Duration, stopped <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	last := fmt.Errorf("not ready after %s", timeout)
	for time.Now().Before(deadline) {
		select {
		case <-stopped:
			return fmt.Errorf("the server stopped before it was ready")
		default:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("%s: %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return last
}
