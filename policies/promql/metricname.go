package promql

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/scaleguard/scaleguard/policies"
)

// exposed maps every series name the catalogue's exporters expose to its
// exporter: gauges as named, counters with _total and _created, histograms
// as _bucket, _sum, _count and _created.
var exposed = func() map[string]*exporter {
	out := map[string]*exporter{}
	for _, e := range exporters {
		add := func(series string) {
			// A name two families expose (vllm:num_requests_waiting, from
			// the engine and the production-stack router) stays with the
			// first listed, the engine.
			if out[series] == nil {
				out[series] = e
			}
		}
		for name, t := range e.Metrics {
			switch t {
			case gauge:
				add(name)
			case counter:
				add(name)
				add(strings.TrimSuffix(name, "_total") + "_created")
			case histogram:
				for _, suf := range []string{"_bucket", "_sum", "_count", "_created"} {
					add(name + suf)
				}
			}
		}
	}
	return out
}()

// exposedBy maps every series name to every family exposing it (two for
// the names both the vLLM engine and the production-stack router expose).
var exposedBy = func() map[string][]*exporter {
	out := map[string][]*exporter{}
	for _, e := range exporters {
		for name, t := range e.Metrics {
			series := []string{name}
			switch t {
			case counter:
				series = append(series, strings.TrimSuffix(name, "_total")+"_created")
			case histogram:
				series = []string{name + "_bucket", name + "_sum", name + "_count", name + "_created"}
			}
			for _, n := range series {
				out[n] = append(out[n], e)
			}
		}
	}
	return out
}()

// emitterLabel reports whether an exporter of the metric sets label to
// name what a series is about (the router's server on
// vllm:num_requests_waiting): the catalogue makes it a workload label of
// that metric whatever the scope profile lists.
func emitterLabel(metric, label string) bool {
	for _, e := range exposedBy[metric] {
		if has(e.Labels, label) && carries(metric, label) {
			return true
		}
	}
	return false
}

// seriesSuffixes are the suffixes a histogram's series add to its name.
var seriesSuffixes = []string{"_bucket", "_sum", "_count", "_created"}

// nameVerdict is what the catalogue says about a metric name.
type nameVerdict struct {
	// exporter claims the name; nil when no known exporter does.
	exporter *exporter
	// ok: the exporter exposes the name (or no exporter claims it).
	ok bool
	// use is the right name (or expression), "" when none is known.
	use string
	// why explains the verdict.
	why string
	// guess: use is only the nearest known name.
	guess bool
}

// judgeName looks a metric name up in the catalogue. A name is judged only
// inside a prefix that families catalogue completely (vllm:, sglang:,
// kthena_router_): a name no family sharing that prefix lists is wrong.
// Names under a prefix catalogued in part (a gateway's names grow release
// by release) or under no known prefix are not judged.
func judgeName(name string, extra map[string]bool) nameVerdict {
	if extra[name] || strings.Count(name, ":") >= 2 {
		// Extra names are the administrator's; level:metric:operations
		// names are recording rules, which no exporter exposes.
		return nameVerdict{ok: true}
	}
	if e := exposed[name]; e != nil {
		return nameVerdict{exporter: e, ok: true}
	}
	e := claimant(name)
	if e == nil {
		// vllm_num_requests_running: a colon name written with underscores.
		for _, x := range []*exporter{&vllm, &sglang} {
			under := strings.TrimSuffix(x.Prefix, ":") + "_"
			if rest, ok := strings.CutPrefix(name, under); ok {
				colon := x.Prefix + rest
				v := judgeName(colon, extra)
				if v.exporter == nil || v.guess || (!v.ok && v.use == "") {
					// Not a name the exporter is known for: maybe another
					// exporter's metric.
					break
				}
				use, why := colon, ""
				if !v.ok {
					use, why = v.use, "; "+v.why
				}
				return nameVerdict{exporter: x, use: use, why: fmt.Sprintf("its names start with %s%s", x.Prefix, why)}
			}
		}
		return nameVerdict{ok: true}
	}
	if !e.Complete {
		return nameVerdict{exporter: e, ok: true}
	}
	base, suffix := name, ""
	for _, suf := range seriesSuffixes {
		if b, ok := strings.CutSuffix(name, suf); ok {
			base, suffix = b, suf
			break
		}
	}
	for _, n := range []string{name, base, name + "_total"} {
		if r, ok := renamed[n]; ok {
			use := r.to
			if n == base && suffix != "" && isName(use) {
				use += suffix
			}
			return nameVerdict{exporter: e, use: use, why: r.why}
		}
	}
	if x := exposed[name+"_total"]; x != nil {
		return nameVerdict{exporter: x, use: name + "_total", why: "counters are exposed with the suffix _total"}
	}
	for _, x := range claimants(name) {
		if x.Metrics[name] == histogram {
			return nameVerdict{exporter: x, use: name + "_bucket", why: "it is a histogram, exposed only as _bucket (for histogram_quantile), _sum and _count"}
		}
	}
	if near := nearest(name, e.Prefix); near != "" {
		return nameVerdict{exporter: e, use: near, guess: true}
	}
	return nameVerdict{exporter: e, why: "no such metric"}
}

