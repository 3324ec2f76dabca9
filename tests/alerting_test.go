package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// tool returns the pinned binary make test exports in envVar (AMTOOL,
// ALERTMANAGER). Under make a missing binary fails the test; a bare
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

// TestWarningIsInhibitedWhileItsCriticalFires runs the pinned Alertmanager
// (the version kube-prometheus-stack deploys) on loopback with prod's
// rendered routing tree and inhibit rules. amtool cannot evaluate
// inhibition; the server can. Receivers are swapped for a local webhook so
// nothing leaves the machine; routes and inhibit_rules are untouched.
func TestWarningIsInhibitedWhileItsCriticalFires(t *testing.T) {
	bin := tool(t, "ALERTMANAGER", "alertmanager")
	_, cfg := renderedAlertmanagerConfig(t, "prod")
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer hook.Close()
	for _, r := range cfg["receivers"].([]any) {
		m := r.(map[string]any)
		for k := range m {
			if strings.HasSuffix(k, "_configs") {
				delete(m, k)
			}
		}
		if m["name"] != "null" {
			m["webhook_configs"] = []any{map[string]any{"url": hook.URL}}
		}
	}
	raw, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "alertmanager.yaml")
	require.NoError(t, os.WriteFile(path, raw, 0o600))

	addr := freeLoopbackAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+path, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	defer func() { cancel(); _ = cmd.Wait() }()
	base := "http://" + addr
	waitReady(t, base+"/-/ready", &logs)

	critical := alertLabels("critical", "observability")
	warning := alertLabels("warning", "observability")
	otherNamespace := alertLabels("warning", "edge-sync")
	post(t, base, critical, warning, otherNamespace)

	state := alertStates(t, base)
	assert.Equal(t, "active", state[key(critical)].State)
	assert.Equal(t, "suppressed", state[key(warning)].State, "the warning is inhibited by its critical")
	assert.NotEmpty(t, state[key(warning)].InhibitedBy)
	assert.Equal(t, "active", state[key(otherNamespace)].State, "inhibition needs the same namespace")
	assert.Equal(t, []string{"pager"}, state[key(critical)].Receivers)
	assert.Equal(t, []string{"chat"}, state[key(warning)].Receivers)

	// Once the critical resolves, the warning speaks again.
	resolved := map[string]any{"labels": critical, "endsAt": time.Now().Add(-time.Second).UTC().Format(time.RFC3339)}
	postRaw(t, base, []any{resolved})
	assert.Equal(t, "active", alertStates(t, base)[key(warning)].State)
}

func alertLabels(severity, namespace string) map[string]string {
	return map[string]string{"alertname": "PersistentVolumeFillingUp", "severity": severity, "namespace": namespace}
}

func key(l map[string]string) string { return l["severity"] + "/" + l["namespace"] }

type alertState struct {
	State       string
	InhibitedBy []string
	Receivers   []string
}

func post(t *testing.T, base string, labels ...map[string]string) {
	t.Helper()
	var alerts []any
	for _, l := range labels {
		alerts = append(alerts, map[string]any{"labels": l})
	}
	postRaw(t, base, alerts)
}

func postRaw(t *testing.T, base string, alerts []any) {
	t.Helper()
	body, err := json.Marshal(alerts)
	require.NoError(t, err)
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func alertStates(t *testing.T, base string) map[string]alertState {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	require.NoError(t, err)
	defer resp.Body.Close()
	var got []struct {
		Labels    map[string]string `json:"labels"`
		Receivers []struct{ Name string }
		Status    struct {
			State       string   `json:"state"`
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	out := map[string]alertState{}
	for _, a := range got {
		s := alertState{State: a.Status.State, InhibitedBy: a.Status.InhibitedBy}
		for _, r := range a.Receivers {
			s.Receivers = append(s.Receivers, r.Name)
		}
		out[key(a.Labels)] = s
	}
	return out
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func waitReady(t *testing.T, url string, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("alertmanager did not become ready in 20s:\n%s", logs)
}
