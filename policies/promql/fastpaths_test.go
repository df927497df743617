package promql

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// The hand-written readers on the rule path answer exactly as the
// expressions and decoders they replace: checked on chosen cases and on
// random strings over the characters that matter.

func referenceNumber(s string) (float64, error) {
	var f float64
	err := json.Unmarshal([]byte(strings.TrimSpace(s)), &f)
	return f, err
}

var referenceScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`).MatchString

func randomString(r *rand.Rand, alphabet string, max int) string {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func TestKedaNumberReadsAsTheJSONDecoder(t *testing.T) {
	cases := []string{"", " ", "0", "-0", "5", " 5 ", "0.5", ".5", "5.", "+5", "1e3", "1E+3", "1e-3", "1e", "01", "00", "-", "0x10",
		"null", `"5"`, "true", "1e400", "-1e400", "1e-400", "NaN", "Inf", "0.0005", "0.0004999", "1_000", "5 5", "\t7\n", "9007199254740993"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		cases = append(cases, randomString(r, "0123456789.-+eE n", 8))
	}
	for _, c := range cases {
		got, gerr := kedaNumber(c)
		want, werr := referenceNumber(c)
		if (gerr == nil) != (werr == nil) || (gerr == nil && got != want && !(math.IsNaN(got) && math.IsNaN(want))) {
			t.Errorf("%q: got %v, %v; the decoder reads %v, %v", c, got, gerr, want, werr)
		}
	}
}

func TestRoundsToZeroAsFmt(t *testing.T) {
	vals := []float64{0, 0.0004, 0.0005, 0.00049999, 0.00050001, 0.001, 1, -0.0004, math.SmallestNonzeroFloat64, 1e300, math.Inf(1)}
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		vals = append(vals, r.Float64()*0.002)
	}
	for _, v := range vals {
		if got, want := roundsToZero(v), fmt.Sprintf("%.3f", v) == "0.000"; got != want {
			t.Errorf("%v: %v, want %v", v, got, want)
		}
	}
}

func TestHasSchemeAsTheExpression(t *testing.T) {
	cases := []string{"", "http://x", "https://a@b", "amqp://", "postgresql://u:p@h/db", "1http://x", "h://", "h:/", "h:", "://x",
		"a+b.c-d://x", "a_b://x", "ab ://x", " http://x", "HTTP://X", "host:5672", "a:b://c"}
	r := rand.New(rand.NewPCG(5, 6))
	for range 50000 {
		cases = append(cases, randomString(r, "aZ9+.-_:/ @", 10))
	}
	for _, c := range cases {
		if got, want := hasScheme(c), referenceScheme(c); got != want {
			t.Errorf("%q: %v, want %v", c, got, want)
		}
	}
}
