package policies_test

import (
	"testing"

	"github.com/scaleguard/scaleguard/policies"
)

func TestEditDistance(t *testing.T) {
	cases := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"vllm-decode", "vllm-decode", 2, 0},
		{"vllm-decod", "vllm-decode", 2, 1},
		{"vllm-dceode", "vllm-decode", 2, 2},
		{"kitten", "sitting", 5, 3},
		{"kitten", "sitting", 2, 3}, // past the limit: limit+1
		{"a", "abcdef", 2, 3},       // lengths alone exceed it
		{"", "ab", 2, 2},
	}
	for _, c := range cases {
		if got := policies.EditDistance(c.a, c.b, c.limit); got != c.want {
			t.Errorf("EditDistance(%q, %q, %d) = %d, want %d", c.a, c.b, c.limit, got, c.want)
		}
	}
}
