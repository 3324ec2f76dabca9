package constructs

import (
	"testing"

	"github.com/aws/jsii-runtime-go"
	"github.com/hashicorp/terraform-cdk-go/cdktf"
	"github.com/stretchr/testify/require"
	"github.com/tidwall/gjson"

	"github.com/spatialprops/spatialprops-infra/internal/tfjson"
)

// testTags are complete required tags for test providers.
var testTags = map[string]string{
	"Environment": "dev", "Project": "spatial-properties", "Service": "test",
	"CostCenter": "platform", "Owner": "sre@spatial.properties",
}

// newTestStack returns a stack with a tagged AWS provider, ready for a
// construct under test.
func newTestStack(t *testing.T) cdktf.TerraformStack {
	t.Helper()
	app := cdktf.Testing_App(nil)
	stack := cdktf.NewTerraformStack(app, jsii.String("test"))
	_, err := NewAwsProvider(stack, "aws", &AwsProviderProps{Region: "ap-southeast-2", DefaultTags: testTags})
	require.NoError(t, err)
	return stack
}

// synth returns the stack's Terraform JSON as a gjson document.
func synth(t *testing.T, stack cdktf.TerraformStack) gjson.Result {
	t.Helper()
	return gjson.Parse(*cdktf.Testing_Synth(stack, jsii.Bool(true)))
}

// resources returns every resource of type typ, in synth order.
func resources(doc gjson.Result, typ string) []gjson.Result { return tfjson.Resources(doc, typ) }

// one returns the single resource of type typ and fails if there is not
// exactly one.
func one(t *testing.T, doc gjson.Result, typ string) gjson.Result {
	t.Helper()
	rs := resources(doc, typ)
	require.Len(t, rs, 1, "want exactly one %s", typ)
	return rs[0]
}

func policyDocs(doc gjson.Result) []gjson.Result { return tfjson.PolicyDocuments(doc) }

// statementBySid finds a statement by Sid across all policy documents.
var statementBySid = tfjson.MustStatement

func strs(r gjson.Result) []string { return tfjson.Strings(r) }
