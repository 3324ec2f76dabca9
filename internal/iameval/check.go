package iameval

import (
	"fmt"
	"testing"
)

// Check is one promise: a request and whether IAM must allow it.
type Check struct {
	Request
	// Want is true when the request must be allowed.
	Want bool
	// Lenient accepts context keys the simulator ignores (they do not apply
	// to the action); by default such a key fails the check, since the
	// condition a test meant to exercise then never ran.
	Lenient bool
}

// Allow is a request that must be allowed. context is key, value pairs;
// use With for a multivalued key.
func Allow(principal, action, resource string, context ...string) Check {
	return Check{Request: newRequest(principal, action, resource, context), Want: true}
}

// Deny is a request that must be denied, explicitly or implicitly.
func Deny(principal, action, resource string, context ...string) Check {
	return Check{Request: newRequest(principal, action, resource, context)}
}

func newRequest(principal, action, resource string, context []string) Request {
	if len(context)%2 != 0 {
		panic(fmt.Sprintf("iameval: context of %s %s must be key, value pairs: %v", action, resource, context))
	}
	r := Request{Principal: principal, Action: action, Resource: resource, Context: map[string]any{}}
	for i := 0; i < len(context); i += 2 {
		r.Context[context[i]] = context[i+1]
	}
	return r
}

// With sets a context key (a string or a []string).
func (c Check) With(key string, value any) Check {
	ctx := map[string]any{}
	for k, v := range c.Context {
		ctx[k] = v
	}
	ctx[key] = value
	c.Context = ctx
	return c
}

// As evaluates the request for a role that does not exist yet: identity
// policies replace the principal's, boundary (an ARN, may be "") caps them.
func (c Check) As(boundary string, identity ...Policy) Check {
	c.Identity, c.Boundary = identity, boundary
	if c.Identity == nil {
		c.Identity = []Policy{}
	}
	return c
}

// Because says why the promise matters; a failure prints it.
func (c Check) Because(note string) Check {
	c.Note = note
	return c
}

// AllowAll is an identity policy that grants everything: with a boundary,
// what a role created under it could do whatever its own policy says.
var AllowAll = Policy{Name: "any inline policy", Document: map[string]any{
	"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}},
}}

// Expect evaluates every check in one batch and fails t once per wrong
// answer, with the deciding statements. It returns the results in order.
func Expect(t testing.TB, m *Model, checks ...Check) []Result {
	t.Helper()
	reqs := make([]Request, len(checks))
	for i, c := range checks {
		reqs[i] = c.Request
	}
	results, err := m.Evaluate(reqs)
	if err != nil {
		t.Fatalf("IAM evaluation of %d requests: %v", len(reqs), err)
	}
	t.Logf("%d IAM checks evaluated", len(reqs))
	for i, r := range results {
		c := checks[i]
		switch {
		case r.Err != "":
			t.Errorf("not evaluated: %s", r.Explain())
		case len(r.Ignored) > 0 && !c.Lenient:
			t.Errorf("context keys that do not apply to the action (the condition under test never ran): %s", r.Explain())
		case c.Want && r.Decision != Allowed:
			t.Errorf("must be allowed: %s", r.Explain())
		case !c.Want && r.Decision == Allowed:
			t.Errorf("must be denied: %s", r.Explain())
		}
	}
	return results
}
