package promql

import (
	"encoding/json"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/scaleguard/scaleguard/policies"
)

// kedaNumber reads a number the way KEDA reads trigger metadata: trimmed,
// then decoded as JSON (so "0.5" and "1e3" parse, ".5", "5." and "+5" do
// not).
func kedaNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	// A plain JSON number is what a threshold almost always is: read it
	// as encoding/json would (strconv.ParseFloat of the literal) without
	// the decoder. Anything else (null, a string, an out-of-range
	// number) takes the decoder itself, for its exact answer.
	if jsonNumber(s) {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	}
	var f float64
	err := json.Unmarshal([]byte(s), &f)
	return f, err
}

// jsonNumber reports whether s is a number literal of RFC 8259's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// roundsToZero reports whether KEDA, keeping three decimals, reads v as 0
// (fmt's %.3f of v is "0.000").
func roundsToZero(v float64) bool {
	var buf [32]byte
	return string(strconv.AppendFloat(buf[:0], v, 'f', 3, 64)) == "0.000"
}

// checkThreshold judges a KEDA threshold: required, a number KEDA reads,
// and above zero once KEDA rounds it to three decimals. how says where the
// value comes from for the messages.
func checkThreshold(raw string, present bool, path *field.Path, how string) []policies.Finding {
	if !present || strings.TrimSpace(raw) == "" {
		return []policies.Finding{deny(InvalidID, path,
			"is missing, and %s needs a threshold to divide the metric by; set the value the query should reach per replica", how)}
	}
	v, err := kedaNumber(raw)
	if err != nil {
		return []policies.Finding{deny(InvalidID, path,
			"%q is not a number KEDA can read (it decodes thresholds as JSON numbers); write it like \"5\" or \"0.5\"", raw)}
	}
	if v <= 0 {
		return []policies.Finding{deny(InvalidID, path,
			"is %s; it must be greater than 0, because the HPA divides the metric by it", strings.TrimSpace(raw))}
	}
	if roundsToZero(v) {
		return []policies.Finding{deny(InvalidID, path,
			"is %s, which KEDA rounds to 0 (it keeps three decimals); use at least 0.001, or scale the query (e.g. multiply it by 1000)", strings.TrimSpace(raw))}
	}
	return nil
}

// checkActivation judges an optional activationThreshold: a number KEDA
// can read.
func checkActivation(raw string, present bool, path *field.Path) []policies.Finding {
	if !present || strings.TrimSpace(raw) == "" {
		return nil
	}
	if _, err := kedaNumber(raw); err != nil {
		return []policies.Finding{deny(InvalidID, path,
			"%q is not a number KEDA can read (it decodes thresholds as JSON numbers), so KEDA rejects the trigger; write it like \"0\" or \"2.5\"", raw)}
	}
	return nil
}

// checkPairs judges a KEDA map parameter (customHeaders,
// queryParameters): comma-separated key=value pairs. Entries are not
// echoed: they may hold credentials.
func checkPairs(raw string, path *field.Path) []policies.Finding {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	var out []policies.Finding
	for i, entry := range strings.Split(raw, ",") {
		if len(strings.Split(entry, "=")) != 2 {
			out = append(out, deny(InvalidID, path,
				"entry %d is not key=value, so KEDA rejects the trigger; separate entries with commas (a value cannot contain \",\" or \"=\")", i+1))
		}
	}
	return out
}
