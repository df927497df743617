package clusterview

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/scaleguard/scaleguard/apis"
	argov1alpha1 "github.com/scaleguard/scaleguard/apis/argo/v1alpha1"
	kservev1beta1 "github.com/scaleguard/scaleguard/apis/kserve/v1beta1"
	kthenav1alpha1 "github.com/scaleguard/scaleguard/apis/kthena/v1alpha1"
	lwsv1 "github.com/scaleguard/scaleguard/apis/lws/v1"
	vpav1 "github.com/scaleguard/scaleguard/apis/vpa/v1"
	"github.com/scaleguard/scaleguard/policies"
)

// targetIndex indexes ScaledObjects and HPAs by the WorkloadRef key of
// their scale target.
const targetIndex = "scaleguard.io/target"

// hpaNameIndex indexes ScaledObjects by the name KEDA gives their HPA, so
// that judging one reads the few that share it rather than its namespace
// (policies.HPANameIndex).
const hpaNameIndex = "scaleguard.io/hpa-name"

// templateLabelIndex indexes workloads by the key=value pairs of their pod
// templates' labels (policies.TemplateLabelIndex).
const templateLabelIndex = "scaleguard.io/template-label"

// autoscalerTargetIndex indexes the objects of the autoscaler catalogue by
// the workloads they may scale (autoscalers.TargetIndex).
const autoscalerTargetIndex = "scaleguard.io/autoscaler-target"

// The cache view's informers list and watch the kinds of Watched; nothing
// else reads them from the API server (--create-read-through lists some of
// them too).
//
// +kubebuilder:rbac:groups="",resources=namespaces;services;resourcequotas,verbs=list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets,verbs=list;watch
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=list;watch
// +kubebuilder:rbac:groups=keda.sh,resources=scaledobjects,verbs=list;watch
// +kubebuilder:rbac:groups=monitoring.coreos.com,resources=podmonitors;servicemonitors,verbs=list;watch
// +kubebuilder:rbac:groups=serving.kserve.io,resources=inferenceservices,verbs=list;watch
// +kubebuilder:rbac:groups=workload.serving.volcano.sh,resources=modelservings;autoscalingpolicies;autoscalingpolicybindings,verbs=list;watch
// +kubebuilder:rbac:groups=resource.k8s.io,resources=resourceclaimtemplates;resourceclaims,verbs=list;watch
// +kubebuilder:rbac:groups=argoproj.io,resources=rollouts,verbs=list;watch
// +kubebuilder:rbac:groups=leaderworkerset.x-k8s.io,resources=leaderworkersets,verbs=list;watch
// +kubebuilder:rbac:groups=autoscaling.k8s.io,resources=verticalpodautoscalers,verbs=list;watch
// +kubebuilder:rbac:groups=autoscaling.aibrix.ai,resources=podautoscalers,verbs=list;watch
// +kubebuilder:rbac:groups=apps.nvidia.com,resources=nimservices,verbs=list;watch
// +kubebuilder:rbac:groups=serving.knative.dev,resources=services,verbs=list;watch
// +kubebuilder:rbac:groups=kubeai.org,resources=models,verbs=list;watch
// +kubebuilder:rbac:groups=kaito.sh,resources=inferencesets,verbs=list;watch

// Watched lists the kinds the cache view reads, in the order they are set up.
var Watched = []client.Object{
	&corev1.Namespace{},
	&appsv1.Deployment{},
	&appsv1.StatefulSet{},
	&corev1.Service{},
	&corev1.ResourceQuota{},
	&autoscalingv2.HorizontalPodAutoscaler{},
	&kedav1alpha1.ScaledObject{},
	&monitoringv1.PodMonitor{},
	&monitoringv1.ServiceMonitor{},
	&kservev1beta1.InferenceService{},
	&kthenav1alpha1.ModelServing{},
	&kthenav1alpha1.AutoscalingPolicy{},
	&kthenav1alpha1.AutoscalingPolicyBinding{},
	&resourcev1.ResourceClaimTemplate{},
	&resourcev1.ResourceClaim{},
	&argov1alpha1.Rollout{},
	&lwsv1.LeaderWorkerSet{},
	&appsv1.DaemonSet{},
	&vpav1.VerticalPodAutoscaler{},
	// The autoscaler kinds of the catalogue, as unstructured data
	// (autoscalers.go).
	apis.NewUnstructured(apis.PodAutoscaler),
	apis.NewUnstructured(apis.NIMService),
	apis.NewUnstructured(apis.KnativeService),
	apis.NewUnstructured(apis.KubeAIModel),
	apis.NewUnstructured(apis.InferenceSet),
}

