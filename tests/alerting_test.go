package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// tool returns the pinned binary make test exports in envVar (AMTOOL,
// AMINHIBIT). Under make a missing binary fails the test; a bare
// `go test ./tests` falls back to bin/ and skips only when that is empty.
func tool(t *testing.T, envVar, name string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		_, err := os.Stat(p)
		require.NoError(t, err, "%s=%s: build it with make tools", envVar, p)
		return p
	}
	p, _ := filepath.Abs(filepath.Join("..", "bin", name))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is not built; make test builds it (make tools)", p)
	}
	return p
}

// renderedAlertmanagerConfig writes the alertmanager.config that env's
// observability stack hands kube-prometheus-stack, byte for byte what the
// chart puts into the alertmanager.yaml Secret (it calls toYaml on it).
func renderedAlertmanagerConfig(t *testing.T, env string) (string, map[string]any) {
	t.Helper()
	_, v := releaseValues(t, stack(t, env+"-observability").Doc, "kube-prometheus-stack")
	cfg := v["alertmanager"].(map[string]any)["config"].(map[string]any)
	raw, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), env+"-alertmanager.yaml")
	require.NoError(t, os.WriteFile(path, raw, 0o600))
	return path, cfg
}

func amtool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(tool(t, "AMTOOL", "amtool"), args...).CombinedOutput()
	return string(out), err
}

func TestAlertmanagerConfigPassesAmtool(t *testing.T) {
	for _, env := range []string{"dev", "staging", "prod"} {
		path, _ := renderedAlertmanagerConfig(t, env)
		out, err := amtool(t, "check-config", path)
		require.NoError(t, err, "%s: %s", env, out)
		assert.Contains(t, out, "SUCCESS", env)
	}
}

func TestSeverityRoutesToTheRightPeople(t *testing.T) {
	// amtool walks the routing tree exactly as Alertmanager does.
	cases := []struct {
		env, receiver string
		labels        []string
	}{
		{"prod", "pager", []string{"severity=critical", "alertname=NodeNotReady", "namespace=kube-system"}},
		{"prod", "chat", []string{"severity=warning", "alertname=PodCrashLooping", "namespace=spatial-properties"}},
		{"prod", "chat", []string{"alertname=SomethingWithoutSeverity"}},
		{"prod", "null", []string{"severity=info", "alertname=CPUThrottlingHigh", "namespace=observability"}},
		{"prod", "null", []string{"severity=none", "alertname=Watchdog"}},
		{"staging", "pager", []string{"severity=critical", "alertname=LokiDown", "namespace=observability"}},
		{"staging", "chat", []string{"severity=warning", "alertname=LogCollectorDegraded", "namespace=observability"}},
		// dev asked for the null receiver explicitly (allowNullReceiver)
		{"dev", "null", []string{"severity=critical", "alertname=NodeNotReady"}},
		{"dev", "null", []string{"severity=warning", "alertname=PodCrashLooping"}},
	}
	for _, c := range cases {
		path, _ := renderedAlertmanagerConfig(t, c.env)
		args := append([]string{"config", "routes", "test", "--config.file=" + path, "--verify.receivers=" + c.receiver}, c.labels...)
		out, err := amtool(t, args...)
		assert.NoError(t, err, "%s: %v should reach %s; amtool: %s", c.env, c.labels, c.receiver, out)
	}
	// The check itself can fail: a critical alert does not reach chat.
	path, _ := renderedAlertmanagerConfig(t, "prod")
	out, err := amtool(t, "config", "routes", "test", "--config.file="+path, "--verify.receivers=chat", "severity=critical", "alertname=NodeNotReady")
	assert.Error(t, err, "amtool must refuse a wrong expectation: %s", out)
}

