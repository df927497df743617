package clusterview

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

var (
	servedDesc = prometheus.NewDesc("scaleguard_watched_kind_served",
		"Whether the cluster serves a kind scaleguard watches (1) or not (0: its CRD is not installed, and it reads as empty until it is).",
		[]string{"group", "kind"}, nil)
	syncedDesc = prometheus.NewDesc("scaleguard_informer_synced",
		"Whether the informer cache of a served kind has synced (1) or not (0); admission waits for every one.",
		[]string{"group", "kind"}, nil)
)

// Collector reports, at each scrape, which watched kinds the cluster serves
// and whether the informer of each served kind has synced.
func (v *Cache) Collector() prometheus.Collector { return syncCollector{v} }

type syncCollector struct{ v *Cache }

func (c syncCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- servedDesc
	ch <- syncedDesc
}

func (c syncCollector) Collect(ch chan<- prometheus.Metric) {
	for gvk := range c.v.Served() {
		ch <- prometheus.MustNewConstMetric(servedDesc, prometheus.GaugeValue, 1, groupLabel(gvk), gvk.Kind)
		ch <- prometheus.MustNewConstMetric(syncedDesc, prometheus.GaugeValue, boolValue(c.v.informerSynced(gvk)), groupLabel(gvk), gvk.Kind)
	}
	for _, gvk := range c.v.Missing() {
		ch <- prometheus.MustNewConstMetric(servedDesc, prometheus.GaugeValue, 0, groupLabel(gvk), gvk.Kind)
	}
}

// informerSynced reports whether the informer of a served kind has synced.
// NewCache created every served kind's informer, so this looks it up.
func (v *Cache) informerSynced(gvk schema.GroupVersionKind) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	inf, err := v.reader.GetInformerForKind(ctx, gvk, cache.BlockUntilSynced(false))
	return err == nil && inf.HasSynced()
}

func groupLabel(gvk schema.GroupVersionKind) string {
	if gvk.Group == "" {
		return "core"
	}
	return gvk.Group
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