// Cache is a ClusterView over controller-runtime's informer cache. Its reads
// never reach the API server: a kind the cluster does not serve (KServe not
// installed, say) reads as empty. ForCreate (fresh.go) gives a CREATE a view
// that reads a few lists through. A kind whose CRD is installed later is
// watched from then on (Watch, late.go), without a restart.
type Cache struct {
	synced atomic.Bool
	reader cache.Cache
	log    logr.Logger

	// mu guards served, missing, late and onServed: Watch adds kinds while
	// requests read.
	mu     sync.RWMutex
	served map[schema.GroupVersionKind]bool
	// missing are the watched kinds not served (yet).
	missing []schema.GroupVersionKind
	// late are the kinds watched since their CRD appeared after start.
	late map[schema.GroupVersionKind]*lateKind
	// onServed are called with each kind Watch starts watching.
	onServed []func(schema.GroupVersionKind)
	// startup are the kinds served at start: what WaitForSync waits for.
	startup []client.Object
	// indexers are the informers' indexers, read directly (indexed.go).
	indexers map[schema.GroupVersionKind]toolscache.Indexer

	// live and claims serve ForCreate (fresh.go); both nil by default.
	live   client.Reader
	claims *claims

	// podMonitorSchema follows the installed PodMonitor CRD; nil until
	// WatchPodMonitorSchema (podmonitorschema.go).
	podMonitorSchema *podMonitorSchema
}

var _ policies.ClusterView = &Cache{}

// NewCache sets up the informers and indexes of every watched kind that
// the cluster serves, so that they start and sync with the manager. Call it
// before the manager starts. The cache should be built with
// ReaderFailOnMissingInformer and CacheOptions' DefaultTransform = Transform.
func NewCache(ctx context.Context, c cache.Cache, mapper meta.RESTMapper, gvkOf func(runtime.Object) (schema.GroupVersionKind, error), log logr.Logger) (*Cache, error) {
	v := &Cache{reader: c, served: map[schema.GroupVersionKind]bool{}, late: map[schema.GroupVersionKind]*lateKind{}, log: log,
		indexers: map[schema.GroupVersionKind]toolscache.Indexer{}}
	for _, obj := range Watched {
		gvk, err := gvkOf(obj)
		if err != nil {
			return nil, err
		}
		if _, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			if meta.IsNoMatchError(err) {
				log.Info("kind not served by this cluster; it reads as empty until its CRD is installed, and is watched from then on", "kind", gvk.String())
				v.missing = append(v.missing, gvk)
				continue
			}
			return nil, fmt.Errorf("discovering %s: %w", gvk, err)
		}
		if err := v.inform(ctx, gvk, obj); err != nil {
			return nil, err
		}
		v.served[gvk] = true
		v.startup = append(v.startup, obj)
	}
	return v, nil
}

// inform starts (or, before the manager starts, sets up) the informer of a
// watched kind and the indexes rules read it by (indexed.go).
func (v *Cache) inform(ctx context.Context, gvk schema.GroupVersionKind, obj client.Object) error {
	return v.addIndexes(ctx, gvk, obj)
}

// Index values that are usually an object's own are not indexed:
// client-go keeps a set per indexed value, a few hundred bytes however few
// objects it holds, so a value of each object's own (a ScaledObject or HPA
// named after its target, KEDA's default HPA name keda-hpa-<name>, a pod
// template labelled app: <its workload's name>) costs that per object.
// Reads find such objects by name instead (ownNamed), and the two answers
// never overlap.

func indexSOTarget(o client.Object) []string {
	so, ok := o.(*kedav1alpha1.ScaledObject)
	if !ok {
		return nil
	}
	if t, ok := policies.KEDATarget(so); ok && t.Name != so.Name {
		return []string{t.Key()}
	}
	return nil
}

func indexSOHPAName(o client.Object) []string {
	if so, ok := o.(*kedav1alpha1.ScaledObject); ok {
		if n := policies.KEDAHPAName(so); n != kedaHPAPrefix+so.Name {
			return []string{n}
		}
	}
	return nil
}

// kedaHPAPrefix starts the name KEDA gives a ScaledObject's HPA unless
// told another.
const kedaHPAPrefix = "keda-hpa-"

