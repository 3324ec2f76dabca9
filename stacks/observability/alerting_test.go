package observability

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// chartDefaultConfig is alertmanager.config from kube-prometheus-stack
// 88.5.3's values.yaml: what Helm merges our map into.
const chartDefaultConfig = `
global:
  resolve_timeout: 5m
inhibit_rules:
  - source_matchers: ['severity = critical']
    target_matchers: ['severity =~ warning|info']
    equal: ['namespace', 'alertname']
  - source_matchers: ['severity = warning']
    target_matchers: ['severity = info']
    equal: ['namespace', 'alertname']
  - source_matchers: ['alertname = InfoInhibitor']
    target_matchers: ['severity = info']
    equal: ['namespace']
  - target_matchers: ['alertname = InfoInhibitor']
route:
  group_by: ['namespace']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 12h
  receiver: 'null'
  routes:
  - receiver: 'null'
    matchers: ['alertname = "Watchdog"']
receivers:
- name: 'null'
templates:
- '/etc/alertmanager/config/*.tmpl'
`

// coalesce merges user values into chart defaults the way Helm does:
// maps merge key by key, anything else (lists included) is replaced.
func coalesce(def, user map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range def {
		out[k] = v
	}
	for k, v := range user {
		um, uok := v.(map[string]any)
		dm, dok := out[k].(map[string]any)
		if uok && dok {
			out[k] = coalesce(dm, um)
			continue
		}
		out[k] = v
	}
	return out
}

func TestChartMergeLeavesOnlyOurConfig(t *testing.T) {
	// GIVEN the chart's default config (everything to "null")
	var def map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(chartDefaultConfig), &def))
	for name, a := range map[string]envs.Alerting{
		"null only": {AllowNullReceiver: true},
		"prod":      {PagerDuty: true, SlackChannel: "#spatialprops-prod-alerts"},
	} {
		cfg, err := NewAlertmanagerConfig(a)
		require.NoError(t, err)
		ours, err := cfg.Values()
		require.NoError(t, err)
		// WHEN Helm merges our values into it THEN nothing of the default
		// survives: no leftover route, receiver, rule or group_by.
		assert.Equal(t, ours, coalesce(def, ours), name)
	}
}

func receiver(t *testing.T, c *AlertmanagerConfig, name string) Receiver {
	t.Helper()
	for _, r := range c.Receivers {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no receiver %s", name)
	return Receiver{}
}

func TestSNSPublishesWithSigV4AndNoKeys(t *testing.T) {
	topic := "arn:aws:sns:us-west-2:111122223333:spatialprops-alerts"
	cfg, err := NewAlertmanagerConfig(envs.Alerting{SNSTopicArn: topic})
	require.NoError(t, err)
	for _, name := range []string{PagerReceiver, ChatReceiver} {
		r := receiver(t, cfg, name)
		require.Len(t, r.SNSConfigs, 1, "SNS alone takes both levels")
		assert.Equal(t, topic, r.SNSConfigs[0].TopicARN)
		assert.Equal(t, map[string]string{"region": "us-west-2"}, r.SNSConfigs[0].SigV4, "signed for the topic's region, credentials from IRSA")
	}
	assert.False(t, cfg.UsesReceiversSecret(), "SNS needs no Secret, so none is mounted")
}

func TestPagerDutyOnlyStillCarriesWarnings(t *testing.T) {
	cfg, err := NewAlertmanagerConfig(envs.Alerting{PagerDuty: true})
	require.NoError(t, err)
	assert.Equal(t, "critical", receiver(t, cfg, PagerReceiver).PagerdutyConfigs[0].Severity)
	assert.Equal(t, "warning", receiver(t, cfg, ChatReceiver).PagerdutyConfigs[0].Severity, "warnings reach PagerDuty as low-urgency events")
	assert.True(t, cfg.UsesReceiversSecret())
}

func TestCriticalInhibitsWarningOfTheSameAlertAndNamespace(t *testing.T) {
	cfg, err := NewAlertmanagerConfig(envs.Alerting{SlackChannel: "#x"})
	require.NoError(t, err)
	assert.Contains(t, cfg.InhibitRules, InhibitRule{
		SourceMatchers: []string{`severity = "critical"`},
		TargetMatchers: []string{`severity =~ "warning|info"`},
		Equal:          []string{"alertname", "namespace"},
	})
}

func TestNoReceiverIsRefused(t *testing.T) {
	_, err := NewAlertmanagerConfig(envs.Alerting{})
	require.Error(t, err)
}
