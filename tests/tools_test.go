package tests

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Images kube-prometheus-stack 88.5.3 deploys (its values.yaml):
// quay.io/prometheus/prometheus:v3.14.0 and quay.io/prometheus/alertmanager:v0.34.0.
// The tools that check our rules and routing must be those releases.
const (
	prometheusModule   = "github.com/prometheus/prometheus v0.314.0"
	alertmanagerModule = "github.com/prometheus/alertmanager v0.34.0"
)

func TestMakeTestNeedsNoRootAndNoSystemPackages(t *testing.T) {
	// make test runs on a user's machine: it must not reach for apt-get or
	// sudo (it used to install promtool from Debian that way).
	mk := readFile(t, "../Makefile")
	assert.NotRegexp(t, regexp.MustCompile(`\b(apt-get|apt|sudo|dnf|yum|brew)\b`), mk)
	for _, pkg := range []string{
		"github.com/prometheus/prometheus/cmd/promtool",
		"github.com/prometheus/alertmanager/cmd/amtool",
		"./cmd/aminhibit",
	} {
		assert.Contains(t, mk, pkg, "make tools builds it from tools/prometheus/go.mod")
	}
}

func TestToolsMatchTheDeployedPrometheusAndAlertmanager(t *testing.T) {
	mod := readFile(t, "../tools/prometheus/go.mod")
	assert.Contains(t, mod, prometheusModule)
	assert.Contains(t, mod, alertmanagerModule)
	for _, tool := range []string{"cmd/promtool", "cmd/amtool"} {
		assert.Regexp(t, `(?m)^\s+github.com/prometheus/\w+/`+tool+`$`, mod, "tool entry for %s", tool)
	}
}