func TestReceiversUseTheSecretAndTheRightIntegrations(t *testing.T) {
	// Credentials are file references into the mounted Secret, never values.
	receivers := func(env string) map[string]map[string]any {
		_, cfg := renderedAlertmanagerConfig(t, env)
		out := map[string]map[string]any{}
		for _, r := range cfg["receivers"].([]any) {
			m := r.(map[string]any)
			out[m["name"].(string)] = m
		}
		return out
	}
	prod := receivers("prod")
	pd := prod["pager"]["pagerduty_configs"].([]any)[0].(map[string]any)
	assert.Equal(t, "/etc/alertmanager/secrets/alertmanager-receivers/pagerduty-routing-key", pd["routing_key_file"])
	assert.NotContains(t, pd, "routing_key")
	slack := prod["chat"]["slack_configs"].([]any)[0].(map[string]any)
	assert.Equal(t, "/etc/alertmanager/secrets/alertmanager-receivers/slack-webhook-url", slack["api_url_file"])
	assert.Equal(t, "#spatialprops-prod-alerts", slack["channel"])
	assert.NotContains(t, slack, "api_url")
	assert.NotContains(t, prod["pager"], "slack_configs", "prod pages through PagerDuty only")

	// staging has Slack only, so criticals go to Slack too rather than nowhere
	staging := receivers("staging")
	assert.Contains(t, staging["pager"], "slack_configs")
	assert.Equal(t, []string{"null"}, keysOfReceivers(receivers("dev")), "dev: the explicit null receiver only")

	for env, want := range map[string]bool{"dev": false, "staging": true, "prod": true} {
		_, v := releaseValues(t, stack(t, env+"-observability").Doc, "kube-prometheus-stack")
		spec := v["alertmanager"].(map[string]any)["alertmanagerSpec"].(map[string]any)
		if want {
			assert.Equal(t, []any{"alertmanager-receivers"}, spec["secrets"], "%s mounts the receivers Secret", env)
		} else {
			assert.NotContains(t, spec, "secrets", "%s reads no receiver file, so it needs no Secret", env)
		}
	}
}

func keysOfReceivers(m map[string]map[string]any) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestWarningIsInhibitedWhileItsCriticalFires evaluates prod's rendered
// inhibit_rules with Alertmanager's own config loader and inhibitor at the
// deployed release (bin/aminhibit, tools/prometheus); amtool cannot
// evaluate inhibition.
func TestWarningIsInhibitedWhileItsCriticalFires(t *testing.T) {
	bin := tool(t, "AMINHIBIT", "aminhibit")
	path, _ := renderedAlertmanagerConfig(t, "prod")
	critical := alertLabels("critical", "observability")
	warning := alertLabels("warning", "observability")
	otherNamespace := alertLabels("warning", "edge-sync")
	otherAlert := map[string]string{"alertname": "LokiDown", "severity": "warning", "namespace": "observability"}
	info := alertLabels("info", "observability")

	got := inhibited(t, bin, path, []map[string]string{critical, otherNamespace, otherAlert}, warning, otherNamespace, otherAlert, info, critical)
	assert.Equal(t, []bool{true, false, false, true, false}, got,
		"while the critical fires: its warning and info are muted; another namespace, another alert and the critical itself are not")

	// Once the critical resolves, the warning speaks again.
	got = inhibited(t, bin, path, []map[string]string{otherNamespace}, warning)
	assert.Equal(t, []bool{false}, got)
}

func alertLabels(severity, namespace string) map[string]string {
	return map[string]string{"alertname": "PersistentVolumeFillingUp", "severity": severity, "namespace": namespace}
}

// inhibited asks aminhibit which of check are muted while firing fires.
func inhibited(t *testing.T, bin, config string, firing []map[string]string, check ...map[string]string) []bool {
	t.Helper()
	req, err := json.Marshal(map[string]any{"firing": firing, "check": check})
	require.NoError(t, err)
	cmd := exec.Command(bin, "--config.file="+config)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	var answers []struct {
		Inhibited bool `json:"inhibited"`
	}
	require.NoError(t, json.Unmarshal(out, &answers))
	res := make([]bool, 0, len(answers))
	for _, a := range answers {
		res = append(res, a.Inhibited)
	}
	return res
}