func indexHPATarget(o client.Object) []string {
	h, ok := o.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		return nil
	}
	if t := policies.HPATarget(h); t.Name != h.Name {
		return []string{t.Key()}
	}
	return nil
}

// Missing lists the watched kinds the cluster does not serve (yet).
func (v *Cache) Missing() []schema.GroupVersionKind {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return slices.Clone(v.missing)
}

// Served reports which watched kinds the cluster serves now (a copy:
// IsServed follows kinds watched later).
func (v *Cache) Served() map[schema.GroupVersionKind]bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return maps.Clone(v.served)
}

// IsServed reports whether a watched kind is served and watched.
func (v *Cache) IsServed(gvk schema.GroupVersionKind) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.served[gvk]
}

// WaitForSync blocks until the informers of the kinds served at start have
// synced, or ctx ends. Once synced, informers stay synced, so later calls
// return at once. Kinds watched later are not waited for: a replica stays
// ready while it reads them (Syncing says which).
func (v *Cache) WaitForSync(ctx context.Context) bool {
	if v.synced.Load() {
		return true
	}
	if v.podMonitorSchema != nil && !v.podMonitorSchema.cache.WaitForCacheSync(ctx) {
		return false
	}
	for _, obj := range v.startup {
		inf, err := v.reader.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
		if err != nil || !toolscache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return false
		}
	}
	v.synced.Store(true)
	return true
}

// readTimeout bounds one cache read: reads are in-memory once synced, and a
// webhook call has 5 seconds in all.
const readTimeout = time.Second

// get reads one object into obj. Like lists, it does not deep-copy:
// obj is a shallow copy of the cached object, sharing its maps and
// slices, which ClusterView's readers never modify; deep-copying a
// Deployment cost more than the rules that read it.
func (v *Cache) get(gvk schema.GroupVersionKind, ns, name string, obj client.Object) bool {
	if !v.readable(gvk) {
		return false
	}
	ctx, cancel := v.readContext()
	defer cancel()
	if err := v.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj, client.UnsafeDisableDeepCopy); err != nil {
		if !apierrors.IsNotFound(err) {
			v.log.Error(err, "cache read failed", "kind", gvk.Kind, "namespace", ns, "name", name)
		}
		return false
	}
	// A read without a copy leaves the kind unset; a copied one has it.
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	return true
}

// readContext bounds a read by readTimeout until the view has synced;
// after that, reads are in memory and never wait, and the bound (a timer
// per read) is dropped.
func (v *Cache) readContext() (context.Context, context.CancelFunc) {
	if v.synced.Load() {
		return context.Background(), func() {}
	}
	return context.WithTimeout(context.Background(), readTimeout)
}

func (v *Cache) list(gvk schema.GroupVersionKind, list client.ObjectList, opts ...client.ListOption) bool {
	if !v.readable(gvk) {
		return false
	}
	ctx, cancel := v.readContext()
	defer cancel()
	opts = append(opts, client.UnsafeDisableDeepCopy)
	if err := v.reader.List(ctx, list, opts...); err != nil {
		v.log.Error(err, "cache list failed", "kind", gvk.Kind)
		return false
	}
	return true
}

