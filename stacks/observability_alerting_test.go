package stacks

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"
	"gopkg.in/yaml.v3"

	"github.com/spatialprops/spatialprops-infra/envs"
)

func TestSNSAlertsGetAPublishOnlyRole(t *testing.T) {
	// GIVEN prod routed to an SNS topic
	cfg, err := envs.Load("prod", envs.Overrides{})
	require.NoError(t, err)
	topic := "arn:aws:sns:ap-southeast-2:111122223333:spatialprops-prod-alerts"
	cfg.Observability.Alerting = envs.Alerting{SNSTopicArn: topic}
	app := cdktf.Testing_App(nil)
	cluster := &ClusterOutputs{
		Name: "spatialprops-prod-eks", Endpoint: jsii.String("https://x"), CertificateAuthority: jsii.String("Y2E="),
		OidcProviderArn: jsii.String("arn:aws:iam::111122223333:oidc-provider/oidc.eks.ap-southeast-2.amazonaws.com/id/X"),
		OidcIssuerURL:   jsii.String("https://oidc.eks.ap-southeast-2.amazonaws.com/id/X"),
	}

	// WHEN the observability stack is built
	storage := &StorageOutputs{Telemetry: &TelemetryStorage{KeyArn: jsii.String("arn:aws:kms:ap-southeast-2:111122223333:key/telemetry")}}
	_, err = NewObservabilityStack(app, cfg, cluster, &PlatformOutputs{StorageClass: DefaultStorageClass}, storage)
	require.NoError(t, err)
	stack := app.Node().FindChild(jsii.String("prod-observability")).(cdktf.TerraformStack)
	doc := gjson.Parse(*cdktf.Testing_Synth(stack, jsii.Bool(false)))

	// THEN Alertmanager's service account may publish to that topic only,
	// through IRSA: no access key exists anywhere.
	var statements []gjson.Result
	doc.Get("data.aws_iam_policy_document").ForEach(func(_, d gjson.Result) bool {
		statements = append(statements, d.Get("statement").Array()...)
		return true
	})
	var publish gjson.Result
	var trusts []string
	for _, s := range statements {
		switch s.Get("sid").String() {
		case "PublishAlertsToTheConfiguredTopic":
			publish = s
		case "ServiceAccountOnly":
			for _, v := range s.Get("condition.#.values|@flatten").Array() {
				trusts = append(trusts, v.String())
			}
		}
	}
	require.True(t, publish.Exists())
	assert.Equal(t, []any{"sns:Publish"}, publish.Get("actions").Value())
	assert.Equal(t, []any{topic}, publish.Get("resources").Value())
	assert.Contains(t, trusts, "system:serviceaccount:observability:alertmanager")

	var values map[string]any
	doc.Get("resource.helm_release").ForEach(func(_, r gjson.Result) bool {
		if r.Get("name").String() == "kube-prometheus-stack" {
			require.NoError(t, yaml.Unmarshal([]byte(r.Get("values.0").String()), &values))
		}
		return true
	})
	sa := values["alertmanager"].(map[string]any)["serviceAccount"].(map[string]any)
	assert.Equal(t, "alertmanager", sa["name"])
	assert.Regexp(t, `^\$\{aws_iam_role\.alertmanager-irsa_role_\w+\.arn\}$`, sa["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"])
	assert.NotContains(t, values["alertmanager"].(map[string]any)["alertmanagerSpec"], "secrets", "SNS reads no file from the receivers Secret")
}
