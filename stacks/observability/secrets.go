package observability

// Kubernetes Secrets in the observability namespace that External Secrets
// Operator writes; charts read them by these names and keys.
const (
	// GrafanaAdminSecret holds Grafana's admin credentials, generated
	// in-cluster by an ESO Password generator (never in Terraform state).
	GrafanaAdminSecret      = "grafana-admin"
	GrafanaAdminUserKey     = "admin-user"
	GrafanaAdminPasswordKey = "admin-password"

	// AlertmanagerReceiversSecret is synced from the Secrets Manager secret
	// "<org>/<env>/alertmanager-receivers", which Terraform creates empty
	// and an operator fills (docs/observability.md). Alertmanager reads
	// the keys below through *_file fields, mounted from this Secret.
	AlertmanagerReceiversSecret = "alertmanager-receivers"
	// AlertmanagerReceiversSecretName is the Secrets Manager name suffix
	// (after "<org>/<env>/").
	AlertmanagerReceiversSecretName = "alertmanager-receivers"
	SlackWebhookURLKey              = "slack-webhook-url"
	PagerDutyRoutingKeyKey          = "pagerduty-routing-key"
)

// AlertmanagerReceiverKeys are the properties the Secrets Manager secret
// must hold, as a JSON object, e.g. {"slack-webhook-url": "...", ...}.
var AlertmanagerReceiverKeys = []string{SlackWebhookURLKey, PagerDutyRoutingKeyKey}