func ptrs[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

var (
	gvkNamespace    = corev1.SchemeGroupVersion.WithKind("Namespace")
	gvkDeployment   = appsv1.SchemeGroupVersion.WithKind("Deployment")
	gvkStatefulSet  = appsv1.SchemeGroupVersion.WithKind("StatefulSet")
	gvkService      = corev1.SchemeGroupVersion.WithKind("Service")
	gvkQuota        = corev1.SchemeGroupVersion.WithKind("ResourceQuota")
	gvkHPA          = autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")
	gvkScaledObject = kedav1alpha1.SchemeGroupVersion.WithKind("ScaledObject")
	gvkPodMonitor   = monitoringv1.SchemeGroupVersion.WithKind("PodMonitor")
	gvkSvcMonitor   = monitoringv1.SchemeGroupVersion.WithKind("ServiceMonitor")
	gvkISVC         = kservev1beta1.GroupVersion.WithKind("InferenceService")
	gvkModelServing = kthenav1alpha1.GroupVersion.WithKind("ModelServing")
	gvkPolicy       = kthenav1alpha1.GroupVersion.WithKind("AutoscalingPolicy")
	gvkBinding      = kthenav1alpha1.GroupVersion.WithKind("AutoscalingPolicyBinding")
	gvkClaimTmpl    = resourcev1.SchemeGroupVersion.WithKind("ResourceClaimTemplate")
	gvkClaim        = resourcev1.SchemeGroupVersion.WithKind("ResourceClaim")
	gvkRollout      = argov1alpha1.GroupVersion.WithKind("Rollout")
	gvkLWS          = lwsv1.GroupVersion.WithKind("LeaderWorkerSet")
	gvkDaemonSet    = appsv1.SchemeGroupVersion.WithKind("DaemonSet")
)

// Namespace implements policies.ClusterView.
func (v *Cache) Namespace(name string) (*corev1.Namespace, bool) {
	return fetched[corev1.Namespace](v, gvkNamespace, "", name)
}

// Deployment implements policies.ClusterView.
func (v *Cache) Deployment(ns, name string) (*appsv1.Deployment, bool) {
	return fetched[appsv1.Deployment](v, gvkDeployment, ns, name)
}

// StatefulSet implements policies.ClusterView.
func (v *Cache) StatefulSet(ns, name string) (*appsv1.StatefulSet, bool) {
	return fetched[appsv1.StatefulSet](v, gvkStatefulSet, ns, name)
}

// ModelServing implements policies.ClusterView.
func (v *Cache) ModelServing(ns, name string) (*kthenav1alpha1.ModelServing, bool) {
	return fetched[kthenav1alpha1.ModelServing](v, gvkModelServing, ns, name)
}

// InferenceService implements policies.ClusterView.
func (v *Cache) InferenceService(ns, name string) (*kservev1beta1.InferenceService, bool) {
	return fetched[kservev1beta1.InferenceService](v, gvkISVC, ns, name)
}

// InferenceServices implements policies.ClusterView.
func (v *Cache) InferenceServices(ns string) []*kservev1beta1.InferenceService {
	return listed[kservev1beta1.InferenceService](v, gvkISVC, ns, "", "", newOf[kservev1beta1.InferenceServiceList])
}

// ScaledObjects implements policies.ClusterView.
func (v *Cache) ScaledObjects(ns string) []*kedav1alpha1.ScaledObject {
	return listed[kedav1alpha1.ScaledObject](v, gvkScaledObject, ns, "", "", newOf[kedav1alpha1.ScaledObjectList])
}

// ScaledObjectsFor implements policies.ClusterView.
func (v *Cache) ScaledObjectsFor(target policies.WorkloadRef) []*kedav1alpha1.ScaledObject {
	out := listed[kedav1alpha1.ScaledObject](v, gvkScaledObject, target.Namespace, targetIndex, target.Key(), newOf[kedav1alpha1.ScaledObjectList])
	return ownNamed(v, gvkScaledObject, target.Namespace, target.Name, out, func(so *kedav1alpha1.ScaledObject) bool {
		t, ok := policies.KEDATarget(so)
		return ok && t.Key() == target.Key()
	})
}

// ScaledObjectsWithHPAName implements policies.HPANameIndex.
func (v *Cache) ScaledObjectsWithHPAName(ns, name string) []*kedav1alpha1.ScaledObject {
	out := listed[kedav1alpha1.ScaledObject](v, gvkScaledObject, ns, hpaNameIndex, name, newOf[kedav1alpha1.ScaledObjectList])
	so, ok := strings.CutPrefix(name, kedaHPAPrefix)
	if !ok {
		return out
	}
	return ownNamed(v, gvkScaledObject, ns, so, out, func(so *kedav1alpha1.ScaledObject) bool { return policies.KEDAHPAName(so) == name })
}

// HPAs implements policies.ClusterView.
func (v *Cache) HPAs(ns string) []*autoscalingv2.HorizontalPodAutoscaler {
	return listed[autoscalingv2.HorizontalPodAutoscaler](v, gvkHPA, ns, "", "", newOf[autoscalingv2.HorizontalPodAutoscalerList])
}

// HPAsFor implements policies.ClusterView.
func (v *Cache) HPAsFor(target policies.WorkloadRef) []*autoscalingv2.HorizontalPodAutoscaler {
	out := listed[autoscalingv2.HorizontalPodAutoscaler](v, gvkHPA, target.Namespace, targetIndex, target.Key(), newOf[autoscalingv2.HorizontalPodAutoscalerList])
	return ownNamed(v, gvkHPA, target.Namespace, target.Name, out, func(h *autoscalingv2.HorizontalPodAutoscaler) bool {
		return policies.HPATarget(h).Key() == target.Key()
	})
}

// AutoscalingPolicies implements policies.ClusterView.
func (v *Cache) AutoscalingPolicies(ns string) []*kthenav1alpha1.AutoscalingPolicy {
	return listed[kthenav1alpha1.AutoscalingPolicy](v, gvkPolicy, ns, "", "", newOf[kthenav1alpha1.AutoscalingPolicyList])
}

// AutoscalingPolicyBindings implements policies.ClusterView.
func (v *Cache) AutoscalingPolicyBindings(ns string) []*kthenav1alpha1.AutoscalingPolicyBinding {
	return listed[kthenav1alpha1.AutoscalingPolicyBinding](v, gvkBinding, ns, "", "", newOf[kthenav1alpha1.AutoscalingPolicyBindingList])
}

// Services implements policies.ClusterView.
func (v *Cache) Services(ns string) []*corev1.Service {
	return listed[corev1.Service](v, gvkService, ns, "", "", newOf[corev1.ServiceList])
}

// PodMonitors implements policies.ClusterView.
func (v *Cache) PodMonitors(ns string) []*monitoringv1.PodMonitor {
	return listed[monitoringv1.PodMonitor](v, gvkPodMonitor, ns, "", "", newOf[monitoringv1.PodMonitorList])
}

// ServiceMonitors implements policies.ClusterView.
func (v *Cache) ServiceMonitors(ns string) []*monitoringv1.ServiceMonitor {
	return listed[monitoringv1.ServiceMonitor](v, gvkSvcMonitor, ns, "", "", newOf[monitoringv1.ServiceMonitorList])
}

// ResourceQuotas implements policies.ClusterView.
func (v *Cache) ResourceQuotas(ns string) []*corev1.ResourceQuota {
	return listed[corev1.ResourceQuota](v, gvkQuota, ns, "", "", newOf[corev1.ResourceQuotaList])
}

// ResourceClaimTemplate implements policies.ClusterView.
func (v *Cache) ResourceClaimTemplate(ns, name string) (*resourcev1.ResourceClaimTemplate, bool) {
	return fetched[resourcev1.ResourceClaimTemplate](v, gvkClaimTmpl, ns, name)
}

// ResourceClaim implements policies.ClusterView.
func (v *Cache) ResourceClaim(ns, name string) (*resourcev1.ResourceClaim, bool) {
	return fetched[resourcev1.ResourceClaim](v, gvkClaim, ns, name)
}

// LeaderWorkerSet implements policies.ClusterView.
func (v *Cache) LeaderWorkerSet(ns, name string) (*lwsv1.LeaderWorkerSet, bool) {
	return fetched[lwsv1.LeaderWorkerSet](v, gvkLWS, ns, name)
}

// Rollout implements policies.ClusterView.
func (v *Cache) Rollout(ns, name string) (*argov1alpha1.Rollout, bool) {
	return fetched[argov1alpha1.Rollout](v, gvkRollout, ns, name)
}

// WaitSeen waits until the cache holds the object of kind gvk at
// resourceVersion rv or later (or ctx ends), and reports whether it does.
// Tools that apply objects one after another through the webhook (the
// demo) use it so that each object is judged against the ones before it,
// as a cluster that is not being written to by the second would.
func (v *Cache) WaitSeen(ctx context.Context, gvk schema.GroupVersionKind, ns, name, rv string) bool {
	if !v.IsServed(gvk) {
		return true
	}
	var obj runtime.Object = apis.NewUnstructured(gvk)
	if !apis.IsUnstructured(gvk) {
		var err error
		if obj, err = apis.Scheme.New(gvk); err != nil {
			return true
		}
	}
	cobj, ok := obj.(client.Object)
	if !ok {
		return true
	}
	for {
		if err := v.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, cobj); err == nil && notOlder(cobj.GetResourceVersion(), rv) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// notOlder compares resource versions, which the API server documents as
// opaque but serves as increasing integers; anything else must be equal.
func notOlder(have, want string) bool {
	h, err1 := strconv.ParseUint(have, 10, 64)
	w, err2 := strconv.ParseUint(want, 10, 64)
	if err1 != nil || err2 != nil {
		return have == want
	}
	return h >= w
}
