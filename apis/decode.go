package apis

import (
	"bytes"
	"encoding"
	"reflect"
	"sync"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kjson "sigs.k8s.io/json"
)

// Decoding is on the path of every admission request, so the common case
// takes one pass over the bytes. apimachinery's universal deserializer,
// which Decode falls back on, reads a JSON object twice: once with Go's
// encoding/json for its apiVersion and kind (matching key names in any
// letter case), then into the Go type with sigs.k8s.io/json (matching them
// exactly). DecodeExact does the second pass alone, which gives the same
// object whenever the first would find the kind asked for or none at all;
// plainKeys rules out, in a scan of the bytes, the only keys the two read
// differently.
//
// That second pass is itself faster than sigs.k8s.io/json's. The object
// is read by github.com/go-json-experiment/json (the implementation behind
// Go's encoding/json/v2) with the options that give encoding/json's v1
// semantics, matching names exactly as sigs.k8s.io/json does: one pass
// over the bytes instead of a validity scan and a decode, and a third of
// the allocations. sigs.k8s.io/json differs from that in one more way: it
// reads a JSON integer held in an interface{} as an int64, not a float64.
// So a Go type that can hold a JSON value in an interface, outside a
// field that decodes itself, is read by sigs.k8s.io/json as before
// (unmarshalExact). An object the fast reader refuses is left to Decode,
// which says what is wrong with it; FuzzDecodeExact and
// TestDecodeExactReadsFixturesAsTheDeserializer hold the two readings
// equal wherever the fast one succeeds.

// DecodeExact decodes JSON data into the Go type of gvk in one pass, and
// reports whether it could: the data is a JSON object that decodes
// without error and names either gvk's apiVersion and kind or neither, as
// Go's encoding/json reads them (so that webhooks' check that an object is
// of the kind its review says holds). When it reports false, Decode gives
// the answer (an error, or the kind the data names).
func DecodeExact(gvk schema.GroupVersionKind, data []byte) (client.Object, bool) {
	if !plainKeys(data) {
		return nil, false
	}
	into, err := Scheme.New(gvk)
	if err != nil {
		return nil, false
	}
	obj, ok := into.(client.Object)
	if !ok {
		return nil, false
	}
	if err := unmarshalExact(data, obj); err != nil {
		return nil, false
	}
	// The raw strings, not a parsed GroupVersionKind: an apiVersion that
	// does not parse must fall back to the deserializer's error.
	tm, ok := obj.GetObjectKind().(*metav1.TypeMeta)
	if !ok {
		return nil, false
	}
	if (tm.APIVersion != "" || tm.Kind != "") && (tm.APIVersion != gvk.GroupVersion().String() || tm.Kind != gvk.Kind) {
		return nil, false
	}
	tm.SetGroupVersionKind(gvk)
	return obj, true
}

// plainKeys reports whether no object key of data (at any depth) could be
// read differently by a case-insensitive and a case-sensitive decoder as
// far as apiVersion and kind go: every key spelling apiVersion or kind in
// some letter case spells it exactly, and no key holds an escape or a
// byte beyond ASCII (which could unescape or fold into one). It looks at
// each string followed by a colon; data that is not JSON fails later.
func plainKeys(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		start, plain := i+1, true
		j := start
		for ; j < len(data) && data[j] != '"'; j++ {
			switch c := data[j]; {
			case c == '\\':
				plain = false
				j++ // the escaped byte cannot end the string.
			case c >= 0x80:
				plain = false
			}
		}
		if j >= len(data) {
			return false // an unterminated string: not JSON.
		}
		k := j + 1
		for k < len(data) && (data[k] == ' ' || data[k] == '\t' || data[k] == '\n' || data[k] == '\r') {
			k++
		}
		if k < len(data) && data[k] == ':' {
			key := data[start:j]
			if !plain {
				return false
			}
			if (len(key) == 4 && bytes.EqualFold(key, []byte("kind")) && string(key) != "kind") ||
				(len(key) == 10 && bytes.EqualFold(key, []byte("apiVersion")) && string(key) != "apiVersion") {
				return false
			}
		}
		i = j
	}
	return true
}

// v1Exact are the options under which go-json-experiment/json reads JSON
// as sigs.k8s.io/json does into a type without interfaces: encoding/json's
// semantics, with names matched exactly.
var v1Exact = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv2.MatchCaseInsensitiveNames(false))

// unmarshalExact decodes data into obj, a pointer, as
// sigs.k8s.io/json.UnmarshalCaseSensitivePreserveInts does.
func unmarshalExact(data []byte, obj any) error {
	if holdsInterface(reflect.TypeOf(obj)) {
		return kjson.UnmarshalCaseSensitivePreserveInts(data, obj)
	}
	return jsonv2.Unmarshal(data, obj, v1Exact)
}

var (
	interfaceHolders sync.Map // reflect.Type → bool
	jsonUnmarshaler  = reflect.TypeFor[jsonv1.Unmarshaler]()
	textUnmarshaler  = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// holdsInterface reports whether decoding JSON into t can store a value in
// an interface: t is, or reaches through fields, pointers, slices, arrays
// and map values, an interface type that no UnmarshalJSON or UnmarshalText
// method on the way decodes itself.
func holdsInterface(t reflect.Type) bool {
	if v, ok := interfaceHolders.Load(t); ok {
		return v.(bool)
	}
	v := reaches(t, map[reflect.Type]bool{})
	interfaceHolders.Store(t, v)
	return v
}

func reaches(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a cycle: the first visit answers for it.
	}
	seen[t] = true
	if t.Kind() != reflect.Interface && t.Kind() != reflect.Pointer {
		if reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return false
		}
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return reaches(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if (f.IsExported() || f.Anonymous) && f.Tag.Get("json") != "-" && reaches(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
