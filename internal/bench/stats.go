package bench

import (
	"slices"
	"time"
)

// Median is the middle of ds (the upper one of an even count).
func Median(ds []time.Duration) time.Duration { return Quantile(ds, 0.5) }

// Quantile is the q-quantile of ds by the nearest-rank method: the
// smallest value at least a fraction q of the samples do not exceed.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return quantileSorted(s, q)
}

func quantileSorted(s []time.Duration, q float64) time.Duration {
	rank := int(q*float64(len(s))+0.999999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}
