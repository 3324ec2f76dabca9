// Package tools pins the command-line tools that `make lint`, `make scan`,
// `make rules` and `make test` build from source: Trivy (IaC scanner),
// actionlint (workflow linter), staticcheck (Go linter), promtool (alert
// rule checks and unit tests), and amtool and Alertmanager (routing and
// inhibition tests of the rendered Alertmanager config). promtool, amtool
// and Alertmanager are pinned to the Prometheus (v3.14.0 = module
// v0.314.0) and Alertmanager (v0.34.0) images kube-prometheus-stack 88.5.3
// deploys, so the tests check what runs. They live in their own module so
// the application's go.mod carries none of their dependencies.
package tools
