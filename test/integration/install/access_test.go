package install

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/endpoints/request"
)

// access is one request serve made, as the API server authorizes it.
type access struct {
	verb, group, resource, namespace, name, path string
	status                                       int
}

func (a access) String() string {
	if a.path != "" {
		return a.verb + " " + a.path
	}
	s := a.verb + " " + a.resource
	if a.group != "" {
		s += "." + a.group
	}
	if a.namespace != "" {
		s += " in " + a.namespace
	}
	if a.name != "" {
		s += " named " + a.name
	}
	return s
}

// accessRecorder records every request of a client, read as the API
// server's authorizer reads it (k8s.io/apiserver's RequestInfoFactory: a
// list or watch with a metadata.name field selector is a request for that
// name), with the status it got.
type accessRecorder struct {
	mu   sync.Mutex
	seen []access
}

func (r *accessRecorder) wrap(rt http.RoundTripper) http.RoundTripper {
	f := &request.RequestInfoFactory{APIPrefixes: sets.NewString("api", "apis"), GrouplessAPIPrefixes: sets.NewString("api")}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		info, ierr := f.NewRequestInfo(req)
		if ierr != nil || err != nil {
			return resp, err
		}
		a := access{verb: info.Verb, group: info.APIGroup, resource: info.Resource, namespace: info.Namespace, name: info.Name, status: resp.StatusCode}
		if info.Subresource != "" {
			a.resource += "/" + info.Subresource
		}
		if !info.IsResourceRequest {
			a = access{verb: info.Verb, path: info.Path, status: resp.StatusCode}
		}
		r.mu.Lock()
		r.seen = append(r.seen, a)
		// An informer lists through its watch (client-go's streaming
		// lists, on by default), and falls back to a list request on an
		// API server without them: the watch stands for the list too.
		if a.verb == "watch" && req.URL.Query().Get("sendInitialEvents") == "true" {
			l := a
			l.verb = "list"
			r.seen = append(r.seen, l)
		}
		r.mu.Unlock()
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (r *accessRecorder) all() []access {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.seen)
}

// grant is one verb on one resource (or name) a role grants.
type grant struct {
	role, namespace string
	verb, group     string
	resource, name  string
	url             string
}

func (g grant) String() string {
	if g.url != "" {
		return fmt.Sprintf("%s: %s %s", g.role, g.verb, g.url)
	}
	s := fmt.Sprintf("%s: %s %s", g.role, g.verb, g.resource)
	if g.group != "" {
		s += "." + g.group
	}
	if g.name != "" {
		s += " named " + g.name
	}
	return s
}

// grants spreads a role's rules into single grants; namespace is the
// Role's ("" for a ClusterRole).
func grants(role, namespace string, rules []rbacv1.PolicyRule) []grant {
	var out []grant
	for _, r := range rules {
		for _, v := range r.Verbs {
			for _, u := range r.NonResourceURLs {
				out = append(out, grant{role: role, verb: v, url: u})
			}
			for _, g := range r.APIGroups {
				for _, res := range r.Resources {
					if len(r.ResourceNames) == 0 {
						out = append(out, grant{role: role, namespace: namespace, verb: v, group: g, resource: res})
					}
					for _, n := range r.ResourceNames {
						out = append(out, grant{role: role, namespace: namespace, verb: v, group: g, resource: res, name: n})
					}
				}
			}
		}
	}
	return out
}

// allows reports whether g allows a.
func (g grant) allows(a access) bool {
	if g.verb != a.verb && g.verb != "*" {
		return false
	}
	if g.url != "" || a.path != "" {
		return g.url == a.path
	}
	return g.group == a.group && g.resource == a.resource &&
		(g.namespace == "" || g.namespace == a.namespace) &&
		(g.name == "" || g.name == a.name)
}

// audit compares what serve did with what its roles grant: every request
// refused (a missing permission), and every grant no request used (an
// excess one).
func auditAccess(seen []access, gs []grant) (refused []string, unused []string) {
	used := make([]bool, len(gs))
	refusedSet := map[string]bool{}
	for _, a := range seen {
		if a.status == http.StatusForbidden {
			refusedSet[a.String()] = true
			continue
		}
		for i, g := range gs {
			if g.allows(a) {
				used[i] = true
			}
		}
	}
	for s := range refusedSet {
		refused = append(refused, s)
	}
	for i, g := range gs {
		if !used[i] {
			unused = append(unused, g.String())
		}
	}
	sort.Strings(refused)
	sort.Strings(unused)
	return refused, unused
}
