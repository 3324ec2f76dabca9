package awscalls

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spatialprops/spatialprops-infra/internal/iameval"
)

// fixture is a stack's debug log from a real `make e2e` run, trimmed to
// one request per distinct call (testdata/README.md).
const fixture = "testdata/dev-identity.log"

func catalog(t *testing.T) *Catalog {
	t.Helper()
	root, err := iameval.RepoRoot()
	require.NoError(t, err)
	c, err := NewCatalog(root)
	require.NoError(t, err)
	return c
}

func TestParseRealLog(t *testing.T) {
	calls, requests, err := ParseFile(fixture)
	require.NoError(t, err)
	assert.Equal(t, len(calls), requests, "the fixture keeps one request per distinct call")
	seen := map[string]bool{}
	for _, c := range calls {
		assert.Equal(t, "dev-identity", c.Stack, "the stack is the file's name")
		seen[c.Service+" "+c.Operation+" "+c.ResourceType] = true
	}
	for _, want := range []string{
		"STS GetCallerIdentity provider",                                      // configuring the provider
		"STS GetCallerIdentity backend",                                       // the S3 backend's own client
		"S3 GetObject backend",                                                // reading the state
		"S3 PutObject backend",                                                // the lock file and the state
		"S3 HeadBucket aws_s3_bucket",                                         // a resource's read
		"STS GetCallerIdentity data.aws_caller_identity",                      // a data source
		"ACM PCA CreateCertificateAuthority aws_acmpca_certificate_authority", // a quoted service id with a blank
	} {
		assert.True(t, seen[want], "the fixture's calls include %q", want)
	}

	root := catalog(t)
	actions := map[string]bool{}
	for _, c := range calls {
		if IsExempt(c.Service, c.Operation) {
			continue
		}
		as, err := root.Actions(c.Service, c.Operation)
		require.NoError(t, err, "%s", c)
		for _, a := range as {
			actions[a] = true
		}
	}
	for _, want := range []string{"s3:ListBucket", "s3:GetObject", "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration",
		"s3:GetBucketObjectLockConfiguration", "s3:GetBucketPublicAccessBlock", "acm-pca:CreateCertificateAuthority"} {
		assert.True(t, actions[want], "the fixture's calls need %s", want)
	}
	for a := range actions {
		assert.NotContains(t, a, "HeadBucket", "HeadBucket is authorized as s3:ListBucket")
	}
}

func TestMultiLineEntriesAndOtherLines(t *testing.T) {
	log := `2026-12-07T19:59:01.227Z [DEBUG] provider.terraform-provider-aws_v5.100.0_x5: HTTP Request Sent: aws.region=ap-southeast-2 tf_resource_type=aws_s3_bucket
  http.request.body=
  | rpc.method=PutObject rpc.service=S3
   rpc.method=HeadBucket rpc.service=S3 rpc.system=aws-api
2026-12-07T19:59:01.228Z [DEBUG] provider.terraform-provider-aws_v5.100.0_x5: HTTP Response Received: rpc.method=HeadBucket rpc.service=S3 tf_resource_type=aws_s3_bucket
2026-12-07T19:59:01.229Z [DEBUG] provider.terraform-provider-aws_v5.100.0_x5: HTTP Request Sent: rpc.service="Route 53" rpc.method=ChangeResourceRecordSets tf_resource_type=aws_route53_record
2026-12-07T19:59:01.230Z [DEBUG] provider.terraform-provider-aws_v5.100.0_x5: HTTP Request Sent: rpc.service=S3 rpc.method=HeadBucket tf_resource_type=aws_s3_bucket http.request.header.amz_sdk_request="attempt=2; max=25"
2026-12-07T19:59:01.231Z [DEBUG] backend-s3: HTTP Request Sent: rpc.service=S3 rpc.method=GetObject tf_backend.operation=Get
2026-12-07T19:59:01.232Z [INFO]  ReferenceTransformer: "aws_s3_bucket.x" references: []
`
	calls, requests, err := Parse(strings.NewReader(log), "dev-x")
	require.NoError(t, err)
	assert.Equal(t, 4, requests, "requests sent, retries included; responses are not requests")
	assert.Equal(t, []Call{
		{Stack: "dev-x", Service: "Route 53", Operation: "ChangeResourceRecordSets", ResourceType: "aws_route53_record", Count: 1},
		{Stack: "dev-x", Service: "S3", Operation: "GetObject", ResourceType: Backend, Count: 1},
		{Stack: "dev-x", Service: "S3", Operation: "HeadBucket", ResourceType: "aws_s3_bucket", Count: 2},
	}, calls, "a body's text is not read as fields; the fields after it are")
}

func TestARequestWithoutItsOperationIsAnError(t *testing.T) {
	log := "2026-12-07T19:59:01.227Z [DEBUG] provider.terraform-provider-aws_v5.100.0_x5: HTTP Request Sent: rpc.service=S3 tf_resource_type=aws_s3_bucket\n"
	_, _, err := Parse(strings.NewReader(log), "dev-x")
	require.Error(t, err, "an AWS request that cannot be read is never skipped")
	assert.Contains(t, err.Error(), "dev-x: log line 1")
}

