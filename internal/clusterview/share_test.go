package clusterview

import (
	"fmt"
	"hash/maphash"
	"maps"
	"reflect"
	"sync"
	"testing"
)

func TestTableSharesEqualContentAndStartsOverAtItsBound(t *testing.T) {
	tb := newTable(3, maps.Equal[map[string]string])
	share := func(v string) map[string]string {
		m := map[string]string{"k": v}
		return tb.share(hashStrings(m), m, nil)
	}
	first := share("a")
	if again := share("a"); !sameMap(again, first) {
		t.Fatal("equal content not shared")
	}
	share("b")
	share("c")
	if n := tb.len(); n != 3 {
		t.Fatalf("table holds %d values, want 3", n)
	}
	// Full: the fourth value starts the table over; what objects hold is
	// theirs still.
	share("d")
	if n := tb.len(); n != 1 {
		t.Fatalf("table holds %d values after reaching its bound, want 1", n)
	}
	if first["k"] != "a" {
		t.Fatalf("a value handed out changed: %v", first)
	}
	if again := share("a"); sameMap(again, first) || again["k"] != "a" {
		t.Fatal("after starting over, the table still gave out a value it forgot")
	}
}

// Two contents under one hash are not shared: each keeps its own.
func TestTableKeepsUnequalContentUnderOneHash(t *testing.T) {
	tb := newTable(8, maps.Equal[map[string]string])
	a, b := map[string]string{"k": "a"}, map[string]string{"k": "b"}
	if got := tb.share(1, a, nil); !sameMap(got, a) {
		t.Fatal("first value not recorded")
	}
	if got := tb.share(1, b, nil); !sameMap(got, b) {
		t.Fatalf("a different content under the same hash got %v", got)
	}
}

// Run with -race: informers of different kinds
// transform at the same time.
func TestTableConcurrentUse(t *testing.T) {
	tb := newTable(16, func(a, b string) bool { return a == b })
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				// 32 contents over a bound of 16: the table starts
				// over again and again while others read it.
				s := fmt.Sprintf("value-%d", (i+g)%32)
				if got := tb.share(maphash.String(seed, s), s, nil); got != s {
					t.Errorf("shared %q for %q", got, s)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := tb.len(); n > 16 {
		t.Fatalf("table holds %d values, over its bound of 16", n)
	}
}

func TestInternSkipsLongStrings(t *testing.T) {
	long := string(make([]byte, maxInterned+1))
	if intern(long) != long || intern("") != "" {
		t.Fatal("intern changed a value")
	}
}

// sameMap reports whether a and b are one map (not only equal).
func sameMap(a, b map[string]string) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}
