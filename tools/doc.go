// Package tools pins the command-line tools that `make lint`, `make scan`
// and `make test` build from source: Trivy (IaC scanner), actionlint
// (workflow linter) and staticcheck (Go linter). They live in their own
// module so the application's go.mod carries none of their dependencies.
// promtool, amtool and Alertmanager are pinned in tools/prometheus, a
// module of their own (see its doc.go for why).
package tools
