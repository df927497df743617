package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	"github.com/scaleguard/scaleguard/internal/controlplane"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/internal/server"
	"github.com/scaleguard/scaleguard/policies/gpu"
	"github.com/scaleguard/scaleguard/webhooks"
)

func newDevCommand() *cobra.Command {
	var examples []string
	var kubeconfigOut string
	var exitAfterApply bool
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Start a local control plane with scaleguard in front of it, apply the examples through it and keep it running",
		Long: "dev starts a real kube-apiserver and etcd (built from the Go module proxy into bin/k8s, or taken from KUBEBUILDER_ASSETS), " +
			"installs the KEDA, prometheus-operator, KServe and Kthena CRDs and scaleguard's webhook configurations, runs the webhook server, " +
			"applies the manifests given with --examples through the API server and prints what happened to each. " +
			"It then keeps running with a kubeconfig you can use with kubectl, until Ctrl-C. Run it from the repository.",
		Example: `  scaleguard dev                                   # what make demo runs
  scaleguard dev --kubeconfig-out /tmp/sg.kubeconfig
  scaleguard dev --examples my-manifests/ --exit-after-apply`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDev(cmd.OutOrStdout(), examples, kubeconfigOut, exitAfterApply)
		},
	}
	cmd.Flags().StringArrayVar(&examples, "examples", []string{"examples"}, "manifests to apply once the control plane is up (files, folders); repeatable")
	cmd.Flags().StringVar(&kubeconfigOut, "kubeconfig-out", "", "write the kubeconfig here (default: a temporary file removed on exit)")
	cmd.Flags().BoolVar(&exitAfterApply, "exit-after-apply", false, "tear down after applying the examples instead of waiting for Ctrl-C")
	return cmd
}

func runDev(w io.Writer, examples []string, kubeconfigOut string, exitAfterApply bool) error {
	log := ctrl.Log.WithName("dev")
	objs, err := manifests.Read(examples, nil)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintln(w, "starting kube-apiserver and etcd ...")
	start := time.Now()
	env, err := controlplane.Start(controlplane.Options{})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(w, "stopping the control plane ...")
		if err := env.Stop(); err != nil {
			fmt.Fprintln(w, "stopping the control plane:", err)
		}
	}()
	fmt.Fprintf(w, "control plane up in %s at %s\n", time.Since(start).Round(100*time.Millisecond), env.Config.Host)

	srvCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	probe, err := controlplane.LoopbackAddr()
	if err != nil {
		return err
	}
	wio := env.WebhookInstallOptions
	srv, err := server.New(srvCtx, env.Config, server.Options{
		CertDir: wio.LocalServingCertDir, Host: wio.LocalServingHost, Port: wio.LocalServingPort,
		MetricsAddr: "0", ProbeAddr: probe, PauseKeeper: true, PolicyStatus: true,
	}, log.WithName("serve"))
	if err != nil {
		return err
	}
	// The manager runs until cancel; stopServer waits for it, once, and is
	// deferred after the control plane's Stop so that it runs first.
	var runErr error
	finished := make(chan struct{})
	go func() { runErr = srv.Manager.Start(srvCtx); close(finished) }()
	stopServer := func() error {
		cancel()
		<-finished
		return runErr
	}
	defer func() { _ = stopServer() }()
	if err := controlplane.WaitReady(srvCtx, "http://"+probe+"/readyz", 60*time.Second, finished); err != nil {
		select {
		case <-finished:
			if runErr != nil {
				err = fmt.Errorf("%w: %v", err, runErr)
			}
		default:
		}
		return fmt.Errorf("scaleguard did not become ready: %w", err)
	}
	fmt.Fprintf(w, "scaleguard webhook serving on https://%s:%d (validating: fail closed, mutating: fail open)\n\n", wio.LocalServingHost, wio.LocalServingPort)

	fmt.Fprintf(w, "applying %d objects from %s through the API server:\n\n", len(objs), strings.Join(examples, ", "))
	outcomes, err := controlplane.Apply(ctx, env.Config, objs, srv.WaitSeen)
	if err != nil {
		return err
	}
	printOutcomes(w, outcomes)
	if err := showDecidedUpdate(ctx, w, env.Config, outcomes); err != nil {
		fmt.Fprintln(w, "updating a decided ScaledObject:", err)
	}

	kubeconfig := kubeconfigOut
	if kubeconfig == "" {
		dir, err := os.MkdirTemp("", "scaleguard-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		kubeconfig = filepath.Join(dir, "kubeconfig")
	}
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	if exitAfterApply {
		return stopServer()
	}
	fmt.Fprintf(w, "\nthe control plane keeps running. kubeconfig: %s\n", kubeconfig)
	fmt.Fprintf(w, "audit what is stored now (read-only, check's output and exit codes):\n      %s audit --kubeconfig %s\n", os.Args[0], kubeconfig)
	if _, err := exec.LookPath("kubectl"); err == nil {
		fmt.Fprintf(w, "try:  kubectl --kubeconfig %s apply -f <your manifests>\n", kubeconfig)
		fmt.Fprintf(w, "      kubectl --kubeconfig %s apply --dry-run=server -f examples/\n", kubeconfig)
	} else {
		fmt.Fprintln(w, "kubectl is not installed here; install it to apply your own manifests with that kubeconfig (any client that reads a kubeconfig works)")
	}
	fmt.Fprintln(w, "press Ctrl-C to stop")
	select {
	case <-ctx.Done():
	case <-finished:
		if runErr != nil {
			return fmt.Errorf("scaleguard stopped: %w", runErr)
		}
	}
	return stopServer()
}

