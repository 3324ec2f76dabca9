// Package prometheus pins promtool and amtool at the releases
// kube-prometheus-stack 88.5.3 deploys, Prometheus v3.14.0 (module
// v0.314.0) and Alertmanager v0.34.0, so `make rules` and the routing tests
// check what runs; cmd/aminhibit evaluates inhibit_rules with that
// Alertmanager's own inhibitor. (The alertmanager command itself cannot be
// built from the module: its web UI assets are not in it.) It is a module of its own, apart from tools/go.mod,
// because Prometheus v0.314.0 requires go.yaml.in/yaml/v4 v4.0.0-rc.6,
// whose API change breaks actionlint v1.7.12 in a shared build list.
package prometheus