// claimant is the first family whose prefix starts name, nil when none
// does.
func claimant(name string) *exporter {
	if cs := claimants(name); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// claimants are the families whose prefix starts name.
func claimants(name string) []*exporter {
	var out []*exporter
	for _, e := range exporters {
		if strings.HasPrefix(name, e.Prefix) {
			out = append(out, e)
		}
	}
	return out
}

// family is the family that exposes a name, else the first that claims it.
func family(name string) *exporter {
	if e := exposed[name]; e != nil {
		return e
	}
	return claimant(name)
}

// notExposedBy says that no family sharing a prefix exposes a name: "SGLang
// does not expose", "neither vLLM V1 nor the vLLM production-stack router
// exposes".
func notExposedBy(prefix string) string {
	var names []string
	for _, e := range exporters {
		if e.Prefix == prefix {
			names = append(names, e.Name)
		}
	}
	if len(names) == 1 {
		return names[0] + " does not expose"
	}
	return "neither " + strings.Join(names, " nor ") + " exposes"
}

// sourcesOfPrefix cites the sources of every family sharing a prefix.
func sourcesOfPrefix(prefix string) string {
	var srcs []string
	for _, e := range exporters {
		if e.Prefix == prefix {
			srcs = append(srcs, e.Source)
		}
	}
	return strings.Join(srcs, "; ")
}

// isName reports whether s is a bare metric name (not an expression).
func isName(s string) bool {
	return !strings.ContainsAny(s, " ([+/")
}

// checkNames yields promql-metric-name warnings, once per metric name.
func checkNames(sels []selector, q Query, s *policies.PromQLSettings) []policies.Finding {
	var extra map[string]bool
	if len(s.ExtraMetrics) > 0 {
		extra = make(map[string]bool, len(s.ExtraMetrics))
		for _, m := range s.ExtraMetrics {
			extra[m] = true
		}
	}
	var out []policies.Finding
	seen := map[string]bool{}
	for _, sel := range sels {
		for _, name := range namesOf(sel) {
			if seen[name] {
				continue
			}
			seen[name] = true
			v := judgeName(name, extra)
			if v.ok {
				continue
			}
			who := v.exporter.Name
			if v.guess {
				out = append(out, warn(MetricNameID, q.Field,
					"%s does not expose metric %q, so the query finds no series; did you mean %s? (list the name in promql.extraMetrics if your version has it)",
					who, name, code(v.use)))
				continue
			}
			if v.use == "" {
				out = append(out, warn(MetricNameID, q.Field,
					"%s metric %q (%s in %s), so the query finds no series; check the name, or list it in promql.extraMetrics if your version has it",
					notExposedBy(v.exporter.Prefix), name, v.why, sourcesOfPrefix(v.exporter.Prefix)))
				continue
			}
			out = append(out, warn(MetricNameID, q.Field,
				"%s does not expose metric %q (%s), so the query finds no series; use %s", who, name, v.why, code(v.use)))
		}
	}
	return out
}

// namesOf lists the literal metric names a selector may select: its name,
// or the alternatives of a __name__ regex made only of literal names.
func namesOf(sel selector) []string {
	if sel.name != "" {
		return []string{sel.name}
	}
	for _, m := range sel.vs.LabelMatchers {
		if m != nil && m.Name == labels.MetricName && m.Type == labels.MatchRegexp {
			return m.SetMatches()
		}
	}
	return nil
}

// nearest is the catalogue name under prefix closest to name when it is a
// likely typo.
func nearest(name, prefix string) string {
	best, bestD := "", len(name)/5+1
	for cand, e := range exposed {
		if e.Prefix != prefix {
			continue
		}
		if d := policies.EditDistance(name, cand, bestD); d < bestD || (d == bestD && best != "" && cand < best) {
			best, bestD = cand, d
		}
	}
	return best
}
