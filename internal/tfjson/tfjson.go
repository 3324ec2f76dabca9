// Package tfjson reads synthesized Terraform JSON in tests: resources by
// type, IAM policy statements by Sid, string arrays. It exists so construct
// tests and app-level tests ask the same questions the same way.
package tfjson

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// Resources returns every resource of type typ, in document order.
func Resources(doc gjson.Result, typ string) []gjson.Result {
	return doc.Get("resource." + gjson.Escape(typ) + ".@values").Array()
}

// PolicyDocuments returns every aws_iam_policy_document data source.
func PolicyDocuments(doc gjson.Result) []gjson.Result {
	return doc.Get("data.aws_iam_policy_document.@values").Array()
}

// PolicyDocument returns the policy document whose logical id starts with
// prefix (construct path joined by "_", e.g. "gha-infra-plan_permissions").
func PolicyDocument(doc gjson.Result, prefix string) (gjson.Result, bool) {
	var found gjson.Result
	doc.Get("data.aws_iam_policy_document").ForEach(func(id, d gjson.Result) bool {
		if strings.HasPrefix(id.String(), prefix) {
			found = d
			return false
		}
		return true
	})
	return found, found.Exists()
}

// Statement finds a statement by Sid across all policy documents.
func Statement(doc gjson.Result, sid string) (gjson.Result, bool) {
	for _, d := range PolicyDocuments(doc) {
		for _, s := range d.Get("statement").Array() {
			if s.Get("sid").String() == sid {
				return s, true
			}
		}
	}
	return gjson.Result{}, false
}

// Strings flattens a JSON array of strings.
func Strings(r gjson.Result) []string {
	var out []string
	for _, v := range r.Array() {
		out = append(out, v.String())
	}
	return out
}

// MustStatement is Statement for tests: it fails t when sid is missing.
func MustStatement(t testing.TB, doc gjson.Result, sid string) gjson.Result {
	t.Helper()
	s, ok := Statement(doc, sid)
	if !ok {
		t.Fatalf("no policy statement with sid %q", sid)
	}
	return s
}

// MustPolicyDocument is PolicyDocument for tests: it fails t when no
// document id starts with prefix.
func MustPolicyDocument(t testing.TB, doc gjson.Result, prefix string) gjson.Result {
	t.Helper()
	d, ok := PolicyDocument(doc, prefix)
	if !ok {
		t.Fatalf("no policy document %s*", prefix)
	}
	return d
}
