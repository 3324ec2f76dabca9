// Package ops holds the logic of the operator CLI (cmd/spctl): verify,
// teardown, edge rollback and cost. Each subpackage talks to AWS through
// small interfaces that the aws-sdk-go-v2 clients satisfy, so tests run the
// same code against moto_server, client-go's fake clientset and httptest.
package ops
