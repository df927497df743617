// Command samples prints the sample ScaleGuardPolicy of config/samples,
// generated from the built-in settings and the registered rules
// (hack/generate.sh writes it; a test keeps it in step).
package main

import (
	"fmt"
	"os"

	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
	"github.com/scaleguard/scaleguard/policies"
	_ "github.com/scaleguard/scaleguard/policies/all"
)

func main() {
	b, err := clusterpolicy.SampleYAML(policies.Default)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
