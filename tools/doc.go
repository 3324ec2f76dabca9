// Package tools pins the command-line tools that `make lint`, `make scan` and
// `make test` build from source: Trivy (IaC scanner), actionlint (workflow
// linter) and staticcheck (Go linter). They live in their own module so the
// application's go.mod carries none of their dependencies.
package tools
