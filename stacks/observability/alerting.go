package observability

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/envs"
)

// Receiver credentials live in one Kubernetes Secret in the observability
// namespace, never in config, synthesized JSON or Terraform state. External
// Secrets Operator creates it from the Secrets Manager secret
// <org>/<env>/alertmanager-receivers (which Terraform creates empty); the
// Alertmanager pods mount it through alertmanagerSpec.secrets, and the
// receivers read the files below at send time.
const (
	// ReceiversSecret is the Secret's name (secrets.go owns the names the
	// ExternalSecret writes; these are the same values under the names the
	// routing code reads).
	ReceiversSecret = AlertmanagerReceiversSecret
	// SlackWebhookKey holds the Slack incoming-webhook URL; the PagerDuty
	// Events API v2 routing key is PagerDutyRoutingKeyKey.
	SlackWebhookKey = SlackWebhookURLKey
	// ReceiversSecretDir is where the prometheus-operator mounts a Secret
	// listed in alertmanagerSpec.secrets: /etc/alertmanager/secrets/<name>.
	ReceiversSecretDir = "/etc/alertmanager/secrets/" + ReceiversSecret
	// AlertmanagerServiceAccount is set explicitly in the chart values so
	// the SNS publisher role's trust and the pods cannot drift apart.
	AlertmanagerServiceAccount = "alertmanager"
)

// Receiver names in the rendered config. Critical alerts go to Pager,
// warnings to Chat; Null drops what nobody needs to see.
const (
	PagerReceiver = "pager"
	ChatReceiver  = "chat"
	NullReceiver  = "null"
)

// Grouping and timing. One notification per alert name and namespace, so a
// node outage that breaks twenty pods is one page, not twenty.
var (
	GroupBy = []string{"alertname", "namespace"}
)

const (
	groupWait          = "30s"
	groupInterval      = "5m"
	repeatInterval     = "12h"
	pageRepeatInterval = "4h"
)

// AlertmanagerConfig is the Alertmanager configuration file, typed so the
// YAML we render is exactly what amtool checks.
type AlertmanagerConfig struct {
	Global       map[string]string `yaml:"global"`
	Route        Route             `yaml:"route"`
	InhibitRules []InhibitRule     `yaml:"inhibit_rules"`
	Receivers    []Receiver        `yaml:"receivers"`
	Templates    []string          `yaml:"templates"`
}

// Route is one node of the routing tree.
type Route struct {
	Receiver       string   `yaml:"receiver"`
	Matchers       []string `yaml:"matchers,omitempty"`
	GroupBy        []string `yaml:"group_by,omitempty"`
	GroupWait      string   `yaml:"group_wait,omitempty"`
	GroupInterval  string   `yaml:"group_interval,omitempty"`
	RepeatInterval string   `yaml:"repeat_interval,omitempty"`
	Routes         []Route  `yaml:"routes"`
}

// InhibitRule mutes target alerts while a source alert fires with the same
// values of Equal.
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// Receiver is one named set of integrations.
type Receiver struct {
	Name             string            `yaml:"name"`
	SlackConfigs     []SlackConfig     `yaml:"slack_configs,omitempty"`
	PagerdutyConfigs []PagerdutyConfig `yaml:"pagerduty_configs,omitempty"`
	SNSConfigs       []SNSConfig       `yaml:"sns_configs,omitempty"`
}

// SlackConfig posts to an incoming webhook read from a mounted file.
type SlackConfig struct {
	APIURLFile   string `yaml:"api_url_file"`
	Channel      string `yaml:"channel"`
	SendResolved bool   `yaml:"send_resolved"`
	Title        string `yaml:"title"`
	Text         string `yaml:"text"`
}

// PagerdutyConfig sends Events API v2 events with a routing key read from
// a mounted file.
type PagerdutyConfig struct {
	RoutingKeyFile string `yaml:"routing_key_file"`
	SendResolved   bool   `yaml:"send_resolved"`
	Severity       string `yaml:"severity"`
}

// SNSConfig publishes to a topic, signed with SigV4 from the pod's IRSA
// web identity (no keys in the config).
type SNSConfig struct {
	TopicARN     string            `yaml:"topic_arn"`
	SigV4        map[string]string `yaml:"sigv4"`
	SendResolved bool              `yaml:"send_resolved"`
	Subject      string            `yaml:"subject"`
}

// Notification text: what fired, where, and the runbook every platform
// rule links to.
const (
	slackTitle = `[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})`
	slackText  = `{{ range .Alerts }}*{{ .Annotations.summary }}*` + "\n" +
		`{{ .Annotations.description }}` + "\n" +
		`{{ if .Annotations.runbook_url }}Runbook: {{ .Annotations.runbook_url }}{{ end }}` + "\n" +
		`{{ end }}`
	snsSubject = `[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.namespace }})`
)