func TestOperationToAction(t *testing.T) {
	c := catalog(t)
	for _, tc := range []struct{ service, op, want string }{
		{"S3", "HeadBucket", "s3:ListBucket"},
		{"S3", "HeadObject", "s3:GetObject"},
		{"S3", "ListObjectsV2", "s3:ListBucket"},
		{"S3", "ListObjectVersions", "s3:ListBucketVersions"},
		{"S3", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"},
		{"S3", "PutBucketEncryption", "s3:PutEncryptionConfiguration"},
		{"S3", "GetBucketReplication", "s3:GetReplicationConfiguration"},
		{"S3", "DeleteObjects", "s3:DeleteObject"},
		{"S3", "GetBucketNotificationConfiguration", "s3:GetBucketNotification"},
		{"S3", "GetBucketCors", "s3:GetBucketCORS"},
		{"S3", "PutBucketPolicy", "s3:PutBucketPolicy"},
		{"DynamoDB", "CreateTable", "dynamodb:CreateTable"},
		{"Route 53", "ChangeResourceRecordSets", "route53:ChangeResourceRecordSets"},
		{"ACM PCA", "IssueCertificate", "acm-pca:IssueCertificate"},
		{"CloudWatch Logs", "PutRetentionPolicy", "logs:PutRetentionPolicy"},
		{"Elastic Load Balancing v2", "CreateTrustStore", "elasticloadbalancing:CreateTrustStore"},
		{"WAFV2", "GetWebACL", "wafv2:GetWebACL"},
		{"Secrets Manager", "DescribeSecret", "secretsmanager:DescribeSecret"},
	} {
		got, err := c.Actions(tc.service, tc.op)
		require.NoError(t, err, "%s %s", tc.service, tc.op)
		assert.Equal(t, []string{tc.want}, got, "%s %s", tc.service, tc.op)
	}
	got, err := c.Actions("CloudFront", "CreateDistributionWithTags")
	require.NoError(t, err)
	assert.Equal(t, []string{"cloudfront:CreateDistribution", "cloudfront:TagResource"}, got, "one call, two actions")
	assert.True(t, IsExempt("STS", "GetCallerIdentity"))
}

func TestUnknownServicesAndOperationsAreErrors(t *testing.T) {
	c := catalog(t)
	_, err := c.Actions("S3", "FrobnicateBucket")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown operation S3 FrobnicateBucket: s3:FrobnicateBucket is not an IAM action")
	assert.Contains(t, err.Error(), "exceptions table", "the message says where to add it")

	_, err = c.Actions("Frobnicator", "Start")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown AWS service "Frobnicator" (operation Start)`)

	// The check refuses a recording with an unknown operation rather
	// than leaving the call out.
	m := testModel(t)
	_, err = Check(m, c, "acme-test-gha-infra-deploy", []Call{{Stack: "test-storage", Service: "S3", Operation: "FrobnicateBucket", ResourceType: "aws_s3_bucket"}}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FrobnicateBucket")
}

// testModel is two hand-written stacks: test-cicd (the deploy role, which
// may create and read acme-test-* tables, create keys tagged for the env
// and write its state) and test-storage (a table and a key).
func testModel(t *testing.T) *iameval.Model {
	t.Helper()
	docs := map[string][]byte{}
	for _, id := range []string{"test-cicd", "test-storage"} {
		raw, err := os.ReadFile("testdata/" + id + ".json")
		require.NoError(t, err)
		docs[id] = raw
	}
	env, err := iameval.LoadEnv("test", docs)
	require.NoError(t, err)
	m, err := iameval.NewModel(env)
	require.NoError(t, err)
	return m
}

var testCalls = []Call{
	{Stack: "test-storage", Service: "DynamoDB", Operation: "CreateTable", ResourceType: "aws_dynamodb_table", Count: 1},
	{Stack: "test-storage", Service: "DynamoDB", Operation: "DescribeTable", ResourceType: "aws_dynamodb_table", Count: 3},
	{Stack: "test-storage", Service: "KMS", Operation: "CreateKey", ResourceType: "aws_kms_key", Count: 1},
	{Stack: "test-storage", Service: "S3", Operation: "PutObject", ResourceType: Backend, Count: 2},
	{Stack: "test-storage", Service: "STS", Operation: "GetCallerIdentity", ResourceType: Provider, Count: 1},
	// the cicd stack is deployed by a person: its calls are not the role's
	{Stack: "test-cicd", Service: "IAM", Operation: "CreateRole", ResourceType: "aws_iam_role", Count: 1},
}

func TestEveryRecordedActionAllowed(t *testing.T) {
	m := testModel(t)
	role, err := DeployRole(m)
	require.NoError(t, err)
	assert.Equal(t, "acme-test-gha-infra-deploy", role)
	rep, err := Check(m, catalog(t), role, testCalls, map[string]int{"test-storage": 8, "test-cicd": 1})
	require.NoError(t, err)
	assert.True(t, rep.OK(), rep.String())
	assert.Equal(t, []string{"test-storage"}, rep.Stacks, "human-deployed stacks are left out")
	assert.Equal(t, 8, rep.Requests)
	assert.Equal(t, 5, rep.Calls)
	assert.Equal(t, []string{"dynamodb:CreateTable", "dynamodb:DescribeTable", "kms:CreateKey", "s3:PutObject"}, rep.Actions)
	assert.Equal(t, []string{"STS GetCallerIdentity"}, rep.Exempt)
	assert.Contains(t, rep.String(), "all allowed for acme-test-gha-infra-deploy")
}

// withoutAction removes action from every statement of the role's inline
// policies (the model was built for this test alone).
func withoutAction(t *testing.T, m *iameval.Model, role, action string) {
	t.Helper()
	removed := false
	for _, p := range m.Role(role).Inline {
		for _, s := range p.Document["Statement"].([]any) {
			st := s.(map[string]any)
			var keep []any
			for _, a := range st["Action"].([]any) {
				if a == action {
					removed = true
					continue
				}
				keep = append(keep, a)
			}
			st["Action"] = keep
		}
	}
	require.True(t, removed, "%s grants %s", role, action)
}

func TestAMissingActionIsReported(t *testing.T) {
	m := testModel(t)
	// the statements' Action lists as the JSON has them (one is a string)
	for _, p := range m.Role("acme-test-gha-infra-deploy").Inline {
		for _, s := range p.Document["Statement"].([]any) {
			st := s.(map[string]any)
			if a, ok := st["Action"].(string); ok {
				st["Action"] = []any{a}
			}
		}
	}
	withoutAction(t, m, "acme-test-gha-infra-deploy", "dynamodb:CreateTable")
	rep, err := Check(m, catalog(t), "acme-test-gha-infra-deploy", testCalls, nil)
	require.NoError(t, err)
	require.False(t, rep.OK())
	require.Len(t, rep.Denied, 1, rep.String())
	d := rep.Denied[0]
	assert.Equal(t, "test-storage", d.Stack)
	assert.Equal(t, "dynamodb:CreateTable", d.Action)
	assert.Equal(t, "aws_dynamodb_table", d.Calls[0].ResourceType)
	assert.Contains(t, d.Why, "ImplicitlyDenied")
	assert.Contains(t, rep.String(), "test-storage: dynamodb:CreateTable DENIED (DynamoDB CreateTable by aws_dynamodb_table)")
}

func TestAConditionIsEvaluated(t *testing.T) {
	m := testModel(t)
	// A key created in another env's stack carries the wrong tag.
	calls := []Call{{Stack: "test-storage", Service: "KMS", Operation: "CreateKey", ResourceType: "aws_kms_key"}}
	rep, err := Check(m, catalog(t), "acme-test-gha-infra-deploy", calls, nil)
	require.NoError(t, err)
	require.True(t, rep.OK(), rep.String())

	for _, p := range m.Role("acme-test-gha-infra-deploy").Inline {
		for _, s := range p.Document["Statement"].([]any) {
			st := s.(map[string]any)
			if st["Sid"] == "Keys" {
				st["Condition"] = map[string]any{"StringEquals": map[string]any{"aws:RequestTag/Environment": "prod"}}
			}
		}
	}
	rep, err = Check(m, catalog(t), "acme-test-gha-infra-deploy", calls, nil)
	require.NoError(t, err)
	require.Len(t, rep.Denied, 1, "the create is evaluated with the tags the stack sends")
	assert.Equal(t, "kms:CreateKey", rep.Denied[0].Action)
}

func TestNoResourceToEvaluateOnIsADenial(t *testing.T) {
	m := testModel(t)
	calls := []Call{{Stack: "test-storage", Service: "SQS", Operation: "GetQueueAttributes", ResourceType: "aws_sqs_queue"}}
	rep, err := Check(m, catalog(t), "acme-test-gha-infra-deploy", calls, nil)
	require.NoError(t, err)
	require.Len(t, rep.Denied, 1)
	assert.Contains(t, rep.Denied[0].Why, "no resource of the test stacks that sqs:GetQueueAttributes applies to",
		"an action that takes a resource is never evaluated on * instead")
}

func TestTablesNameRealActions(t *testing.T) {
	c := catalog(t)
	for service := range servicePrefixes {
		_, err := c.TakesNoResource(servicePrefixes[service] + ":ListTagsForResource")
		if err != nil {
			assert.NotContains(t, err.Error(), "no IAM service", "%s's prefix is an IAM service", service)
		}
	}
	for service, ops := range exceptions {
		for op := range ops {
			_, err := c.Actions(service, op)
			assert.NoError(t, err, "the exception for %s %s names IAM actions", service, op)
			if want, err := Actions(service, op); err == nil && len(want) == 1 {
				assert.NotEqual(t, servicePrefixes[service]+":"+op, want[0], "%s %s maps by name: no exception needed", service, op)
			}
		}
	}
}