// showDecidedUpdate re-labels the first ScaledObject the examples stored
// with a pause decision (the webhook's own, on a GPU tier), as a
// controller's update would, and says which webhooks the API server
// called for it: the mutating webhook's matchCondition leaves out a
// ScaledObject that has decided.
func showDecidedUpdate(ctx context.Context, w io.Writer, cfg *rest.Config, outcomes []controlplane.Outcome) error {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	for _, o := range outcomes {
		if o.Object.GVK != apis.ScaledObject || (o.Result != "created" && o.Result != "updated") {
			continue
		}
		so := &unstructured.Unstructured{}
		so.SetGroupVersionKind(apis.ScaledObject)
		if err := c.Get(ctx, client.ObjectKey{Namespace: o.Namespace, Name: o.Object.Name}, so); err != nil {
			return err
		}
		if gpu.DecisionOf(so.GetAnnotations()) == gpu.NoDecision {
			continue
		}
		calls := func() (mutating, validating float64) {
			for _, e := range webhooks.Endpoints() {
				if e.Kind.GVK != apis.ScaledObject {
					continue
				}
				for _, result := range []string{webhooks.ResultAllowed, webhooks.ResultDenied, webhooks.ResultError, webhooks.ResultAbandoned} {
					var m dto.Metric
					if err := webhooks.AdmissionRequestsTotal.WithLabelValues(e.Path, string(e.Phase), result).Write(&m); err != nil {
						continue
					}
					if e.Phase == webhooks.Mutating {
						mutating += m.GetCounter().GetValue()
					} else {
						validating += m.GetCounter().GetValue()
					}
				}
			}
			return mutating, validating
		}
		m0, v0 := calls()
		labels := so.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels["team"] = "inference"
		so.SetLabels(labels)
		if err := c.Update(ctx, so); err != nil {
			return err
		}
		m1, v1 := calls()
		fmt.Fprintf(w, "\nupdated ScaledObject %s/%s, which carries %s=%q, as a controller would: %v calls to the mutating webhook, %v to the validating one (a ScaledObject that has decided is not sent to the mutating webhook)\n",
			o.Namespace, o.Object.Name, gpu.PausedAnnotation, so.GetAnnotations()[gpu.PausedAnnotation], m1-m0, v1-v0)
		return nil
	}
	return nil
}

func printOutcomes(w io.Writer, outcomes []controlplane.Outcome) {
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[o.Result]++
		name := o.Object.Name
		if o.Namespace != "" {
			name = o.Namespace + "/" + name
		}
		fmt.Fprintf(w, "%-8s %s %s   (%s)\n", strings.ToUpper(o.Result), o.Object.GVK.Kind, name, o.Object.Where())
		switch {
		case len(o.Causes) > 0:
			for _, c := range o.Causes {
				fmt.Fprintf(w, "         reason:  %s\n", c)
			}
		case o.Message != "":
			fmt.Fprintf(w, "         reason:  %s\n", o.Message)
		}
		for _, c := range o.Changes {
			fmt.Fprintf(w, "         patched: %s\n", c)
		}
		for _, warn := range o.Warnings {
			fmt.Fprintf(w, "         warning: %s\n", warn)
		}
	}
	fmt.Fprintf(w, "\n%d objects: %d created, %d updated, %d denied, %d errors\n",
		len(outcomes), counts["created"], counts["updated"], counts["denied"], counts["error"])
}
