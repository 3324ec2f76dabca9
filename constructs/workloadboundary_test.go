package constructs

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkloadBoundaryFencesOffTheStateStore(t *testing.T) {
	stack := newTestStack(t)
	_, err := NewWorkloadBoundary(stack, "boundary", &WorkloadBoundaryProps{
		Name: "spatialprops-dev-workload-boundary", StateBucket: "tfstate-spatialprops-dev-ap-southeast-2",
		LockTableArn: "arn:aws:dynamodb:ap-southeast-2:111122223333:table/tf-lock-spatialprops-dev-ap-southeast-2", StateKeyAlias: "alias/spatialprops-dev-tfstate",
	})
	require.NoError(t, err)
	doc := synth(t, stack)
	assert.Equal(t, "spatialprops-dev-workload-boundary", one(t, doc, "aws_iam_policy").Get("name").String())

	// no role under the boundary may write IAM or assume other roles
	for _, sid := range []string{"WorkloadServices", "WorkloadIam", "WorkloadLinkedRoles"} {
		for _, a := range strs(statementBySid(t, doc, sid).Get("actions")) {
			assert.NotContains(t, []string{"iam:*", "sts:*", "*", "iam:CreateRole", "iam:PutRolePolicy", "sts:AssumeRole"}, a)
		}
	}
	assert.Contains(t, statementBySid(t, doc, "WorkloadLinkedRoles").Get("condition").String(), "iam:AWSServiceName")
	// and whatever its own policy says, never the state store
	store := statementBySid(t, doc, "NeverTheStateStore")
	assert.Equal(t, "Deny", store.Get("effect").String())
	assert.ElementsMatch(t, []string{
		"arn:aws:s3:::tfstate-spatialprops-dev-ap-southeast-2", "arn:aws:s3:::tfstate-spatialprops-dev-ap-southeast-2/*",
		"arn:aws:dynamodb:ap-southeast-2:111122223333:table/tf-lock-spatialprops-dev-ap-southeast-2",
	}, strs(store.Get("resources")))
	key := statementBySid(t, doc, "NeverTheStateKey")
	assert.Equal(t, "Deny", key.Get("effect").String())
	assert.Contains(t, key.Get("condition").String(), "alias/spatialprops-dev-tfstate")

	_, err = NewWorkloadBoundary(newTestStack(t), "boundary", &WorkloadBoundaryProps{Name: "x"})
	require.EqualError(t, err, "boundary: name, stateBucket, lockTableArn and stateKeyAlias are required")
}
