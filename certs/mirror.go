package certs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// mirrorSecret writes the tls.crt and tls.key of the Secret the cache
// holds into dir whenever they change, where the webhook server's
// certificate watcher (controller-runtime's) reloads them.
//
// This is kept rather than mounting the Secret as a volume: the kubelet
// refreshes a mounted Secret only after its sync period (a minute or
// more), so the first start and every renewal would wait on it, while
// the informer gives every replica the new certificate within a second.
func mirrorSecret(c cache.Cache, dir string, log logr.Logger) error {
	inf, err := c.GetInformer(context.Background(), &corev1.Secret{}, cache.BlockUntilSynced(false))
	if err != nil {
		return fmt.Errorf("watching the certificate's Secret: %w", err)
	}
	write := func(o any) {
		sec, ok := o.(*corev1.Secret)
		if !ok {
			return
		}
		crt, key := sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]
		if len(crt) == 0 || len(key) == 0 {
			log.Info("the certificate's Secret holds no certificate yet", "secret", sec.Namespace+"/"+sec.Name)
			return
		}
		changed, err := writeIfChanged(dir, crt, key)
		if err != nil {
			log.Error(err, "writing the serving certificate", "dir", dir)
			return
		}
		if changed {
			log.Info("serving certificate written from its Secret", "secret", sec.Namespace+"/"+sec.Name, "dir", dir)
		}
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    write,
		UpdateFunc: func(_, o any) { write(o) },
	})
	return err
}

// writeIfChanged replaces tls.key and tls.crt in dir, each with a rename
// so a reader never sees half a file, the key first: a reader between the
// two renames finds a pair that does not match and keeps the certificate
// it has (the watcher reloads at the second rename).
func writeIfChanged(dir string, crt, key []byte) (bool, error) {
	old, _ := os.ReadFile(filepath.Join(dir, CertName))
	oldKey, _ := os.ReadFile(filepath.Join(dir, KeyName))
	if bytes.Equal(old, crt) && bytes.Equal(oldKey, key) {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{KeyName, key}, {CertName, crt}} {
		tmp, err := os.CreateTemp(dir, "."+f.name+"-")
		if err != nil {
			return false, err
		}
		if _, err := tmp.Write(f.data); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return false, err
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return false, err
		}
		if err := os.Rename(tmp.Name(), filepath.Join(dir, f.name)); err != nil {
			os.Remove(tmp.Name())
			return false, err
		}
	}
	return true, nil
}
