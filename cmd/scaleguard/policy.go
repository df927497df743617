package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/scaleguard/scaleguard/internal/clusterpolicy"
	"github.com/scaleguard/scaleguard/internal/manifests"
	"github.com/scaleguard/scaleguard/policies"
)

// policyFlagHelp documents --policy for check and rules.
const policyFlagHelp = "ScaleGuardPolicy file or folder to judge with (repeatable; several policies merge as in a cluster)"

// readPolicyFiles reads the ScaleGuardPolicies of --policy paths; every
// object there must be one.
func readPolicyFiles(paths []string, reg *policies.Registry) ([]*clusterpolicy.Policy, error) {
	for _, p := range paths {
		if p == "-" {
			return nil, fmt.Errorf("--policy reads files and folders, not standard input")
		}
	}
	if len(paths) == 0 {
		return nil, nil
	}
	objs, err := manifests.Read(paths, nil)
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("--policy %s: no ScaleGuardPolicy found", strings.Join(paths, ", "))
	}
	var out []*clusterpolicy.Policy
	for _, o := range objs {
		if o.GVK != clusterpolicy.GVK {
			return nil, &manifests.Error{Source: o.Source, Line: o.Line,
				Err: fmt.Errorf("--policy: a %s %s, not a ScaleGuardPolicy", o.GVK.GroupVersion(), o.GVK.Kind)}
		}
		p, err := parsePolicy(o, reg)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// policiesAmong returns the ScaleGuardPolicies among checked manifests.
func policiesAmong(objs []manifests.Object, reg *policies.Registry) ([]*clusterpolicy.Policy, []manifests.Object, error) {
	var out []*clusterpolicy.Policy
	var found []manifests.Object
	for _, o := range objs {
		if o.GVK != clusterpolicy.GVK {
			continue
		}
		p, err := parsePolicy(o, reg)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, p)
		found = append(found, o)
	}
	return out, found, nil
}

// parsePolicy parses and validates one policy manifest. An unknown field
// is an error here: the API server would drop it, and the policy would not
// do what its file says.
func parsePolicy(o manifests.Object, reg *policies.Registry) (*clusterpolicy.Policy, error) {
	p, unknown, err := clusterpolicy.Parse(o.JSON, reg)
	if err == nil && len(unknown) > 0 {
		err = fmt.Errorf("%s (the API server drops fields it does not know)", strings.Join(unknown, "; "))
	}
	if err != nil {
		return nil, &manifests.Error{Source: o.Source, Line: o.Line, Err: fmt.Errorf("ScaleGuardPolicy %q: %w", o.Name, err)}
	}
	return p, nil
}

// mergeByName keeps, for each name, the policy given last (as a second
// apply would).
func mergeByName(ps ...[]*clusterpolicy.Policy) []*clusterpolicy.Policy {
	idx := map[string]int{}
	var out []*clusterpolicy.Policy
	for _, list := range ps {
		for _, p := range list {
			if i, ok := idx[p.Name]; ok {
				out[i] = p
				continue
			}
			idx[p.Name] = len(out)
			out = append(out, p)
		}
	}
	return out
}

// sayPoliciesFound tells, once, which policies found among the checked
// manifests are used.
func sayPoliciesFound(w io.Writer, found []manifests.Object) {
	if len(found) == 0 {
		return
	}
	var names []string
	for _, o := range found {
		names = append(names, fmt.Sprintf("%q (%s)", o.Name, o.Where()))
	}
	noun := "ScaleGuardPolicy"
	if len(found) > 1 {
		noun = "ScaleGuardPolicies"
	}
	fmt.Fprintf(w, "judging with the %s found among the manifests: %s\n", noun, strings.Join(names, ", "))
}

// checkSettings returns the settings check judges each namespace under:
// the policies of --policy files and of the checked manifests (said on
// stderr), merged per namespace, or the defaults.
func checkSettings(stderr io.Writer, policyFiles []string, in manifests.Result) (func(string, policies.ClusterView) *policies.Settings, error) {
	var objs []manifests.Object
	for _, set := range in.Sets {
		objs = append(objs, set.Objects...)
	}
	given, err := readPolicyFiles(policyFiles, policies.Default)
	if err != nil {
		return nil, err
	}
	among, found, err := policiesAmong(objs, policies.Default)
	if err != nil {
		return nil, err
	}
	sayPoliciesFound(stderr, found)
	set := clusterpolicy.NewSet(nil, mergeByName(given, among)...)
	return func(ns string, view policies.ClusterView) *policies.Settings {
		obj, _ := view.Namespace(ns)
		return set.For(clusterpolicy.NamespaceLabels(ns, obj))
	}, nil
}