// SNSRegion returns the region part of a topic ARN, which SigV4 signs for.
func SNSRegion(topicArn string) string {
	parts := strings.Split(topicArn, ":")
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

// NewAlertmanagerConfig renders the routing for one environment:
// critical -> pager (PagerDuty and/or SNS; Slack when neither is set),
// warning -> chat (Slack; else SNS; else PagerDuty), info and the
// kube-prometheus-stack heartbeats -> null. A critical alert inhibits the
// warning (and info) alerts with the same alertname and namespace, so one
// incident makes one noise. With only allowNullReceiver (dev), every alert
// goes to null.
func NewAlertmanagerConfig(a envs.Alerting) (*AlertmanagerConfig, error) {
	if !a.HasReceiver() && !a.AllowNullReceiver {
		return nil, fmt.Errorf("observability.alerting names no receiver and does not allow the null receiver")
	}
	cfg := &AlertmanagerConfig{
		Global:    map[string]string{"resolve_timeout": "5m"},
		Templates: []string{},
		Route: Route{
			Receiver: NullReceiver, GroupBy: GroupBy,
			GroupWait: groupWait, GroupInterval: groupInterval, RepeatInterval: repeatInterval,
			Routes: []Route{},
		},
		InhibitRules: []InhibitRule{
			{SourceMatchers: []string{`severity = "critical"`}, TargetMatchers: []string{`severity =~ "warning|info"`}, Equal: GroupBy},
			{SourceMatchers: []string{`severity = "warning"`}, TargetMatchers: []string{`severity = "info"`}, Equal: GroupBy},
		},
		Receivers: []Receiver{{Name: NullReceiver}},
	}
	if !a.HasReceiver() {
		return cfg, nil
	}

	slack := func() []SlackConfig {
		return []SlackConfig{{
			APIURLFile: ReceiversSecretDir + "/" + SlackWebhookKey, Channel: a.SlackChannel,
			SendResolved: true, Title: slackTitle, Text: slackText,
		}}
	}
	pagerduty := func(severity string) []PagerdutyConfig {
		return []PagerdutyConfig{{RoutingKeyFile: ReceiversSecretDir + "/" + PagerDutyRoutingKeyKey, SendResolved: true, Severity: severity}}
	}
	sns := func() []SNSConfig {
		return []SNSConfig{{
			TopicARN: a.SNSTopicArn, SigV4: map[string]string{"region": SNSRegion(a.SNSTopicArn)},
			SendResolved: true, Subject: snsSubject,
		}}
	}

	pager := Receiver{Name: PagerReceiver}
	if a.PagerDuty {
		pager.PagerdutyConfigs = pagerduty("critical")
	}
	if a.SNSTopicArn != "" {
		pager.SNSConfigs = sns()
	}
	if !a.PagerDuty && a.SNSTopicArn == "" {
		pager.SlackConfigs = slack()
	}

	chat := Receiver{Name: ChatReceiver}
	switch {
	case a.SlackChannel != "":
		chat.SlackConfigs = slack()
	case a.SNSTopicArn != "":
		chat.SNSConfigs = sns()
	default:
		chat.PagerdutyConfigs = pagerduty("warning")
	}

	cfg.Receivers = append(cfg.Receivers, pager, chat)
	// Anything without a known severity still reaches chat.
	cfg.Route.Receiver = ChatReceiver
	cfg.Route.Routes = []Route{
		// kube-prometheus-stack's always-firing heartbeat and the helper
		// that inhibits info alerts: never notifications.
		{Receiver: NullReceiver, Matchers: []string{`alertname =~ "Watchdog|InfoInhibitor"`}, Routes: []Route{}},
		{Receiver: PagerReceiver, Matchers: []string{`severity = "critical"`}, RepeatInterval: pageRepeatInterval, Routes: []Route{}},
		{Receiver: ChatReceiver, Matchers: []string{`severity = "warning"`}, Routes: []Route{}},
		{Receiver: NullReceiver, Matchers: []string{`severity = "info"`}, Routes: []Route{}},
	}
	return cfg, nil
}

// YAML renders the configuration file.
func (c *AlertmanagerConfig) YAML() (string, error) {
	out, err := yaml.Marshal(c)
	return string(out), err
}

// Values returns the configuration as plain maps for the chart's
// alertmanager.config. Every top-level key the chart's default config has
// (global, route, inhibit_rules, receivers, templates) is set, and every
// key of its default route, so Helm's map merge leaves nothing of the
// default (which routes everything to "null") in place.
func (c *AlertmanagerConfig) Values() (map[string]any, error) {
	raw, err := yaml.Marshal(c)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	if err := yaml.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// UsesReceiversSecret reports whether any receiver reads a file from the
// receivers Secret, i.e. whether the pods must mount it.
func (c *AlertmanagerConfig) UsesReceiversSecret() bool {
	for _, r := range c.Receivers {
		if len(r.SlackConfigs) > 0 || len(r.PagerdutyConfigs) > 0 {
			return true
		}
	}
	return false
}
