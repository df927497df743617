package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The benchmarks take their sizes from the environment, so that `make
// bench` runs them at the sizes BENCHMARKS.md reports and `make test` runs
// a smoke pass of each with tiny ones. An unset variable means the smoke
// size.

// EnvInt reads an integer variable, def when unset.
func EnvInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a non-negative integer", name, v)
	}
	return n, nil
}

// EnvInts reads a comma-separated list of integers, def when unset.
func EnvInts(name string, def []int) ([]int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// EnvDuration reads a duration variable, def when unset.
func EnvDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration", name, v)
	}
	return d, nil
}

// LoadAverage is the first line of /proc/loadavg's three averages ("" where
// it cannot be read): every measurement is reported beside it, since the
// machines these run on are shared.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// EnvStrings reads a comma-separated list variable, def when unset.
func EnvStrings(name string, def []string) ([]string, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			return nil, fmt.Errorf("%s=%q: want names separated by commas", name, v)
		}
		out = append(out, f)
	}
	return out, nil
}
