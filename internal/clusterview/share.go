package clusterview

import (
	"hash/maphash"
	"maps"
	"sync"
)

// Why the transform shares values between cached objects, and why it is
// safe.
//
// serve's cache holds tens of thousands of objects stamped from a few
// charts: from one Deployment to the next, the containers, their resource
// lists and ports, the annotations and most strings are equal. Each is a
// separate allocation once decoded, and a Go map costs a few hundred bytes
// however few entries it has, so equal copies make up much of the cache.
// Transform makes equal values one value: it looks each up in a table of
// the values seen before, by a hash of its content, and keeps the one
// found when the content is equal.
//
// It is safe because no one writes to a cached object. Rules read the
// cache through policies.ClusterView, whose contract is that objects it
// returns are shared and must not be modified; the cache view hands out
// the informers' own objects (shallow copies) already, so a value reached
// from two cached objects is read the way one reached from one object is
// read by concurrent admission requests. Every other reader (the keeper,
// controller-runtime's client) deep-copies before writing. Shared slices
// have no spare capacity, so that appending to one makes a new array
// rather than writing past its end into another object's view.
// TestSharedValuesStayUnchanged runs the rule scenarios over a cache of
// shared objects and holds every object to a fresh copy of itself.
//
// The tables are bounded: when one is full it starts over, and the
// objects keep the values they have (sharing restarts from there). Nothing
// grows without bound, and a table holds at most its bound of values that
// no cached object may still use.

// seed keys every content hash of the process.
var seed = maphash.MakeSeed()

// table is a bounded set of values keyed by a hash of their content, safe
// for concurrent use (informers of different kinds transform at the same
// time).
type table[T any] struct {
	mu    sync.Mutex
	m     map[uint64]T
	limit int
	equal func(a, b T) bool
}

func newTable[T any](limit int, equal func(a, b T) bool) *table[T] {
	return &table[T]{m: map[uint64]T{}, limit: limit, equal: equal}
}

// share returns the value held under hash h when its content equals v's;
// else it records prepare(v) (starting over when the table is full) and
// returns that. prepare (nil: none) readies a value before others can
// reach it. Two different contents with one hash (which a seeded 64-bit
// hash makes unlikely) are simply not shared.
func (t *table[T]) share(h uint64, v T, prepare func(T) T) T {
	if held, ok := t.get(h, v); ok {
		return held
	}
	if prepare != nil {
		v = prepare(v)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if held, ok := t.m[h]; ok {
		if t.equal(held, v) {
			return held // recorded meanwhile
		}
		return v
	}
	if len(t.m) >= t.limit {
		clear(t.m)
	}
	t.m[h] = v
	return v
}

func (t *table[T]) get(h uint64, v T) (T, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	held, ok := t.m[h]
	if ok && t.equal(held, v) {
		return held, true
	}
	return v, false
}

// reset empties the table and gives back its memory.
func (t *table[T]) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.m = map[uint64]T{}
}

// len is how many values the table holds.
func (t *table[T]) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}

// maxInterned is the longest string interned: longer ones (a query, a
// certificate) are seldom repeated, and a table must not hold large values
// no object uses any more.
const maxInterned = 256

var strs = newTable(8192, func(a, b string) bool { return a == b })

// intern returns the one copy of s the table holds.
func intern(s string) string {
	if s == "" || len(s) > maxInterned {
		return s
	}
	return strs.share(maphash.String(seed, s), s, nil)
}

// String maps (labels, annotations, node selectors) are shared whole when
// equal; otherwise rebuilt from interned strings, with a value equal to
// the object's name taken from the name (app: NAME is common and never
// repeats across objects) and other values naming the object left as they
// are.
var (
	labelMaps      = newTable(4096, maps.Equal[map[string]string])
	annotationMaps = newTable(4096, maps.Equal[map[string]string])
)

func shareStrings(t *table[map[string]string], m map[string]string, name string) map[string]string {
	if len(m) == 0 {
		return m
	}
	for _, v := range m {
		if ownValue(v, name) {
			// No other object has this map: not worth a place in t.
			return internStrings(m, name)
		}
	}
	return t.share(hashStrings(m), m, func(m map[string]string) map[string]string { return internStrings(m, name) })
}

// internStrings copies m with interned strings, but values naming the
// object: one equal to the name is the name.
func internStrings(m map[string]string, name string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		switch {
		case v == name:
			v = name
		case !ownValue(v, name):
			v = intern(v)
		}
		out[intern(k)] = v
	}
	return out
}

// hashStrings hashes a map's entries regardless of order.
func hashStrings(m map[string]string) uint64 {
	var sum uint64
	var h maphash.Hash
	h.SetSeed(seed)
	for k, v := range m {
		h.Reset()
		h.WriteString(k)
		h.WriteByte(0)
		h.WriteString(v)
		sum += h.Sum64()
	}
	return sum ^ uint64(len(m))
}
